"""The speech-engine interface and the engine registry.

An engine turns one phrase into float32 mono audio at the house rate
(``kindvoice.audio.SAMPLE_RATE``), with its own leading and trailing silence trimmed and
short edge ramps so nothing clicks. Engines check their prerequisites when constructed
(missing package, unknown voice, corrupt model) and raise ``EngineError`` or
``UnknownNameError`` then, never halfway through a render.

pyttsx3 (espeak-ng) and Piper load two different espeak-ng libraries that crash when
they share a process, so engines run inside worker processes (see ``synth.py``); the
``EngineSpec`` is the picklable description a worker builds its engine from.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

from kindvoice.audio import Mono
from kindvoice.errors import UnknownNameError


@dataclass(frozen=True)
class EngineSpec:
    """Picklable: which engine, which voice (None: its default), what rate (1.0 = normal)."""

    engine: str
    voice: str | None = None
    rate: float = 1.0
    sentence_gap_ms: int = 450


@dataclass(frozen=True)
class VoiceInfo:
    """One voice an engine offers, for ``kindvoice voices``."""

    id: str
    name: str
    language: str = ""
    default: bool = False


class Engine(ABC):
    """A text-to-speech engine. Subclasses set ``name`` and register with ``@register``."""

    name: ClassVar[str]

    def __init__(self, spec: EngineSpec) -> None:
        self.spec = spec

    @abstractmethod
    def identity(self) -> dict[str, str]:
        """Everything that changes the audio besides the text (engine, version, voice,
        voice file digest, rate ...): the phrase cache keys on it."""

    @abstractmethod
    def synthesize(self, text: str) -> Mono:
        """Speak ``text``: float32 mono at the house rate, edges trimmed and ramped."""

    @classmethod
    @abstractmethod
    def voices(cls) -> list[VoiceInfo]:
        """The voices this engine can use on this machine."""

    @property
    def voice_label(self) -> str:
        """A short name for the voice, for messages ("joe", "en-us")."""
        return self.spec.voice or "default"

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release the engine's resources."""


# name -> "module:Class", imported lazily so `--help` and one engine's absence stay cheap
_REGISTRY: dict[str, str] = {
    "pyttsx3": "kindvoice.speech.pyttsx3_engine:Pyttsx3Engine",
    "piper": "kindvoice.speech.piper_engine:PiperEngine",
}


def engine_names() -> list[str]:
    return list(_REGISTRY)


def engine_class(name: str) -> type[Engine]:
    """The engine class registered under ``name``; ``UnknownNameError`` lists the choices."""
    try:
        target = _REGISTRY[name]
    except KeyError:
        raise UnknownNameError("engine", name, _REGISTRY) from None
    module_name, _, class_name = target.partition(":")
    cls: type[Engine] = getattr(importlib.import_module(module_name), class_name)
    return cls


def create_engine(spec: EngineSpec) -> Engine:
    """Construct the engine a spec names (this checks its prerequisites)."""
    return engine_class(spec.engine)(spec)
