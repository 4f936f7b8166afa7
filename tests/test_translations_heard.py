"""The kind wish a listener repeats is heard as written, in every translated language.

Each translation's one-minute break ends on the wish the listener says to themselves
(its last ``<!-- felt -->`` line). Kokoro speaks it with the language's default voice,
respelled by the template's ``pronounce:`` as a render would, and an independent
multilingual recognizer (Whisper base through faster-whisper, from the dev extra; see
scripts/recognize.py) must hear it word for word. This caught the Brazilian "Que eu seja
gentil comigo", heard as "que é o seja a gente e o comigo" in every render.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import soundfile

from kindvoice.audio import SAMPLE_RATE
from kindvoice.speech.base import EngineSpec
from kindvoice.speech.kokoro_engine import KokoroEngine

from kv_testing import load_recognizer

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
LANGUAGES = ("es", "pt-BR", "fr", "it")

recognize = load_recognizer()


@pytest.fixture(scope="module")
def model() -> Any:
    return recognize.load_model(threads=1)


def test_felt_lines_are_found_and_respelled() -> None:
    language, lines, voice = recognize.felt_lines(ROOT / "meditations/fr/one-minute-break.md")
    assert (language, voice) == ("fr", "siwis")
    assert [written for written, _ in lines] == [
        "C'est un moment difficile.",
        "Tout le monde traverse des moments difficiles.",
        "Que je puisse me traiter avec bienveillance.",
    ]
    _, scb, _ = recognize.felt_lines(ROOT / "meditations/fr/self-compassion-break.md")
    spoken = dict(scb)
    assert "Je ne suis pas la seule personne à vivre ça." in spoken
    # the words written are compared; pronounce: respells only what the voice is given
    assert recognize.wer("Que eu seja gentil comigo.", "que é o seja a gente e o comigo")[0] > 0.5


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_kind_wish_is_heard_as_written(language: str, model: Any, tmp_path: Path) -> None:
    lang, lines, voice = recognize.felt_lines(
        ROOT / "meditations" / language / "one-minute-break.md"
    )
    written, spoken = lines[-1]
    engine = KokoroEngine(EngineSpec("kokoro", voice, KokoroEngine.default_rate("practice", voice)))
    wav = tmp_path / "wish.wav"
    soundfile.write(wav, engine.synthesize(spoken), SAMPLE_RATE)
    heard = recognize.transcribe(model, wav, lang)
    assert recognize.count_phrase(written, heard) == 1, f"{written!r} heard as {heard!r}"
