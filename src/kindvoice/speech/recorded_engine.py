"""The recorded engine: a teacher's own voice, ``--voice recorded:anna``.

Its "synthesis" of a phrase is the teacher's cleaned take of that phrase's text (see
``takes``), read from the library folder. It only reads files, so it runs in the main
process (``in_process``) and bypasses the phrase cache: the takes are on disk already.
A recorded voice has no rate: the teacher's own pace is the pace.
"""

from __future__ import annotations

from typing import ClassVar

from kindvoice.audio import Mono
from kindvoice.errors import EngineError
from kindvoice.speech.base import Engine, EngineSpec, VoiceInfo
from kindvoice.speech.takes import RecordedVoice, recorded_voices


class RecordedEngine(Engine):
    """The takes of one recorded voice (``spec.voice`` names it)."""

    name: ClassVar[str] = "recorded"
    default_voice: ClassVar[str] = "(none)"
    default_rates: ClassVar[dict[str, float]] = {"practice": 1.0, "talk": 1.0, "timer": 1.0}
    in_process: ClassVar[bool] = True
    recorded: ClassVar[bool] = True
    label: ClassVar[str] = "Your own recorded voice (recorded:NAME)"

    def __init__(self, spec: EngineSpec) -> None:
        super().__init__(spec)
        if not spec.voice:
            raise EngineError(
                "Name the recorded voice: --voice recorded:NAME (kindvoice voices --engine "
                "recorded lists them)."
            )
        self.voice = RecordedVoice(spec.voice)

    @classmethod
    def identity_for(cls, spec: EngineSpec) -> dict[str, str]:
        return {"engine": cls.name, "voice": spec.voice or ""}

    @classmethod
    def describe(cls, spec: EngineSpec) -> str:
        return f"recorded voice {spec.voice}"

    def synthesize(self, text: str) -> Mono:
        return self.voice.audio(text)

    @classmethod
    def voices(cls) -> list[VoiceInfo]:
        return [VoiceInfo(name, f"recorded:{name}", "your voice") for name in recorded_voices()]
