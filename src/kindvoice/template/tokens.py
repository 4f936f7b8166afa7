"""Body tokens: comments masked out (keeping columns), then each line split into literal
text, ``{variables}`` and ``[markers]`` with their file:line:col positions."""

from __future__ import annotations

import re
from dataclasses import dataclass

from kindvoice.errors import TemplateError
from kindvoice.template import variables as var
from kindvoice.template.model import Pos

_VAR = re.compile(r"\{[ \t]*(" + var.NAME_PATTERN + r")[ \t]*(?:\|([^{}]*))?\}")


@dataclass(frozen=True)
class Text:
    text: str
    pos: Pos


@dataclass(frozen=True)
class Marker:
    content: str
    pos: Pos


Token = Text | var.VarUse | Marker


def mask_comments(lines: list[str], first_line: int, file: str) -> list[str | None]:
    """Each line with ``<!-- -->`` replaced by spaces; None for a line that was only comment."""
    out: list[str | None] = []
    open_at: tuple[int, int] | None = None
    for offset, line in enumerate(lines):
        pieces: list[str] = []
        had_comment = open_at is not None
        i = 0
        while i <= len(line):
            if open_at is not None:
                end = line.find("-->", i)
                if end < 0:
                    pieces.append(" " * (len(line) - i))
                    break
                pieces.append(" " * (end + 3 - i))
                i, open_at = end + 3, None
            else:
                start = line.find("<!--", i)
                if start < 0:
                    pieces.append(line[i:])
                    break
                pieces.append(line[i:start])
                open_at, had_comment = (first_line + offset, start + 1), True
                pieces.append("    ")
                i = start + 4
        masked = "".join(pieces)
        out.append(None if had_comment and not masked.strip() else masked)
    if open_at is not None:
        raise TemplateError(file, *open_at, "Comment is not closed: add '-->' where it should end")
    return out


def tokenize(line: str, start: int, line_no: int, file: str) -> list[Token]:
    """Split one line (from index ``start``) into literal text, variables and markers."""
    tokens: list[Token] = []
    literal: list[str] = []
    literal_col = start

    def flush_literal(next_col: int) -> None:
        nonlocal literal_col
        if literal:
            tokens.append(Text("".join(literal), Pos(file, line_no, literal_col + 1)))
            literal.clear()
        literal_col = next_col

    i = start
    while i < len(line):
        char = line[i]
        pair = line[i : i + 2]
        if pair in ("{{", "}}"):
            if not literal:
                literal_col = i
            literal.append(char)
            i += 2
        elif char == "{":
            match = _VAR.match(line, i)
            if match is None:
                raise TemplateError(
                    file,
                    line_no,
                    i + 1,
                    "Bad variable: write {name} or {name|default}, or '{{' for a literal brace",
                )
            flush_literal(match.end())
            default = match.group(2)
            pos = Pos(file, line_no, i + 1)
            tokens.append(
                var.VarUse(match.group(1), default.strip() if default is not None else None, pos)
            )
            i = match.end()
        elif char == "}":
            raise TemplateError(file, line_no, i + 1, "Stray '}': write '}}' for a literal brace")
        elif char == "[" and i + 1 < len(line) and (line[i + 1].isalpha() or line[i + 1] == "/"):
            end = line.find("]", i)
            if end < 0:
                raise TemplateError(
                    file, line_no, i + 1, "Marker is not closed: add ']' (markers stay on one line)"
                )
            flush_literal(end + 1)
            tokens.append(Marker(line[i + 1 : end], Pos(file, line_no, i + 1)))
            i = end + 1
        else:
            if not literal:
                literal_col = i
            literal.append(char)
            i += 1
    flush_literal(len(line))
    return tokens
