"""The body of a template: its lines read into sections of ``Node``s (``Body``).

The body is read line by line: comments are masked out first (keeping columns), then each
line is a blank (paragraph break), a ``##`` heading (new section) or text, which is
tokenised into literal text, ``{variables}`` and ``[markers]``. Variable values are
substituted after tokenising, so a value is always plain spoken text. The block markers
([repeat], [from], [under], [rotate]) are ``blocks``'s; ``parse`` calls this module.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import NoReturn

from kindvoice.errors import TemplateError, did_you_mean
from kindvoice.settings import NORMAL_PACE, PACE_SHIFTS
from kindvoice.template import blocks, limits
from kindvoice.template import variables as var
from kindvoice.template.model import (
    Bell,
    Breathe,
    Meta,
    Node,
    Pause,
    Pos,
    Section,
    Speech,
)
from kindvoice.template.pronounce import RespellingTooLong, respell
from kindvoice.template.tokens import Marker, mask_comments, tokenize

log = logging.getLogger(__name__)

# ---------------------------------------------------------------- body tokens

_HEADING = re.compile(r" {0,3}(#+)[ \t]*(.*?)(?:[ \t]+#+)?[ \t]*")
_BULLET = re.compile(r"[ \t]*(?:[-*+>]|[0-9]{1,3}[.)])[ \t]+")
_EMPHASIS = re.compile(r"\*+|(?<!\w)_+|_+(?!\w)")
_SPOKEN = re.compile(r"\w")

_MARKERS = (
    "pause",
    "silence",
    "bell",
    "breathe",
    "pace",
    "or",
    *blocks.OPENERS,
    *blocks.CLOSERS,
)
_MARKER_LIST = (
    "[pause 5s], [silence 1m~], [bell], [breathe 4], [pace slower], [repeat 2] ... [/repeat], "
    "[from 15m] ... [/from], [under 8m] ... [/under], [rotate] A [or] B [/rotate]"
)
_INT = re.compile(r"[0-9]{1,6}")
_NUMBER = re.compile(r"[0-9]{1,6}(?:\.[0-9]{1,6})?")
_BELL_KIND = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_BREATHE_DEFAULTS = {"in": 4.0, "hold": 0.0, "out": 6.0}
#: the shortest breath in or out a listener can follow (a shorter one plays nothing)
MIN_BREATH_PHASE_S = 0.5


# ---------------------------------------------------------------- body parser


class Body:
    """Builds sections from body lines; holds the open repeats and the pending speech."""

    def __init__(self, file: str, meta: Meta, values: Mapping[str, str]) -> None:
        self.file = file
        self.meta = meta
        self.declared = {v.name: v for v in meta.variables}
        self.values = values
        self.uses: list[var.VarUse] = []
        self.resolved: dict[tuple[str, str | None], str] = {}
        self.sections: list[Section] = []
        self.section_title = meta.title
        self.section_pos: Pos | None = None  # None: content before the first heading
        self.nodes: list[Node] = []
        self.blocks: list[blocks.OpenBlock] = []
        self.pieces: list[tuple[str, Pos]] = []  # the speech being gathered
        self.gap: Pos | None = None  # a blank line seen since the last node was added
        self.pace = NORMAL_PACE  # the section's ``[pace NAME]`` so far
        self.next_uid = 0
        self.written = False  # any text, variable or marker at all
        self.spoken_chars = 0  # what the voice is given so far, for limits.MAX_SPOKEN_CHARS

    # -- helpers

    def fail(self, pos: Pos, message: str) -> NoReturn:
        raise TemplateError(pos.file, pos.line, pos.col, message)

    def uid(self) -> int:
        self.next_uid += 1
        return self.next_uid

    def target(self) -> list[Node]:
        return self.blocks[-1].nodes if self.blocks else self.nodes

    def add(self, node: Node) -> None:
        self.target().append(node)
        self.gap = None

    def value(self, use: var.VarUse) -> str:
        self.uses.append(use)
        key = (use.name, use.inline_default)
        if key not in self.resolved:  # a long value used many times is cleaned once
            self.resolved[key] = var.resolve(use, self.declared, self.values)
        return self.resolved[key]

    # -- lines

    def parse(self, lines: list[str], first_line: int) -> tuple[Section, ...]:
        for offset, line in enumerate(mask_comments(lines, first_line, self.file)):
            line_no = first_line + offset
            if line is None:
                continue
            if not line.strip():
                self.flush()
                self.gap = self.gap or Pos(self.file, line_no, 1)
            elif heading := _HEADING.fullmatch(line):
                self.heading(heading, line_no)
            else:
                self.text_line(line, line_no)
        self.flush()
        if self.blocks:
            raise blocks.unclosed(self.blocks[-1])
        self.close_section()
        if not any(section.body for section in self.sections):
            message = (
                "The template has nothing to play: write the lines to speak (and markers "
                "like [bell]) below the front matter"
            )
            if self.written:
                message = "With these variable values the template has nothing to play"
            self.fail(Pos(self.file, first_line, 1), message)
        return tuple(self.sections)

    def heading(self, match: re.Match[str], line_no: int) -> None:
        pos = Pos(self.file, line_no, match.start(1) + 1)
        if len(match.group(1)) != 2:
            self.fail(pos, "Only '## ' headings start sections: write '## Title'")
        if not match.group(2):
            self.fail(pos, "A section heading needs a title: write '## Title'")
        self.flush()
        if self.blocks:
            raise blocks.unclosed(self.blocks[-1], line_no)
        self.close_section()
        parts = []
        for token in tokenize(match.string[: match.end(2)], match.start(2), line_no, self.file):
            if isinstance(token, Marker):
                self.fail(token.pos, "Headings are not spoken: put the marker on its own line")
            parts.append(self.value(token) if isinstance(token, var.VarUse) else _plain(token.text))
        limits.check_phrase_chars(pos, sum(map(len, parts)), "This heading")
        self.section_title = var.tidy("".join(parts))
        self.section_pos = pos

    def close_section(self) -> None:
        if self.section_pos is None:
            if self.nodes:  # content before the first heading becomes a section
                self.sections.append(
                    Section(self.section_title, self.nodes[0].pos, tuple(self.nodes))
                )
        else:
            self.sections.append(Section(self.section_title, self.section_pos, tuple(self.nodes)))
        self.nodes = []
        self.gap = None
        self.pace = NORMAL_PACE

    def text_line(self, line: str, line_no: int) -> None:
        bullet = _BULLET.match(line)
        if self.pieces:
            self.pieces.append((" ", self.pieces[-1][1]))
        for token in tokenize(line, bullet.end() if bullet else 0, line_no, self.file):
            if isinstance(token, Marker):
                self.flush()
                if not token.content.startswith("/") and token.content.split()[0] != "or":
                    self.mark_written()  # closers and [or] end a block, they are not in it
                self.marker(token.content, token.pos)
            elif isinstance(token, var.VarUse):
                self.mark_written()
                self.pieces.append((self.value(token), token.pos))
            else:
                lead = len(token.text) - len(token.text.lstrip())
                pos = Pos(self.file, line_no, token.pos.col + lead)
                text = _plain(token.text)
                if _SPOKEN.search(text):
                    self.mark_written()
                self.pieces.append((text, pos))

    def mark_written(self) -> None:
        self.written = True
        if self.blocks:
            self.blocks[-1].written = True

    def flush(self) -> None:
        """Turn the gathered pieces into one Speech (dropped when nothing is left to say)."""
        if not self.pieces:
            return
        pieces, self.pieces = self.pieces, []
        pos = next((p for t, p in pieces if t.strip()), pieces[0][1])
        # summed before joining: a long value used many times is still one string each
        limits.check_phrase_chars(pos, sum(len(t) for t, _ in pieces))
        _check_tokens(pieces)
        text = var.tidy("".join(text for text, _ in pieces))
        if not _SPOKEN.search(text):
            return
        target = self.target()
        if self.gap is not None and target and isinstance(target[-1], Speech):
            target.append(Pause(self.uid(), self.gap, 0, 0, paragraph=True))
        try:
            spoken = respell(text, self.meta.pronounce, limits.MAX_PHRASE_CHARS)
        except RespellingTooLong as exc:
            limits.check_phrase_chars(pos, exc.args[0])
            raise  # cannot happen: the check above raises
        found = limits.long_token(spoken) if spoken != text else None
        if found:
            self.fail(pos, limits.token_problem(found.group(), " after its 'pronounce' respelling"))
        self.spoken_chars += len(spoken)
        limits.check_spoken_chars(pos, self.spoken_chars)
        lead_gap = self.gap is not None
        self.add(Speech(self.uid(), pos, text, spoken, lead_gap=lead_gap, pace=self.pace))

    # -- markers

    def marker(self, content: str, pos: Pos) -> None:
        words = content.split()
        word = words[0].lower()
        args = words[1:]
        if word in ("pause", "silence"):
            self.add(self.pause(word, args, pos))
        elif word == "bell":
            self.add(self.bell(args, pos))
        elif word == "breathe":
            self.add(self.breathe(args, pos))
        elif word == "pace":
            self.pace = self.pace_name(args, pos)
        elif word in blocks.OPENERS:
            block = blocks.open_block(word, args, pos, self.uid())
            block.gap = self.gap
            self.blocks.append(block)
            if word == "repeat":  # no paragraph gaps at a repeat's edges
                self.gap = None
        elif word == "or":
            blocks.alternative(self.blocks, pos, args)
            self.gap = self.blocks[-1].gap  # each alternative follows what stands before
        elif word in blocks.CLOSERS:
            node = blocks.close_block(self.blocks, word, args, pos)
            if node is None:
                log.debug("%s: the [%s] block is silent with these values", pos, word[1:])
                return
            self.add(node)
        else:
            hint = did_you_mean(word, _MARKERS, shape="[{}]")
            self.fail(pos, f"Unknown marker '[{words[0]}]'.{hint} Valid markers: {_MARKER_LIST}")

    def pace_name(self, args: list[str], pos: Pos) -> str:
        """``[pace slower]``: the voice from here to the section's end (not inside a block,
        where it would depend on the length)."""
        choices = ", ".join(f"[pace {name}]" for name in PACE_SHIFTS)
        if self.blocks:
            self.fail(pos, f"Put [pace] outside the [{self.blocks[-1].word}] block: {choices}")
        if len(args) != 1 or args[0].lower() not in PACE_SHIFTS:
            got = f" '{' '.join(args)}'" if args else ""
            self.fail(pos, f"Unknown pace{got}: write one of {choices}")
        return args[0].lower()

    def pause(self, word: str, args: list[str], pos: Pos) -> Pause:
        usage = f"write [{word} 5s], [{word} 10s~60s], [{word} 20s~] or [{word} 10s~60s x2]"
        weight = 1.0
        if args and args[-1][:1] in ("x", "X"):
            text = args.pop()[1:]
            if not _NUMBER.fullmatch(text) or float(text) <= 0:
                self.fail(pos, f"Bad weight 'x{text}' in [{word}]: use a positive number, like x2")
            weight = float(text)
        span = "".join(args)
        if not span:
            self.fail(pos, f"[{word}] needs a length: {usage}")
        bounds = span.split("~")
        if len(bounds) > 2:
            self.fail(pos, f"Bad length '{span}' in [{word}]: {usage}")
        low = blocks.duration_ms(bounds[0], pos, word)
        high: int | None = low
        if len(bounds) == 2:
            high = blocks.duration_ms(bounds[1], pos, word) if bounds[1] else None
        if high is not None and low > high:
            self.fail(pos, f"[{word} {span}]: the minimum is longer than the maximum; swap them")
        if weight != 1.0 and high == low:
            self.fail(pos, f"A weight only applies to an elastic pause: {usage}")
        return Pause(self.uid(), pos, low, high, weight=weight, fade_background=word == "silence")

    def bell(self, args: list[str], pos: Pos) -> Bell:
        usage = "write [bell], [bell soft], [bell 3] or [bell soft 3] (1 to 12 strikes)"
        kind: str | None = None
        strikes = 1
        if args and not args[0].isdigit():
            kind = args.pop(0)
            if not _BELL_KIND.fullmatch(kind):
                self.fail(pos, f"Bad bell kind '{kind}': {usage}")
        if args:
            count = args.pop(0)
            if not _INT.fullmatch(count):
                self.fail(pos, f"Bad bell strikes '{count}': {usage}")
            strikes = int(count)
        if args:
            self.fail(pos, f"Too much in [bell]: {usage}")
        if not 1 <= strikes <= 12:
            self.fail(pos, f"[bell] strikes must be 1 to 12; got {strikes}")
        return Bell(self.uid(), pos, kind, strikes)

    def breathe(self, args: list[str], pos: Pos) -> Breathe:
        usage = "write [breathe 4] or [breathe 4 in=4 hold=2 out=6] (seconds per phase)"
        if not args or not _INT.fullmatch(args[0]):
            self.fail(pos, f"[breathe] needs a number of breaths: {usage}")
        count = int(args[0])
        if not 1 <= count <= 200:
            self.fail(pos, f"[breathe] takes 1 to 200 breaths; got {count}")
        phases = dict(_BREATHE_DEFAULTS)
        seen: set[str] = set()
        for arg in args[1:]:
            key, _, text = arg.partition("=")
            if key not in phases:
                hint = did_you_mean(key, phases, shape="'{}='")
                self.fail(pos, f"Unknown [breathe] setting '{arg}'.{hint} {usage}")
            if key in seen:
                self.fail(pos, f"[breathe] sets '{key}' twice: keep one")
            seen.add(key)
            number = text.removesuffix("s")
            if not _NUMBER.fullmatch(number):
                self.fail(
                    pos, f"Bad [breathe] {key}='{text}': give seconds as a number, like {key}=4"
                )
            seconds = float(number)
            if seconds > 60 or (key != "hold" and seconds < MIN_BREATH_PHASE_S):
                low = "0" if key == "hold" else f"{MIN_BREATH_PHASE_S:g}"
                self.fail(pos, f"[breathe] {key}={text} is out of range: give {low} to 60 seconds")
            phases[key] = seconds
        return Breathe(
            self.uid(),
            pos,
            count,
            in_ms=round(phases["in"] * 1000),
            hold_ms=round(phases["hold"] * 1000),
            out_ms=round(phases["out"] * 1000),
        )


def _check_tokens(pieces: list[tuple[str, Pos]]) -> None:
    """Raise at the first word over ``limits.MAX_TOKEN_CHARS``, at its line and column
    (the column of the ``{variable}`` when a value holds it)."""
    found = limits.long_token("".join(text for text, _ in pieces))
    if found is None:
        return
    start = 0
    for text, pos in pieces:
        if start + len(text) > found.start():
            lead = len(text) - len(text.lstrip())
            col = pos.col + max(0, found.start() - start - lead)
            raise TemplateError(pos.file, pos.line, col, limits.token_problem(found.group(), ""))
        start += len(text)


def _plain(text: str) -> str:
    """Literal text without Markdown emphasis (``*word*``, ``_word_``): never spoken."""
    return _EMPHASIS.sub("", text)
