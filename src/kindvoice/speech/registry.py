"""The engine registry: every speech engine by name, one line each.

A new engine is one module (an ``Engine`` subclass, ``speech.base``, which owns its
label, voices, installed check, voice lookup, per-language default and worker set-up) and
one line here: its name, where its class is (imported only when the engine is used, so
one engine's absence costs the others nothing) and a few words for the command line's
help. Nothing here imports more than the standard library: ``--help`` reads it at start-up.
"""

from __future__ import annotations

from dataclasses import dataclass

from kindvoice.settings import DEFAULT_ENGINE


@dataclass(frozen=True)
class Registered:
    target: str  # "module:Class"
    blurb: str = ""  # the engine in a few words, for --engine's help ("" : not listed there)


ENGINES: dict[str, Registered] = {
    "kokoro": Registered("kindvoice.speech.kokoro_engine:KokoroEngine", "natural"),
    "pyttsx3": Registered(
        "kindvoice.speech.pyttsx3_engine:Pyttsx3Engine", "espeak-ng, a quick draft"
    ),
    "piper": Registered("kindvoice.speech.piper_engine:PiperEngine", "neural, fast"),
    "recorded": Registered("kindvoice.speech.recorded_engine:RecordedEngine"),
}


def engine_names() -> list[str]:
    return list(ENGINES)


def engines_help() -> str:
    """The engines an ``--engine`` option takes, each in a few words, the default marked:
    "kokoro (natural, the default), pyttsx3 (espeak-ng, a quick draft) or piper (neural,
    fast)"."""
    listed = [
        f"{name} ({entry.blurb}{', the default' if name == DEFAULT_ENGINE else ''})"
        for name, entry in ENGINES.items()
        if entry.blurb
    ]
    return f"{', '.join(listed[:-1])} or {listed[-1]}" if len(listed) > 1 else "".join(listed)
