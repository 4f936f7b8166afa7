"""Laying a solved script out on the timeline, and an opening that speaks only itself.

``lay_out_played`` places every sound of a script whose length is solved (``Cues``
gathers the breathing cue tones meanwhile). ``Opening`` is the speech of a session's first
seconds only (a card preview, ``RenderRequest.opening_only``): the phrases starting
before its end are spoken, the rest's lengths come from the text (``estimate_speech``),
so a preview costs its own length, not the whole practice's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from kindvoice.audio import Mono, ms_to_samples, s_to_samples
from kindvoice.lengths import Measure, Progress, Voicing, fit_played, speak_phrases, voice_spec
from kindvoice.mix.timeline import Timeline, lay_out
from kindvoice.settings import MixSettings, RenderRequest
from kindvoice.speech.base import voice_description
from kindvoice.template.fit import Plan
from kindvoice.template.model import Breathe, Script


class Cues:
    """Breathing cue tones by key, gathered while the timeline is laid out."""

    def __init__(self) -> None:
        self.audio: dict[str, Mono] = {}

    def __call__(self, node: Breathe) -> list[tuple[int, str, int]]:
        from kindvoice.sound.breath import breathe_cues

        placed: list[tuple[int, str, int]] = []
        for offset, kind, tone in breathe_cues(node.in_ms, node.hold_ms, node.out_ms, node.count):
            key = f"{kind}/{len(tone)}"
            self.audio[key] = tone
            placed.append((offset, key, len(tone)))
        return placed


def lay_out_played(
    played: Script, plan: Plan, measure: Measure, mix: MixSettings, cues: Cues
) -> Timeline:
    """The timeline of ``played`` as ``plan`` solved it: every sound's start sample, the
    chapters, the quiet stretches; ``cues`` gathers the breathing cue tones."""
    from kindvoice.sound.bells import DEFAULT_BELL, bell_duration_samples

    def bell_name(kind: str | None) -> str:
        return kind or DEFAULT_BELL

    return lay_out(
        played,
        plan,
        measure.speech_samples,
        paragraph_gap_samples=measure.paragraph_gap,
        lead_in_samples=ms_to_samples(mix.lead_in_ms),
        tail_samples=ms_to_samples(mix.tail_ms),
        bell_name=bell_name,
        bell_samples=bell_duration_samples,
        cue_offsets=cues,
    )


def opening_samples(request: RenderRequest) -> int | None:
    """Where an opening ends (samples), when the request renders only the session's
    start and speaks only what that start plays; None: speak every phrase."""
    if not request.opening_only or request.section is not None:
        return None
    return None if request.limit_seconds is None else s_to_samples(request.limit_seconds)


@dataclass(frozen=True)
class Opening:
    """The speech of ``played``'s first ``stop`` samples in a session ``length_ms`` long."""

    voicing: Voicing
    played: Script
    mix: MixSettings
    length_ms: float
    stop: int

    def __call__(
        self, central: Measure, progress: Progress | None = None
    ) -> tuple[Measure, dict[str, Mono]]:
        """The phrases that start before ``stop`` spoken, the rest's lengths estimated from
        the text (``central``): the session laid out with the estimates, its opening's
        phrases spoken, laid out again with their true lengths, until every phrase
        starting before ``stop`` is spoken (a true length moves the later ones; two rounds
        as a rule). The opening's pauses are the session's at this length, to the
        estimate's error in the rest."""
        label = voice_description(voice_spec(self.voicing.voice, self.played.meta))
        measure = dataclasses.replace(central, voice_label=label, estimated=False)
        phrases: dict[str, Mono] = {}
        while True:
            _, plan = fit_played(self.played, measure, self.length_ms)
            timeline = lay_out_played(self.played, plan, measure, self.mix, Cues())
            wanted = {e.key for e in timeline.speech if e.start < self.stop} - phrases.keys()
            if not wanted:
                return measure, phrases
            report = _counted(progress, len(phrases), len(phrases) + len(wanted))
            phrases.update(speak_phrases(self.voicing, self.played, wanted, report))
            lengths = {key: len(audio) for key, audio in phrases.items()}
            measure = dataclasses.replace(
                measure, speech_samples={**measure.speech_samples, **lengths}
            )


def _counted(
    progress: Progress | None, before: int, total: int
) -> Callable[[int, int], None] | None:
    """A round of speech's ``(done, total)`` reported as the opening's phrases so far."""
    if progress is None:
        return None
    return lambda done, _: progress("speech", before + done, total)


def within(timeline: Timeline, stop: int) -> Timeline:
    """``timeline`` with only the sounds that start before sample ``stop`` (an opening:
    the later phrases were never spoken)."""
    events = tuple(e for e in timeline.events if e.start < stop)
    return dataclasses.replace(timeline, events=events)
