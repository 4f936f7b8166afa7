"""Template variables: names, value precedence, injection safety and tidy spoken text.

The parser finds each ``{name}`` / ``{name|inline default}`` in the body and asks this
module for the text to speak. Precedence is: the caller's ``values`` (``--var``) over the
inline default over the front-matter default. Substitution happens after markers are
tokenised, and values lose their square brackets, so a value can never become a marker
(nor espeak's ``[[phoneme]]`` input); braces in a value are plain text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from kindvoice.errors import TemplateError, UnknownNameError, did_you_mean
from kindvoice.template.model import Pos, Variable

NAME_PATTERN = r"[A-Za-z_][A-Za-z0-9_-]*"
_NAME_RE = re.compile(NAME_PATTERN)

# An empty value leaves "Hello ." or ", welcome" behind; these put the sentence back together.
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([.,;:!?)])")
# punctuation an empty value leaves at the start of a sentence ("{name}, thank you" with no
# name), and the word after it, which now starts the sentence and takes a capital
_ORPHAN_PUNCT = re.compile(r"(?:^|(?<=[.!?]))[,;:]+(\s*)(\w?)")
_EMPTY_PARENS = re.compile(r"\(\s*\)")
# a vocative comma before an empty name ("Hola, {name}." -> "Hola,."): the sentence's own
# end wins
_DANGLING_PUNCT = re.compile(r"[,;:]+(?=[.!?])|,+(?=[;:])")


@dataclass(frozen=True)
class VarUse:
    """One ``{name}`` or ``{name|default}`` in the body (``inline_default`` None: no ``|``)."""

    name: str
    inline_default: str | None
    pos: Pos


def is_valid_name(name: str) -> bool:
    """True for a name the body syntax can refer to: letters, digits, ``_`` and ``-``."""
    return _NAME_RE.fullmatch(name) is not None


def clean_value(value: str) -> str:
    """A value as plain spoken text: square brackets removed, whitespace collapsed."""
    return " ".join(value.replace("[", "").replace("]", "").split())


def tidy(text: str) -> str:
    """Collapse whitespace and close the gaps an empty value leaves before punctuation."""
    text = _EMPTY_PARENS.sub("", text)
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", " ".join(text.split()))
    text = _DANGLING_PUNCT.sub("", text)
    text = _ORPHAN_PUNCT.sub(lambda m: m.group(1) + m.group(2).upper(), text)
    return " ".join(text.split())


def resolve(use: VarUse, declared: Mapping[str, Variable], values: Mapping[str, str]) -> str:
    """The cleaned text for one use; a use with no declaration and no inline default fails."""
    if use.name not in declared and use.inline_default is None:
        hint = did_you_mean(use.name, declared)
        raise TemplateError(
            use.pos.file,
            use.pos.line,
            use.pos.col,
            f"Unknown variable '{use.name}'.{hint} Declare it under variables: in the front "
            f"matter, or give an inline default like {{{use.name}|a friend}}",
        )
    if use.name in values:
        return clean_value(values[use.name])
    if use.inline_default is not None:
        return clean_value(use.inline_default)
    return clean_value(declared[use.name].default)


def check_values(values: Mapping[str, str], declared: Iterable[str], used: Iterable[str]) -> None:
    """Every key in ``values`` must be a variable the template declares or uses."""
    known = set(declared) | set(used)
    for key in values:
        if key not in known:
            # With no variables at all, "Choose one of: " would otherwise end in nothing.
            raise UnknownNameError("variable", key, known or ["(this template has none)"])


def resolved_values(
    uses: Iterable[VarUse], declared: Mapping[str, Variable], values: Mapping[str, str]
) -> dict[str, str]:
    """Each variable's value at its first use (declared but unused: ``values`` or default)."""
    out: dict[str, str] = {}
    for use in uses:
        if use.name not in out:
            out[use.name] = resolve(use, declared, values)
    for name, variable in declared.items():
        if name not in out:
            out[name] = clean_value(values.get(name, variable.default))
    return out
