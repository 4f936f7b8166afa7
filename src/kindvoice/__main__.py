"""``python -m kindvoice``: the same as the ``kindvoice`` command."""

from kindvoice.cli import main

main()
