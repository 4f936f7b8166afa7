"""Kokoro's own pauses found in the audio and set to the pace (no model needed: speech is
stood in for by tone bursts, the pauses by low noise, as a model call's output looks)."""

from __future__ import annotations

import numpy as np

from kindvoice.speech.pauses import align, marks, quiet_runs, reshape

RATE = 24_000


def burst(seconds: float, seed: int) -> np.ndarray:
    t = np.arange(round(seconds * RATE)) / RATE
    rng = np.random.default_rng(seed)
    return (0.4 * np.sin(2 * np.pi * 180 * t) * (1 + 0.2 * rng.standard_normal(len(t)))).astype(
        np.float32
    )


def hush(seconds: float) -> np.ndarray:
    rng = np.random.default_rng(7)
    return (1e-4 * rng.standard_normal(round(seconds * RATE))).astype(np.float32)


def quiet_lengths_s(audio: np.ndarray) -> list[float]:
    return [round(r.length / RATE, 2) for r in quiet_runs(audio, RATE)]


def test_marks_inside_the_text_only() -> None:
    found = marks("ðɪs ɪz ɐ mˈOmᵊnt. ɪt hˈɜɹts, ænd ðæt ɪz ˈOkA?!")
    assert [m.sentence for m in found] == [True, False]
    assert 0 < found[0].share < found[1].share < 1
    assert marks("nˈO pˈɔz hˈɪɹ.") == []


def test_a_sentence_pause_and_a_comma_pause_are_set_to_the_pace() -> None:
    # "one. two, three.": speech, a 0.45 s sentence pause, speech, a 0.12 s comma pause, speech
    audio = np.concatenate([burst(1.0, 1), hush(0.45), burst(1.0, 2), hush(0.12), burst(1.0, 3)])
    phonemes = "wˈʌn wˈʌn. tˈu tˈu, θɹˈi θɹˈi."
    out = reshape(audio, phonemes, RATE, sentence_gap_ms=1000, comma_gap_ms=380)
    assert quiet_lengths_s(out) == [1.0, 0.38]
    # the speech itself is untouched: the same samples before the first pause
    assert np.array_equal(out[:RATE], audio[:RATE])
    # never shortened: a pace with smaller gaps keeps the model's own pauses
    same = reshape(audio, phonemes, RATE, sentence_gap_ms=300, comma_gap_ms=100)
    assert np.array_equal(same, audio)


def test_a_mark_the_model_did_not_pause_at_is_left_alone() -> None:
    # a comma in the text but no pause in the audio: nothing is cut into the words
    audio = np.concatenate([burst(1.0, 1), hush(0.5), burst(2.0, 2)])
    phonemes = "wˈʌn wˈʌn. tˈu tˈu, θɹˈi θɹˈi."
    runs = quiet_runs(audio, RATE)
    assert align(marks(phonemes), runs, (0, len(audio)), RATE) == [0, -1]
    out = reshape(audio, phonemes, RATE, sentence_gap_ms=900, comma_gap_ms=380)
    assert quiet_lengths_s(out) == [0.9]


def test_a_short_bump_inside_a_pause_does_not_split_it() -> None:
    blip = burst(0.03, 9) * 0.5
    audio = np.concatenate([burst(1.0, 1), hush(0.2), blip, hush(0.25), burst(1.0, 2)])
    assert quiet_lengths_s(audio) == [0.48]
