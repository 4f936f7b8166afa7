"""Practice templates: the text format, its parsed representation and the length solver."""
