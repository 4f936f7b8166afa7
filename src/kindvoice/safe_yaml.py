"""YAML read safely, for every file kindvoice reads YAML from (front matter, manifests,
course plans): plain types only, no aliases (refused while the document is composed,
before anything is expanded: no "billion laughs"), and no control characters or lone
surrogates in any value. ``load_yaml`` words every problem as one ``UsageError`` line at
``file:line:col``; front matter (``template.frontmatter``) uses ``safe_load`` and places
its own ``TemplateError``s.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from kindvoice.errors import UsageError

#: a line break as the template parser counts them
LINE_BREAK = re.compile(r"\r\n|\r|\n")

# characters no text here may hold: C0 controls but tab and line breaks, DEL, and lone
# surrogates (a YAML escape like "\ud800"); they break feeds, tags and UTF-8 output
_BAD_CHAR = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


class NoAliasLoader(yaml.SafeLoader):
    """The safe loader, refusing every alias (``*name``) as the document is composed.

    Aliases let a few hundred bytes ("billion laughs") stand for gigabytes once built;
    nothing kindvoice reads needs them, so the first one stops the load, before anything
    is expanded."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None,
                None,
                f"found the alias *{getattr(event, 'anchor', '')}: aliases (&name ... *name) "
                "are not allowed; write the value out in full",
                event.start_mark,
            )
        return super().compose_node(parent, index)


def bad_character(node: yaml.Node | None) -> tuple[int, int, str] | None:
    """The first scalar in ``node`` holding a control character or a lone surrogate:
    (0-based line, 0-based column, the character), or None. Walks without recursion."""
    stack = [node] if node is not None else []
    while stack:
        current = stack.pop()
        if isinstance(current, yaml.ScalarNode):
            found = _BAD_CHAR.search(str(current.value))
            if found:
                mark = current.start_mark
                return mark.line, mark.column, found.group()
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(reversed(current.value))
        elif isinstance(current, yaml.MappingNode):
            stack.extend(item for pair in reversed(current.value) for item in reversed(pair))
    return None


def describe_character(char: str) -> str:
    """``char`` in words: "a control character (U+0007)"."""
    kind = "a lone surrogate" if 0xD800 <= ord(char) <= 0xDFFF else "a control character"
    return f"{kind} (U+{ord(char):04X})"


class BadCharacter(Exception):
    """A scalar holding a control character or a lone surrogate (0-based line and col)."""

    def __init__(self, line: int, col: int, char: str) -> None:
        super().__init__(char)
        self.line, self.col, self.char = line, col, char


def safe_load(text: str) -> tuple[yaml.Node | None, Any]:
    """The YAML's node tree and its plain data: no aliases (refused while composing, before
    anything is expanded) and no control characters or lone surrogates in a value
    (``BadCharacter``). YAML's own errors pass through for the caller to place."""
    loader = NoAliasLoader(text)
    try:
        node = loader.get_single_node()
        bad = bad_character(node)
        if bad is not None:
            raise BadCharacter(*bad)
        return node, loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()


def load_yaml(text: str, file: str) -> Any:
    """A manifest's or plan's YAML, safely: plain types only, no aliases, no control
    characters or lone surrogates in any value; every problem is one ``UsageError``
    line starting ``file:line:col``."""
    try:
        return safe_load(text)[1]
    except BadCharacter as bad:
        raise UsageError(
            f"{file}:{bad.line + 1}:{bad.col + 1}: this value holds"
            f" {describe_character(bad.char)}: remove it"
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{file}:{mark.line + 1}:{mark.column + 1}" if mark else file
        problem = exc.problem or exc.context or "syntax error"
        raise UsageError(f"{where}: not valid YAML: {problem}") from None
    except yaml.reader.ReaderError as exc:
        line, col = position(text, exc.position)
        raise UsageError(
            f"{file}:{line}:{col}: a character YAML cannot read ({exc.reason}): remove it"
        ) from None
    except yaml.YAMLError as exc:
        raise UsageError(f"{file}: not valid YAML: {' '.join(str(exc).split())}") from None
    except RecursionError:
        raise UsageError(f"{file}: the YAML is nested too deeply") from None


def position(text: str, index: int) -> tuple[int, int]:
    """1-based (line, column) of character ``index``, counting line breaks as the parser does."""
    breaks = list(LINE_BREAK.finditer(text, 0, index))
    return len(breaks) + 1, index - (breaks[-1].end() if breaks else 0) + 1
