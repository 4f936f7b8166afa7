"""Pacing evenness of the bundled guided practices: a phrase meant to be felt gets more
room than an instruction.

A script marks each spoken line the listener repeats or feels with ``<!-- felt -->`` at
the end of that line; every other spoken line is an instruction. At the script's default
length, planned with the fast espeak engine (no audio mixed), the mean silence after felt
lines must be at least twice the mean silence after instructions.

The silence after a line runs from the end of its speech to the next sound of any kind
(speech, bell, breathing cue); the last line of a track is left out (the tail follows).
Pieces of one line split by markers (``Soften. [pause 3s] Soften.``) count as one line:
the silence that counts is the one after the whole line.

Every English practice (``kind: practice``) must carry felt markers; a translation is
checked once its file has any (the translators add them in their own passes).
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from kindvoice.audio import samples_to_s
from kindvoice.pipeline import Prepared, prepare
from kindvoice.settings import MIN_BELL_GAP_MS, MIN_PHRASE_GAP_MS, RenderRequest, VoiceSettings
from kindvoice.template.library import bundled_dir
from kindvoice.template.model import Node, Repeat, Rotate, Speech, walk
from kindvoice.template.parse import load_template

FELT = "<!-- felt -->"
RATIO = 2.0  # mean silence after felt lines over mean silence after instructions
_FELT_LINE = re.compile(r"<!--\s*felt\s*-->")
_NOT_PRACTICES = {"TEMPLATE_FORMAT.md", "README.md"}


def _track_files() -> list[Path]:
    root = bundled_dir()
    return [
        path
        for path in sorted(root.glob("*.md")) + sorted(root.glob("*/*.md"))
        if path.name not in _NOT_PRACTICES and path.parent.name != "courses"
    ]


def _practice_files() -> list[Path]:
    return [p for p in TRACKS if load_template(p).meta.kind == "practice"]


def _label(path: Path) -> str:
    rel = path.relative_to(bundled_dir())
    return str(rel.with_suffix(""))


TRACKS = _track_files()
FILES = _practice_files()
ENGLISH = [p for p in FILES if p.parent == bundled_dir()]
MARKED = [p for p in FILES if FELT in p.read_text(encoding="utf-8")]


def felt_lines(path: Path) -> frozenset[int]:
    """1-based numbers of the lines that carry the felt marker."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(i for i, line in enumerate(lines, 1) if _FELT_LINE.search(line))


def play_order(
    nodes: Sequence[Node], counts: dict[int, int], visits: dict[int, int]
) -> Iterator[Speech]:
    """The speech nodes of a played (gates resolved) script in the order they sound."""
    for node in nodes:
        if isinstance(node, Speech):
            yield node
        elif isinstance(node, Repeat):
            for _ in range(counts.get(node.uid, node.min_count)):
                yield from play_order(node.body, counts, visits)
        elif isinstance(node, Rotate):
            visit = visits.get(node.uid, 0)
            visits[node.uid] = visit + 1
            yield from play_order(node.alternatives[visit % len(node.alternatives)], counts, visits)


@dataclass(frozen=True)
class Evenness:
    felt_s: list[float]  # silence after each felt line, as played
    instruction_s: list[float]  # silence after each instruction line, as played

    @property
    def felt_mean_s(self) -> float:
        return sum(self.felt_s) / len(self.felt_s) if self.felt_s else 0.0

    @property
    def instruction_mean_s(self) -> float:
        return sum(self.instruction_s) / len(self.instruction_s) if self.instruction_s else 0.0

    @property
    def ratio(self) -> float:
        return (
            self.felt_mean_s / self.instruction_mean_s if self.instruction_mean_s else float("inf")
        )


def evenness(prepared: Prepared, felt: frozenset[int]) -> Evenness:
    """Sort the silences after the played lines of ``prepared`` into felt and instruction."""
    timeline = prepared.timeline
    events = sorted(timeline.events, key=lambda e: e.start)
    speech = [e for e in events if e.kind == "speech"]
    nodes = [
        node
        for section in prepared.script.sections
        for node in play_order(section.body, prepared.plan.repeat_counts, {})
    ]
    # the walk above must meet the timeline's speech one for one, or the labels are wrong
    assert [n.text for n in nodes] == [e.text for e in speech]
    result = Evenness([], [])
    for i, (node, event) in enumerate(zip(nodes, speech, strict=True)):
        if i + 1 == len(nodes):
            break  # the track's last line: the tail follows, not a pause
        if nodes[i + 1].pos.line == node.pos.line:
            continue  # the line goes on after a marker: count the silence after all of it
        after = [e.start for e in events if e.start >= event.end and e is not event]
        gap_s = samples_to_s(min(after) - event.end)
        (result.felt_s if node.pos.line in felt else result.instruction_s).append(gap_s)
    return result


@functools.cache
def planned(path: Path) -> Prepared:
    request = RenderRequest(
        practice=str(path),
        output=Path("unused.mp3"),
        voice=VoiceSettings(engine="pyttsx3"),
    )
    return prepare(request)


def test_every_guided_practice_is_found() -> None:
    names = {_label(p) for p in ENGLISH}
    assert {"self-compassion-break", "loving-kindness", "inner-critic"} <= names
    assert not names & {"timer", "timer-intervals", "talk-myths"}


@pytest.mark.parametrize("path", ENGLISH, ids=_label)
def test_english_practices_mark_their_felt_lines(path: Path) -> None:
    assert felt_lines(path), f"{_label(path)}: no line ends with {FELT}"


@pytest.mark.parametrize("path", MARKED, ids=_label)
def test_every_felt_marker_stands_on_a_spoken_line(path: Path) -> None:
    """A marker on a line where no phrase starts (a pause, a heading, the second line of a
    paragraph) would label nothing: the phrase must start on the marker's line."""
    script = load_template(path)
    starts = {
        node.pos.line
        for section in script.sections
        for node in walk(section.body)
        if isinstance(node, Speech)
    }
    stray = sorted(felt_lines(path) - starts)
    assert not stray, f"{_label(path)}: {FELT} on lines {stray}, where no phrase starts"


@pytest.mark.slow
@pytest.mark.parametrize("path", sorted(set(ENGLISH) | set(MARKED)), ids=_label)
def test_felt_lines_get_more_room_than_instructions(path: Path) -> None:
    felt = felt_lines(path)
    assert felt, f"{_label(path)}: no line ends with {FELT}"
    prepared = planned(path)
    even = evenness(prepared, felt)
    assert even.felt_s, f"{_label(path)}: no felt line is played at the default length"
    assert even.ratio >= RATIO, (
        f"{_label(path)} at its default length: {even.felt_mean_s:.1f} s after felt lines "
        f"({len(even.felt_s)}), {even.instruction_mean_s:.1f} s after instructions "
        f"({len(even.instruction_s)}): ratio {even.ratio:.2f} < {RATIO:g}"
    )


@pytest.mark.slow
@pytest.mark.parametrize("path", TRACKS, ids=_label)
def test_no_phrase_runs_on_and_no_bell_strikes_on_a_word(path: Path) -> None:
    """Every bundled track, in every language, at its default: two phrases at least
    ``MIN_PHRASE_GAP_MS`` apart, a bell at least ``MIN_BELL_GAP_MS`` after speech."""
    events = planned(path).timeline.events
    phrase_s = bell_s = float("inf")
    for a, b in itertools.pairwise(events):
        if a.kind == "speech" and b.kind in ("speech", "bell"):
            gap_s = samples_to_s(b.start - a.end)
            if b.kind == "speech":
                phrase_s = min(phrase_s, gap_s)
            else:
                bell_s = min(bell_s, gap_s)
    assert phrase_s >= MIN_PHRASE_GAP_MS / 1000 - 1e-6, (
        f"{_label(path)}: phrases {phrase_s:.3f} s apart"
    )
    assert bell_s >= MIN_BELL_GAP_MS / 1000 - 1e-6, (
        f"{_label(path)}: a bell {bell_s:.3f} s after speech"
    )
