"""A phrase's intonation set after synthesis: TD-PSOLA moves pitch and keeps the length to
the sample, the sentences step down from the script's level, and only an engine that
shapes (Kokoro) takes a level into its request and its cache key."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kindvoice.audio import SAMPLE_RATE, Mono
from kindvoice.settings import INTONATION
from kindvoice.speech.base import EngineSpec, engine_identity
from kindvoice.speech.cache import PhraseCache
from kindvoice.speech.psola import pitch_periods, shift_pitch
from kindvoice.speech.shaping import plan, shape_phrase
from kindvoice.speech.synth import synthesize_phrases

PHRASE = "Let the breath be easy, and let the shoulders rest."


@pytest.fixture(scope="module")
def espeak_phrase() -> Mono:
    return synthesize_phrases(EngineSpec("pyttsx3"), [PHRASE], None, 1)[PHRASE]


def median_hz(audio: Mono) -> float:
    periods = pitch_periods(audio, SAMPLE_RATE)
    return SAMPLE_RATE / float(np.median(periods[periods > 0]))


@pytest.mark.parametrize("semitones", [3.0, -2.5])
def test_psola_moves_the_pitch_and_keeps_the_length(espeak_phrase: Mono, semitones: float) -> None:
    moved = shift_pitch(espeak_phrase, SAMPLE_RATE, [(0, len(espeak_phrase), semitones)])
    assert len(moved) == len(espeak_phrase)
    assert moved.dtype == np.float32 and np.isfinite(moved).all()
    got = 12 * np.log2(median_hz(moved) / median_hz(espeak_phrase))
    assert abs(got - semitones) < 0.6, got
    # the loudness stays where it was (the overlap-add is normalised by its window sum)
    ratio = float(np.sqrt(np.mean(moved**2) / np.mean(espeak_phrase**2)))
    assert 0.8 < ratio < 1.25


def test_no_shift_is_the_same_samples(espeak_phrase: Mono) -> None:
    same = shift_pitch(espeak_phrase, SAMPLE_RATE, [(0, len(espeak_phrase), 0.0)])
    assert np.array_equal(same, espeak_phrase)


def test_sentences_step_down_from_the_level_at_the_pace_s_sentence_gaps(
    espeak_phrase: Mono,
) -> None:
    gap = np.zeros(SAMPLE_RATE, np.float32)  # a sentence's pause at the practice pace
    comma = np.zeros(SAMPLE_RATE * 38 // 100, np.float32)  # a comma's: no cut
    audio = np.concatenate([espeak_phrase, comma, espeak_phrase, gap, espeak_phrase])
    stretches = plan(audio, 1.0, sentence_gap_ms=1000, comma_gap_ms=380)
    assert [round(s, 2) for _, _, s in stretches] == [1.0, round(1.0 - INTONATION.step_st, 2)]
    cut = stretches[0][1]
    start = 2 * len(espeak_phrase) + len(comma)
    assert start <= cut <= start + len(gap)  # in the pause, not in a word
    low = plan(audio, INTONATION.floor_st, 1000, 380)
    assert {s for _, _, s in low} == {INTONATION.floor_st}  # never under the floor
    shaped = shape_phrase(audio, 1.0, 1000, 380)
    assert len(shaped) == len(audio)
    assert np.array_equal(
        shaped[start : start + len(gap) // 2], audio[start : start + len(gap) // 2]
    )


def test_an_engine_that_does_not_shape_ignores_the_level(tmp_path: Path) -> None:
    spec = EngineSpec("pyttsx3")
    cache = PhraseCache(tmp_path)
    out = synthesize_phrases(spec, [PHRASE], cache, 1, levels={PHRASE: 2.5})
    assert cache.get(cache.key(engine_identity(spec), PHRASE)) is not None
    assert cache.get(cache.key(engine_identity(spec), PHRASE, 2.5)) is None
    assert np.array_equal(out[PHRASE], cache.get(cache.key(engine_identity(spec), PHRASE)))


@pytest.mark.slow
def test_kokoro_shapes_to_the_level_from_its_plain_phrase_at_the_same_length(
    tmp_path: Path,
) -> None:
    text = "May I be kind to myself."
    spec = EngineSpec("kokoro", None, 0.8)
    cache = PhraseCache(tmp_path)
    plain = synthesize_phrases(spec, [text], cache, 1, lengths_only=True, levels={text: 2.5})
    identity = engine_identity(spec)
    assert cache.get(cache.key(identity, text, 2.5)) is None  # measuring shapes nothing
    high = synthesize_phrases(spec, [text], cache, 1, levels={text: 2.5})[text]
    low = synthesize_phrases(spec, [text], cache, 1, levels={text: -2.5})[text]
    spoken = cache.get(cache.key(identity, text))
    assert spoken is not None
    assert len(high) == len(low) == len(spoken) == len(plain[text])
    assert 12 * np.log2(median_hz(high) / median_hz(low)) == pytest.approx(5.0, abs=1.0)
    # the same request gives the same bytes: read back from the cache
    again = synthesize_phrases(spec, [text], cache, 1, levels={text: 2.5})[text]
    assert np.array_equal(again, high)
