"""Every bundled guided track (kind practice or talk; not timers) speaks enough to guide:
at its default length at least 35 words a minute; when its longest length is three times
its shortest or more, the longest carries at least half as many words again as the
shortest (more guidance, not only more silence); and at its longest no stretch goes
without speech for more than five minutes. Words are those of the written text of the
speech events on the real timeline, built with the fast espeak engine (pyttsx3)."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from kindvoice.pipeline import prepare
from kindvoice.settings import RenderRequest, VoiceSettings
from kindvoice.stats import SpeechStats, speech_stats
from kindvoice.template.library import list_practices
from kindvoice.template.model import Minutes
from kindvoice.template.parse import load_template

MIN_WORDS_A_MINUTE = 35.0
GROWTH = 1.5  # words at max over words at min, for wide ranges
WIDE = 3.0  # a range is wide when max >= 3 x min
LONGEST_SILENCE_S = 5 * 60.0


def _guided() -> dict[str, Minutes]:
    found: dict[str, Minutes] = {}
    for ref in list_practices():
        if ref.origin != "bundled":
            continue
        meta = load_template(ref.path).meta
        if meta.kind in ("practice", "talk"):
            found[ref.id] = meta.minutes
    return found


GUIDED = _guided()
WIDE_RANGE = [p for p, m in GUIDED.items() if m.max >= WIDE * m.min]


@functools.cache
def stats(practice: str, minutes: float) -> SpeechStats:
    request = RenderRequest(
        practice=practice,
        output=Path("unused.mp3"),
        length_ms=minutes * 60_000,
        voice=VoiceSettings(engine="pyttsx3"),
    )
    return speech_stats(prepare(request))


def test_the_guided_tracks_are_found() -> None:
    assert {"self-compassion-break", "talk-what-is-self-compassion", "inner-critic"} <= set(GUIDED)
    assert "timer" not in GUIDED


@pytest.mark.slow
@pytest.mark.parametrize("practice", sorted(GUIDED))
def test_default_length_speaks_enough(practice: str) -> None:
    default = GUIDED[practice].default
    s = stats(practice, default)
    assert s.words_per_minute >= MIN_WORDS_A_MINUTE, (
        f"{practice} at {default:g} min: {s.words} words, {s.words_per_minute:.1f} a minute"
    )


@pytest.mark.slow
@pytest.mark.parametrize("practice", sorted(WIDE_RANGE))
def test_long_versions_carry_more_guidance(practice: str) -> None:
    m = GUIDED[practice]
    shortest, longest = stats(practice, m.min), stats(practice, m.max)
    assert longest.words >= GROWTH * shortest.words, (
        f"{practice}: {shortest.words} words at {m.min:g} min, {longest.words} at {m.max:g}"
    )


@pytest.mark.slow
@pytest.mark.parametrize("practice", sorted(GUIDED))
def test_no_long_stretch_without_speech_at_the_longest(practice: str) -> None:
    longest = GUIDED[practice].max
    s = stats(practice, longest)
    assert s.longest_silence_s <= LONGEST_SILENCE_S, (
        f"{practice} at {longest:g} min: {s.longest_silence_s / 60:.1f} min without speech"
    )
