"""Block markers: ``[repeat]``, ``[from]``, ``[under]`` and ``[rotate]`` ... ``[or]`` ... and
their closers, for the body parser.

The parser keeps a stack of ``OpenBlock``s; text and markers go into the innermost one.
This module checks each block marker's arguments, that closers match their openers and
that ``[or]`` stands directly in a ``[rotate]``, and builds the finished ``Repeat``,
``Gate`` or ``Rotate`` node. Every problem is a ``TemplateError`` at the marker.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kindvoice.durations import FORMS, read_ms
from kindvoice.errors import DurationError, TemplateError
from kindvoice.template.limits import MAX_BLOCK_DEPTH
from kindvoice.template.model import Gate, Node, Pos, Repeat, Rotate

OPENERS = ("repeat", "from", "under", "rotate")
CLOSERS = tuple(f"/{word}" for word in OPENERS)
USAGE = {
    "repeat": "[repeat 3] or [repeat 1~6] (1 to 100) ... [/repeat]",
    "from": "[from 15m] ... [/from] (spoken when the session is at least that long)",
    "under": "[under 8m] ... [/under] (spoken when the session is shorter than that)",
    "rotate": "[rotate] first words [or] other words [/rotate]",
}

_EXAMPLE = {
    "repeat": "[repeat N]",
    "from": "[from 15m]",
    "under": "[under 8m]",
    "rotate": "[rotate]",
}

_INT = re.compile(r"[0-9]{1,6}")


def fail(pos: Pos, message: str) -> TemplateError:
    return TemplateError(pos.file, pos.line, pos.col, message)


def duration_ms(text: str, pos: Pos, marker: str) -> int:
    """A marker duration in milliseconds, in the one grammar (``durations``: ``500ms``,
    ``5s``, ``1.5s``, ``2m``, ``1m30s``, ``1:30``)."""
    try:
        return read_ms(text)
    except DurationError as exc:
        because = f" ({exc.reason})" if exc.reason else ""
        raise fail(pos, f"Bad duration '{text}' in [{marker}]{because}: write {FORMS}") from None


@dataclass
class OpenBlock:
    """A block marker waiting for its closer; ``nodes`` is the block (for a rotate, the
    alternative being written; the finished ones are in ``done``)."""

    word: str
    uid: int
    pos: Pos
    low: int = 0  # repeat: min count; gate: threshold (ms)
    high: int = 0  # repeat: max count
    nodes: list[Node] = field(default_factory=list)
    written: bool = False  # has text, variables or markers (even if values leave it silent)
    done: list[tuple[Node, ...]] = field(default_factory=list)
    part_pos: Pos | None = None  # where the current alternative starts
    gap: Pos | None = None  # a blank line stood before the opener

    @property
    def label(self) -> str:
        return f"[{self.word}]" if self.word == "rotate" else f"[{self.word} ...]"


def open_block(word: str, args: list[str], pos: Pos, uid: int) -> OpenBlock:
    """The block a ``[repeat]``, ``[from]``, ``[under]`` or ``[rotate]`` marker opens."""
    usage = f"write {USAGE[word]}"
    if word == "repeat":
        span = "".join(args)
        bounds = span.split("~")
        if not span or len(bounds) > 2 or not all(_INT.fullmatch(b) for b in bounds):
            raise fail(pos, f"Bad [repeat] count '{span}': {usage}")
        low, high = int(bounds[0]), int(bounds[-1])
        if not (1 <= low <= 100 and 1 <= high <= 100):
            raise fail(pos, f"[repeat] counts must be 1 to 100; got {span}")
        if low > high:
            raise fail(pos, f"[repeat {span}]: the minimum is larger than the maximum; swap them")
        return OpenBlock(word, uid, pos, low, high)
    if word == "rotate":
        if args:
            raise fail(pos, f"[rotate] takes nothing: {usage}")
        return OpenBlock(word, uid, pos, part_pos=pos)
    # [from 15m] / [under 8m]
    if not args:
        raise fail(pos, f"[{word}] needs a length: {usage}")
    if len(args) > 1:
        raise fail(pos, f"Too much in [{word} {' '.join(args)}]: {usage}")
    if "~" in args[0]:
        raise fail(pos, f"[{word}] takes one length, not a range: {usage}")
    return OpenBlock(word, uid, pos, duration_ms(args[0], pos, word))


def alternative(stack: list[OpenBlock], pos: Pos, args: list[str]) -> None:
    """``[or]``: end the current alternative of the innermost ``[rotate]``."""
    if args:
        raise fail(pos, "[or] takes nothing: write [rotate] A [or] B [/rotate]")
    if not stack or all(block.word != "rotate" for block in stack):
        raise fail(pos, "[or] outside a [rotate] block: write [rotate] A [or] B [/rotate]")
    block = stack[-1]
    if block.word != "rotate":
        raise fail(
            pos,
            f"[or] inside [{block.word}] (line {block.pos.line}): close it with "
            f"[/{block.word}] before the [or]",
        )
    _end_alternative(block, pos)
    block.part_pos = pos


def _end_alternative(block: OpenBlock, pos: Pos) -> None:
    if not block.written:
        start = block.part_pos or block.pos
        raise fail(
            start,
            "Empty alternative in [rotate]: put lines between [rotate], [or] and [/rotate]",
        )
    block.done.append(tuple(block.nodes))
    block.nodes = []
    block.written = False


def close_block(stack: list[OpenBlock], word: str, args: list[str], pos: Pos) -> Node | None:
    """Pop the block a ``[/word]`` closes and build its node (None: silent with these values)."""
    opener = word[1:]
    if args:
        raise fail(pos, f"[{word}] takes nothing: write [{word}]")
    if not stack or all(block.word != opener for block in stack):
        raise fail(pos, f"[{word}] without a matching {_EXAMPLE[opener]} before it")
    block = stack[-1]
    if block.word != opener:
        raise fail(
            pos,
            f"[{word}] found while [{block.word}] (line {block.pos.line}) is still open: "
            f"close it with [/{block.word}] first",
        )
    if len(stack) > MAX_BLOCK_DEPTH:
        raise fail(
            stack[MAX_BLOCK_DEPTH].pos,
            f"Blocks nest {len(stack)} deep here; at most {MAX_BLOCK_DEPTH} blocks ([repeat], "
            "[from], [under], [rotate]) may stand inside one another",
        )
    stack.pop()
    if opener == "rotate":
        _end_alternative(block, pos)
        if len(block.done) < 2:
            raise fail(
                block.pos,
                "[rotate] needs at least two alternatives: write [rotate] A [or] B [/rotate]",
            )
        return Rotate(block.uid, block.pos, tuple(block.done))
    if not block.written:
        raise fail(
            block.pos, f"Empty [{opener}] block: put lines between [{opener} ...] and [{word}]"
        )
    if not block.nodes:
        # Only empty variable values were inside: whether a template is valid must not
        # depend on values, so the block quietly plays nothing.
        return None
    if opener == "repeat":
        return Repeat(block.uid, block.pos, block.low, block.high, tuple(block.nodes))
    return Gate(block.uid, block.pos, opener, block.low, tuple(block.nodes))


def unclosed(block: OpenBlock, heading_line: int | None = None) -> TemplateError:
    """The error for a block still open at a heading (on ``heading_line``) or at the end."""
    if heading_line is None:
        return fail(block.pos, f"[{block.word}] is not closed: add [/{block.word}] after its lines")
    return fail(
        block.pos,
        f"[{block.word}] is not closed before the section on line {heading_line}: "
        f"add [/{block.word}] before the heading",
    )
