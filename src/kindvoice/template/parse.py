"""Template text -> ``Script`` IR: the public entry points.

This module owns TEMPLATE_FORMAT.md; the front matter is read in ``frontmatter``, the
tokens in ``tokens`` and the block markers ([repeat], [from], [under], [rotate]) in
``blocks``. ``parse_template`` is pure (no I/O) and
``load_template`` only reads. Every problem is a ``TemplateError`` with the file, line and
column (1-based) in the template file and a message that says how to fix it.

The body is read by ``body.Body``: line by line, each a blank, a heading or text with
``{variables}`` and ``[markers]``; variable values are substituted after tokenising, so a
value is always plain spoken text.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from pathlib import Path

from kindvoice.errors import (
    AudioIOError,
    TemplateError,
    UsageError,
    check_regular_file,
)
from kindvoice.safe_yaml import LINE_BREAK, position
from kindvoice.template import limits
from kindvoice.template import variables as var
from kindvoice.template.body import Body
from kindvoice.template.frontmatter import parse_meta, split_front_matter
from kindvoice.template.model import (
    Script,
)

log = logging.getLogger(__name__)

MAX_TEMPLATE_BYTES = 1024 * 1024

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


# ---------------------------------------------------------------- public API


def parse_template(text: str, file: str, values: Mapping[str, str] | None = None) -> Script:
    """Parse template text into a ``Script``; ``file`` names it in errors. Pure: no I/O.

    ``values`` (from ``--var``) override inline and front-matter defaults; a key the
    template neither declares nor uses raises ``UnknownNameError``.
    """
    values = dict(values or {})
    text = text.removeprefix("\ufeff")
    bad = _CONTROL.search(text)
    if bad:
        line, col = position(text, bad.start())
        raise TemplateError(
            file, line, col, f"Control character U+{ord(bad.group()):04X} in the text: remove it"
        )
    lines = LINE_BREAK.split(text)
    yaml_text, body_start = split_front_matter(lines, file)
    meta = parse_meta(yaml_text, file)
    body = Body(file, meta, values)
    sections = body.parse(lines[body_start:], body_start + 1)
    var.check_values(values, body.declared, (use.name for use in body.uses))
    log.debug("parsed %s: %d sections", file, len(sections))
    script = Script(
        meta=meta,
        sections=sections,
        source=file,
        values=var.resolved_values(body.uses, body.declared, values),
    )
    limits.check_script(script)  # bounded work: before any length is solved or spoken
    return script


def load_template(path: Path, values: Mapping[str, str] | None = None) -> Script:
    """Read and parse a template file (strict UTF-8, at most 1 MB, no binary). Never writes."""
    file = str(path)
    check_regular_file(path, "template")
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_TEMPLATE_BYTES + 1)
    except FileNotFoundError:
        raise UsageError(f"Template file '{file}' not found") from None
    except IsADirectoryError:
        raise UsageError(f"'{file}' is a folder, not a template file") from None
    except OSError as exc:
        raise AudioIOError(f"Cannot read template '{file}': {exc.strerror or exc}") from None
    if len(data) > MAX_TEMPLATE_BYTES:
        raise TemplateError(
            file, 1, 1, "File is over 1 MB: a template is a text script, not a recording or book"
        )
    if not data.strip():
        raise TemplateError(file, 1, 1, "File is empty: start with '---', 'title: ...', '---'")
    nul = data.find(b"\x00")
    if nul >= 0:
        line, col = _byte_position(data, nul)
        raise TemplateError(
            file, line, col, "This is a binary file, not a text template (it contains NUL bytes)"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, col = _byte_position(data, exc.start)
        raise TemplateError(
            file,
            line,
            col,
            f"Byte 0x{data[exc.start]:02x} is not UTF-8: save the file as UTF-8 in your editor",
        ) from None
    return parse_template(text, file, values)


def _byte_position(data: bytes, index: int) -> tuple[int, int]:
    """1-based (line, column in characters) of byte ``index``."""
    before = data[:index].decode("utf-8", errors="replace")
    return position(before, len(before))
