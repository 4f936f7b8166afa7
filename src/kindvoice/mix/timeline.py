"""The timeline: where every sound starts, in samples, once the solver has a plan.

``lay_out()`` walks the script with the plan's repeat counts and pause lengths and
produces a flat, sorted list of events (speech, bells, breathing cues), the silences the
background may rise in or fade down for, the chapters, and the exact total. Sidecars,
chapters and the transcript all come from here, never from estimates. A ``[rotate]``
plays its next alternative each time it is reached, so the transcript holds the words
really spoken in each round. Speech events are keyed by ``Speech.key`` (the written
text, with a pace other than the normal one) and carry the written text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from kindvoice.audio import ms_to_samples
from kindvoice.template.fit import Plan
from kindvoice.template.model import (
    Bell,
    Breathe,
    Gate,
    Node,
    Pause,
    Repeat,
    Rotate,
    Script,
    Speech,
)


@dataclass(frozen=True)
class Event:
    """A sound on the timeline: ``kind`` is "speech", "bell" or "cue"; ``key`` names the
    audio (the phrase's ``Speech.key``, the bell name, or the cue kind); ``text`` is a
    phrase's written words (transcripts, subtitles; required for speech), empty for
    other sounds."""

    start: int
    length: int
    kind: str
    key: str
    strikes: int = 1
    text: str = ""

    def __post_init__(self) -> None:
        if self.kind == "speech" and not self.text:
            raise ValueError(f"the speech event {self.key!r} carries no words")

    @property
    def end(self) -> int:
        return self.start + self.length


@dataclass(frozen=True)
class Quiet:
    """An elastic silence; ``fade_background`` for ``[silence]`` (open, unguided sitting)."""

    start: int
    end: int
    fade_background: bool


@dataclass(frozen=True)
class Chapter:
    title: str
    start: int
    end: int


@dataclass(frozen=True)
class Timeline:
    """Everything the mixer and the sidecars need, in samples at the house rate."""

    total: int
    events: tuple[Event, ...]
    quiet: tuple[Quiet, ...]
    chapters: tuple[Chapter, ...]

    @property
    def speech(self) -> tuple[Event, ...]:
        return tuple(e for e in self.events if e.kind == "speech")


def lay_out(
    script: Script,
    plan: Plan,
    speech_samples: Mapping[str, int],
    *,
    paragraph_gap_samples: int,
    lead_in_samples: int,
    tail_samples: int,
    bell_name: Callable[[str | None], str],
    bell_samples: Callable[[str, int], int],
    cue_offsets: Callable[[Breathe], Sequence[tuple[int, str, int]]],
) -> Timeline:
    """Place every node of ``script`` by ``plan``; the total equals ``plan.total_samples``."""
    events: list[Event] = []
    quiet: list[Quiet] = []
    visits: dict[int, int] = {}  # rotate uid -> times reached (the solver counts the same way)
    t = lead_in_samples

    def walk(nodes: Sequence[Node]) -> None:
        nonlocal t
        for node in nodes:
            if isinstance(node, Speech):
                n = speech_samples[node.key]
                events.append(Event(t, n, "speech", node.key, text=node.text))
                t += n
            elif isinstance(node, Pause):
                if node.paragraph:
                    t += paragraph_gap_samples
                elif node.elastic:
                    n = plan.pause_samples[node.uid]
                    quiet.append(Quiet(t, t + n, node.fade_background))
                    t += n
                else:
                    n = ms_to_samples(node.min_ms)
                    if node.fade_background:
                        quiet.append(Quiet(t, t + n, True))
                    t += n
            elif isinstance(node, Bell):
                name = bell_name(node.kind)
                n = bell_samples(name, node.strikes)
                events.append(Event(t, n, "bell", name, node.strikes))
                t += n
            elif isinstance(node, Breathe):
                for offset, cue, n in cue_offsets(node):
                    events.append(Event(t + offset, n, "cue", cue))
                t += ms_to_samples(node.duration_ms)
            elif isinstance(node, Repeat):
                for _ in range(plan.count(node)):
                    walk(node.body)
            elif isinstance(node, Rotate):
                visit = visits.get(node.uid, 0)
                visits[node.uid] = visit + 1
                walk(node.alternatives[visit % len(node.alternatives)])
            elif isinstance(node, Gate):
                raise ValueError(f"{node.pos}: gates must be resolved before the timeline")

    starts: list[tuple[str, int]] = []
    for section in script.sections:
        starts.append((section.title, t))
        walk(section.body)
    t += tail_samples + plan.pad_samples
    if t != plan.total_samples:
        raise AssertionError(f"timeline total {t} != plan total {plan.total_samples}")
    chapters = []
    for i, (title, start) in enumerate(starts):
        # the first chapter owns the lead-in, the last one the tail
        begin = 0 if i == 0 else start
        end = starts[i + 1][1] if i + 1 < len(starts) else t
        chapters.append(Chapter(title, begin, end))
    return Timeline(t, tuple(sorted(events, key=lambda e: e.start)), tuple(quiet), tuple(chapters))
