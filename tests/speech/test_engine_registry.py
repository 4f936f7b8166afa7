"""A new engine is one class and one registry line: the command line's help, the web
page's engine and voice fields, the voice check and a whole render find it, and nothing
outside ``speech/`` names an engine."""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
import soundfile

from kindvoice.audio import SAMPLE_RATE, Mono, s_to_samples
from kindvoice.errors import UnknownNameError
from kindvoice.speech import registry
from kindvoice.speech.base import Engine, EngineSpec, VoiceInfo, finish_phrase

SRC = Path(__file__).parents[2] / "src" / "kindvoice"


class ToneEngine(Engine):
    """Speaks every word as a short tone: a low or a high one."""

    name: ClassVar[str] = "tone"
    label: ClassVar[str] = "Tone: one note a word (tests)"
    default_voice: ClassVar[str] = "low"
    in_process: ClassVar[bool] = True  # speaks in this process: no worker imports this test
    needs_package: ClassVar[str | None] = "kindvoice_tests_no_such_package"

    @classmethod
    def identity_for(cls, spec: EngineSpec) -> dict[str, str]:
        return {"engine": cls.name, "voice": spec.voice or cls.default_voice}

    def synthesize(self, text: str) -> Mono:
        hz = 440.0 if self.spec.voice == "high" else 220.0
        t = np.arange(s_to_samples(0.4 * len(text.split()))) / SAMPLE_RATE
        return finish_phrase(0.3 * np.sin(2.0 * np.pi * hz * t), SAMPLE_RATE, text)

    @classmethod
    def voices(cls) -> list[VoiceInfo]:
        return [VoiceInfo("low", "a low note", "en", True), VoiceInfo("high", "a high note", "en")]

    @classmethod
    def find_voice(cls, name: str) -> str | None:
        return {"bass": "low", "treble": "high"}.get(name.strip().casefold())


@pytest.fixture
def tone(monkeypatch: pytest.MonkeyPatch) -> None:
    """The one registry line."""
    line = registry.Registered(f"{__name__}:ToneEngine", "one note a word")
    monkeypatch.setitem(registry.ENGINES, "tone", line)


@pytest.mark.usefixtures("tone")
def test_the_help_and_the_web_fields_list_a_new_engine() -> None:
    from kindvoice.web import voices

    assert "tone (one note a word)" in registry.engines_help()
    listed = {e["name"]: e for e in voices.engines()}
    assert listed["tone"]["label"] == "Tone: one note a word (tests)"
    assert listed["tone"]["installed"] is False  # its package is not here
    assert "recorded" not in listed  # an engine not offered on the page stays off it
    assert [v.label for v in voices.choices("tone")] == [
        "low: en, a low note",
        "high: en, a high note",
    ]
    assert voices.checked("tone", "HIGH") == "high"
    assert voices.checked("tone", "treble") == "high"  # the engine's own lookup
    with pytest.raises(UnknownNameError, match="Unknown tone voice 'alto'"):
        voices.checked("tone", "alto")


@pytest.mark.usefixtures("tone")
def test_a_new_engine_renders_a_session(tmp_path: Path) -> None:
    from kindvoice.pipeline import render
    from kindvoice.settings import MixSettings, RenderRequest, VoiceSettings

    out = tmp_path / "tone.wav"
    request = RenderRequest(
        "one-minute-break",
        out,
        length_ms=60_000,
        voice=VoiceSettings(engine="tone", voice="high"),
        mix=MixSettings(background="none"),
    )
    result = render(request)
    assert soundfile.info(str(out)).frames == 60 * SAMPLE_RATE
    assert result.prepared.engine_label == "tone voice high at rate 0.9"
    audio, _ = soundfile.read(str(out))
    spectrum = np.abs(np.fft.rfft(audio[:, 0]))
    assert np.argmax(spectrum) * SAMPLE_RATE / len(audio) == pytest.approx(440.0, abs=2.0)


def test_no_engine_is_named_outside_speech() -> None:
    """Comparisons with an engine's name are the engine's business (``speech/``)."""
    names = "|".join(registry.engine_names())
    compared = re.compile(rf"""(==|!=|\bin)\s*\(?["']({names})["']|["']({names})["']\s*(==|!=)""")
    found = [
        f"{path.relative_to(SRC)}:{number}: {line.strip()}"
        for path in SRC.rglob("*.py")
        if "speech" not in path.relative_to(SRC).parts
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if compared.search(line)
    ]
    assert found == []
