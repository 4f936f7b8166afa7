"""The pyttsx3 (espeak-ng) engine, run for real inside a speech worker process."""

from __future__ import annotations

import numpy as np
import pytest

from kindvoice.audio import SAMPLE_RATE
from kindvoice.errors import EngineError, UnknownNameError
from kindvoice.speech.base import TRIM_MARGIN_MS, TRIM_THRESHOLD_DB, EngineSpec, engine_identity
from kindvoice.speech.synth import check_engine, list_voices, synthesize_phrases

SENTENCE = "Place a hand on your heart and feel its warmth for a moment."  # 13 words


def speak(text: str, **spec: object) -> np.ndarray:
    return synthesize_phrases(EngineSpec("pyttsx3", **spec), [text], cache=None)[text]  # type: ignore[arg-type]


def assert_house_phrase(audio: np.ndarray, min_s: float, max_s: float) -> None:
    """float32 mono at 48 kHz, plausibly long, trimmed to the margin, ramped to ~0."""
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert min_s < len(audio) / SAMPLE_RATE < max_s
    threshold = np.abs(audio).max() * 10 ** (TRIM_THRESHOLD_DB / 20)
    audible = np.flatnonzero(np.abs(audio) >= threshold)
    margin = round(TRIM_MARGIN_MS * SAMPLE_RATE / 1000)
    assert audible[0] <= margin and len(audio) - 1 - audible[-1] <= margin
    assert abs(audio[0]) < 1e-3 and abs(audio[-1]) < 1e-3


def test_speaks_a_sentence_in_house_format() -> None:
    audio = speak(SENTENCE)
    assert_house_phrase(audio, 1.5, 6.0)
    assert np.abs(audio).max() > 0.1


def test_speech_has_energy_only_below_espeak_nyquist() -> None:
    # Upsampled from 22,050 Hz: nothing real above 11 kHz, so it really is 48 kHz now.
    audio = speak(SENTENCE)
    spectrum = np.abs(np.fft.rfft(audio))
    freqs = np.fft.rfftfreq(len(audio), 1 / SAMPLE_RATE)
    assert spectrum[freqs > 11_500].max() < spectrum.max() * 1e-2


def test_slower_rate_is_longer() -> None:
    normal = len(speak(SENTENCE, rate=1.0))
    slow = len(speak(SENTENCE, rate=0.7))
    assert slow > normal * 1.2


def test_voice_by_id_or_name_is_the_same_voice() -> None:
    by_id = speak("Hello there.", voice="en-us")
    by_name = speak("Hello there.", voice="English (America)")
    np.testing.assert_array_equal(by_id, by_name)
    assert not np.array_equal(by_id, speak("Hello there.", voice="en-gb-scotland"))


def test_unknown_voice_lists_choices() -> None:
    with pytest.raises(UnknownNameError, match=r"Unknown voice 'en-uss'.*en-us") as info:
        check_engine(EngineSpec("pyttsx3", voice="en-uss"))
    assert info.value.exit_code == 4


def test_unknown_engine_lists_choices() -> None:
    with pytest.raises(UnknownNameError, match="Choose one of: kokoro, piper, pyttsx3"):
        check_engine(EngineSpec("pipr"))


def test_silent_phrase_is_an_error_naming_it() -> None:
    with pytest.raises(EngineError, match=r"'\.\.\.'"):
        speak("...")


def test_voices_include_an_english_default() -> None:
    voices = list_voices("pyttsx3")
    assert len(voices) > 50
    defaults = [v for v in voices if v.default]
    assert [v.id for v in defaults] == ["gmw/en-us"]


def test_identity_changes_with_voice_and_rate() -> None:
    base = engine_identity(EngineSpec("pyttsx3"))
    assert base["engine"] == "pyttsx3" and base["pyttsx3"]
    assert engine_identity(EngineSpec("pyttsx3", rate=0.9)) != base
    assert engine_identity(EngineSpec("pyttsx3", voice="en-gb")) != base


def test_a_cut_phrase_is_spoken_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """The driver once wrote 0.74 s of a 4.64 s phrase (an orphaned phrase's end landing in
    the new file) and that cut phrase was cached: a phrase far shorter than its words
    is spoken again, and the whole one is kept."""
    from kindvoice.speech.pyttsx3_engine import Pyttsx3Engine

    engine = Pyttsx3Engine(EngineSpec("pyttsx3", None, 1.0))
    text = "If your hands are free, rest one on your chest. Then wish yourself well."
    real = engine._speak_to_wav
    whole, rate = real(text)
    cut = whole[: len(whole) // 6]
    answers = [(cut, rate), (whole, rate)]
    monkeypatch.setattr(engine, "_speak_to_wav", lambda _text: answers.pop(0))
    spoken = engine.synthesize(text)
    assert answers == []  # spoken twice
    assert len(spoken) / SAMPLE_RATE > 0.8 * len(whole) / rate
