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
    placer = _Placer(
        plan, speech_samples, paragraph_gap_samples, bell_name, bell_samples, cue_offsets
    )
    placer.t = lead_in_samples
    starts: list[tuple[str, int]] = []
    for section in script.sections:
        starts.append((section.title, placer.t))
        placer.walk(section.body)
    t = placer.t + tail_samples + plan.pad_samples
    if t != plan.total_samples:
        raise AssertionError(f"timeline total {t} != plan total {plan.total_samples}")
    chapters = []
    for i, (title, start) in enumerate(starts):
        # the first chapter owns the lead-in, the last one the tail
        begin = 0 if i == 0 else start
        end = starts[i + 1][1] if i + 1 < len(starts) else t
        chapters.append(Chapter(title, begin, end))
    events = tuple(sorted(placer.events, key=lambda e: e.start))
    return Timeline(t, events, tuple(placer.quiet), tuple(chapters))


class _Placer:
    """Walks the nodes in play order, placing each at ``t`` (samples) and moving on."""

    def __init__(
        self,
        plan: Plan,
        speech_samples: Mapping[str, int],
        paragraph_gap_samples: int,
        bell_name: Callable[[str | None], str],
        bell_samples: Callable[[str, int], int],
        cue_offsets: Callable[[Breathe], Sequence[tuple[int, str, int]]],
    ) -> None:
        self.plan = plan
        self.speech_samples = speech_samples
        self.paragraph_gap_samples = paragraph_gap_samples
        self.bell_name = bell_name
        self.bell_samples = bell_samples
        self.cue_offsets = cue_offsets
        self.t = 0
        self.events: list[Event] = []
        self.quiet: list[Quiet] = []
        self.visits: dict[int, int] = {}  # rotate uid -> times reached (as the solver counts)

    def walk(self, nodes: Sequence[Node]) -> None:
        for node in nodes:
            if isinstance(node, Speech):
                n = self.speech_samples[node.key]
                self.events.append(Event(self.t, n, "speech", node.key, text=node.text))
                self.t += n
            elif isinstance(node, Pause):
                self.pause(node)
            elif isinstance(node, Bell):
                name = self.bell_name(node.kind)
                n = self.bell_samples(name, node.strikes)
                self.events.append(Event(self.t, n, "bell", name, node.strikes))
                self.t += n
            elif isinstance(node, Breathe):
                for offset, cue, n in self.cue_offsets(node):
                    self.events.append(Event(self.t + offset, n, "cue", cue))
                self.t += ms_to_samples(node.duration_ms)
            elif isinstance(node, Repeat):
                for _ in range(self.plan.count(node)):
                    self.walk(node.body)
            elif isinstance(node, Rotate):
                visit = self.visits.get(node.uid, 0)
                self.visits[node.uid] = visit + 1
                self.walk(node.alternatives[visit % len(node.alternatives)])
            elif isinstance(node, Gate):
                raise ValueError(f"{node.pos}: gates must be resolved before the timeline")

    def pause(self, node: Pause) -> None:
        t = self.t
        if node.paragraph:
            self.t += self.paragraph_gap_samples
        elif node.elastic:
            n = self.plan.pause_samples[node.uid]
            self.quiet.append(Quiet(t, t + n, node.fade_background))
            self.t += n
        else:
            n = ms_to_samples(node.min_ms)
            if node.fade_background:
                self.quiet.append(Quiet(t, t + n, True))
            self.t += n
