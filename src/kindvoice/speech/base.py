"""The speech-engine interface and the engine registry.

An engine turns one phrase into float32 mono audio at the house rate
(``kindvoice.audio.SAMPLE_RATE``), with its own leading and trailing silence trimmed and
short edge ramps so nothing clicks. Engines check their prerequisites when constructed
(missing package, unknown voice, corrupt model) and raise ``EngineError`` or
``UnknownNameError`` then, never halfway through a render.

pyttsx3 (espeak-ng) and Piper load two different espeak-ng libraries that crash when
they share a process, so engines run inside worker processes (see ``synth.py``); the
``EngineSpec`` is the picklable description a worker builds its engine from.

Everything the rest of kindvoice knows of an engine comes from its class: its label and
the voices a page offers, whether it is installed, how a voice name is looked up, its
voice for a language, its default rate and how a worker process is set up. The names
and where the classes live are ``speech.registry``'s.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from kindvoice.audio import SAMPLE_RATE, Mono, edge_ramps
from kindvoice.errors import EngineError, UnknownNameError
from kindvoice.settings import (
    NORMAL_PACE,
    PACE_SHIFTS,
    PACES,
    VoiceSettings,
    default_engine,
    pace_for,
)
from kindvoice.speech.registry import ENGINES
from kindvoice.speech.registry import engine_names as engine_names

# Bump when finish_phrase() changes what it makes of an engine's output: old cache
# entries then stop matching instead of being served.
PHRASE_FORMAT = "1"
TRIM_THRESHOLD_DB = -50.0  # relative to the phrase's peak
TRIM_MARGIN_MS = 10.0  # kept before the first and after the last audible sample


@dataclass(frozen=True)
class EngineSpec:
    """Picklable: which engine, which voice (None: its default), what rate (1.0 = normal),
    and the silences the engine leaves at sentence ends and commas inside a phrase."""

    engine: str
    voice: str | None = None
    rate: float = 1.0
    sentence_gap_ms: int = PACES["practice"].sentence_gap_ms
    comma_gap_ms: int = PACES["practice"].comma_gap_ms


@dataclass(frozen=True)
class VoiceInfo:
    """One voice an engine offers, for ``kindvoice voices``."""

    id: str
    name: str
    language: str = ""
    default: bool = False


class Engine(ABC):
    """A text-to-speech engine. Subclasses set ``name`` and have a line in
    ``speech.registry``."""

    name: ClassVar[str]
    #: the engine in a few words on the web page's engine field ("": its name)
    label: ClassVar[str] = ""
    #: False: not listed on the web page
    offered: ClassVar[bool] = True
    #: True: the engine plays a person's takes of the written words (at any pace); a
    #: phrase without a take may be spoken by a synthetic voice (``--fill-with``)
    recorded: ClassVar[bool] = False
    #: the Python package the engine needs beyond the base install (None: none)
    needs_package: ClassVar[str | None] = None
    #: the rate by template kind when neither the template nor the command line names one
    default_rates: ClassVar[dict[str, float]] = {"practice": 0.9, "talk": 0.9, "timer": 0.9}
    #: the voice used when none is named, as ``voice_description`` shows it
    default_voice: ClassVar[str] = "default"
    #: how much longer than espeak or Piper a phrase may take before a worker counts as hung
    slowness: ClassVar[float] = 1.0
    #: True: its voices are named by the language they speak (espeak's "en-gb", "es")
    voices_named_by_language: ClassVar[bool] = False
    #: True: the engine only reads files (recorded takes), so it runs in the main process,
    #: needs no worker and no phrase cache
    in_process: ClassVar[bool] = False
    #: True: the engine sets a phrase's pitch level after speaking it (``shape``), so the
    #: level the script gives a phrase is part of its request and its cache key
    shapes: ClassVar[bool] = False

    def __init__(self, spec: EngineSpec) -> None:
        self.spec = spec

    @classmethod
    @abstractmethod
    def identity_for(cls, spec: EngineSpec) -> dict[str, str]:
        """Everything that changes the audio besides the text (engine, version, voice,
        voice file digest, rate ...): the phrase cache keys on it. Must not import the
        engine's library, so the main process can look phrases up without a worker."""

    @abstractmethod
    def synthesize(self, text: str) -> Mono:
        """Speak ``text``: float32 mono at the house rate, edges trimmed and ramped."""

    def shape(self, audio: Mono, level_st: float) -> Mono:
        """``audio`` (this engine's phrase, as ``synthesize`` made it) with its first
        sentence at ``level_st`` semitones and its later ones stepping down
        (``template.intonation``), the length unchanged; only engines that ``shapes``."""
        del level_st
        return audio

    @classmethod
    @abstractmethod
    def voices(cls) -> list[VoiceInfo]:
        """The voices this engine can use on this machine."""

    @classmethod
    def installed(cls) -> bool:
        """Whether the engine can run here, known without importing its library."""
        return cls.needs_package is None or importlib.util.find_spec(cls.needs_package) is not None

    @classmethod
    def offered_voices(cls) -> list[VoiceInfo]:
        """The voices a page offers to choose from, known without loading the engine (an
        engine with very many voices offers a short list)."""
        return cls.voices()

    @classmethod
    def find_voice(cls, name: str) -> str | None:
        """``name`` as the engine knows it when it is not one of ``offered_voices`` (Kokoro
        takes pack names: af_heart is heart); None when the engine cannot tell without
        loading. Raises ``UnknownNameError``, listing its voices, when it knows none."""
        del name
        return None

    @classmethod  # noqa: B027 - optional hook
    def setup_worker(cls) -> None:
        """Set up a speech worker process before the engine is built in it (``synth``)."""

    @classmethod
    def default_rate(cls, kind: str = "practice", voice: str | None = None) -> float:
        """The rate a ``kind`` of template gets from this engine (and ``voice``, where the
        engine's voices differ in their natural pace) when nobody names one."""
        del voice
        return cls.default_rates.get(kind, cls.default_rates["practice"])

    @classmethod
    def estimate_seconds(cls, spec: EngineSpec, text: str) -> tuple[float, float, float] | None:
        """(short, central, long) seconds this voice will take to say ``text``, known
        without speaking it, for engines too slow to measure a range by speaking; None:
        speak it (a fast engine measures exactly in about the time an estimate takes)."""
        del spec, text
        return None

    @classmethod
    def voice_for_language(cls, language: str) -> str | None:
        """This engine's voice for ``language`` (BCP 47); None: its default voice serves.
        Raises ``UnknownNameError`` (listing the languages it speaks) when none does."""
        del language
        return None

    @classmethod
    def describe(cls, spec: EngineSpec) -> str:
        """The voice in words: "kokoro voice heart at rate 0.9"."""
        return f"{spec.engine} voice {spec.voice or cls.default_voice} at rate {spec.rate:g}"

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release the engine's resources."""


def engine_class(name: str) -> type[Engine]:
    """The engine class registered under ``name``; ``UnknownNameError`` lists the choices."""
    try:
        target = ENGINES[name].target
    except KeyError:
        raise UnknownNameError("engine", name, ENGINES) from None
    module_name, _, class_name = target.partition(":")
    cls: type[Engine] = getattr(importlib.import_module(module_name), class_name)
    return cls


def split_voice(text: str | None) -> tuple[str | None, str | None]:
    """``"recorded:anna"`` -> ("recorded", "anna"), ``"kokoro"`` -> ("kokoro", None): a
    voice written with its engine; a plain voice name -> (None, name)."""
    if not text:
        return None, None
    engine, sep, voice = text.partition(":")
    if engine in ENGINES:
        return engine, (voice.strip() or None) if sep else None
    return None, text


def create_engine(spec: EngineSpec) -> Engine:
    """Construct the engine a spec names (this checks its prerequisites)."""
    return engine_class(spec.engine)(spec)


def read_in_process(
    spec: EngineSpec, texts: Sequence[str], progress: Callable[[int, int], None] | None
) -> dict[str, Mono]:
    """An in-process engine's phrases (recorded takes), read one by one in this process;
    ``progress(done, total)`` after each."""
    engine = create_engine(spec)
    found: dict[str, Mono] = {}
    try:
        for text in texts:
            found[text] = engine.synthesize(text)
            if progress is not None:
                progress(len(found), len(texts))
    finally:
        engine.close()
    return found


def choose_voice(
    settings: VoiceSettings,
    *,
    engine: str | None = None,
    voice: str | None = None,
    rate: float | None = None,
    language: str | None = None,
    kind: str = "practice",
) -> EngineSpec:
    """The voice that speaks: the command line (``settings``) first, then the template's
    ``voice:`` (``engine``, ``voice``, ``rate``) and ``language``, then the engine's own
    defaults for the template's ``kind`` (a practice is guided more slowly than a talk).
    A template's voice name counts only for the engine it was written for."""
    template_engine = engine or default_engine()
    named_engine, chosen = split_voice(settings.voice)  # --voice recorded:anna
    name = named_engine or settings.engine or template_engine
    cls = engine_class(name)
    if chosen is None and name == template_engine:
        chosen = voice
    if chosen is None and language:
        chosen = cls.voice_for_language(language)
    pace = settings.pace or pace_for(kind)
    return EngineSpec(
        name,
        chosen,
        settings.rate or rate or cls.default_rate(kind, chosen),
        pace.sentence_gap_ms,
        pace.comma_gap_ms,
    )


def paced(spec: EngineSpec, pace: str) -> EngineSpec:
    """``spec`` at a section's ``[pace NAME]`` (``settings.PACE_SHIFTS``): its rate and its
    silences inside a phrase scaled; the normal pace is ``spec`` itself."""
    shift = PACE_SHIFTS[pace]
    if pace == NORMAL_PACE:
        return spec
    return dataclasses.replace(
        spec,
        rate=round(spec.rate * shift.rate, 3),
        sentence_gap_ms=round(spec.sentence_gap_ms * shift.gaps),
        comma_gap_ms=round(spec.comma_gap_ms * shift.gaps),
    )


def voice_description(spec: EngineSpec) -> str:
    """The voice in words, for messages, reports and tags: "kokoro voice heart at rate 0.9"."""
    return engine_class(spec.engine).describe(spec)


def engine_identity(spec: EngineSpec) -> dict[str, str]:
    """The phrase-cache identity of a spec, computed without loading the engine."""
    identity = engine_class(spec.engine).identity_for(spec)
    identity["phrase_format"] = PHRASE_FORMAT
    return identity


def quoted(text: str, limit: int = 80) -> str:
    """``text`` quoted for a message, cut to ``limit`` characters: an error names a phrase,
    it does not repeat a pasted page."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[: limit - 1]!r}... ({len(text):,} characters)"


def finish_phrase(samples: npt.NDArray[np.floating], sample_rate: int, text: str) -> Mono:
    """An engine's raw mono output -> house format: resampled to ``SAMPLE_RATE``, leading
    and trailing silence trimmed (keeping ``TRIM_MARGIN_MS``), edge ramps applied.

    ``EngineError`` names the phrase when nothing audible is left.
    """
    x = np.asarray(samples, dtype=np.float64).reshape(-1)
    if sample_rate != SAMPLE_RATE and len(x):
        ratio = Fraction(SAMPLE_RATE, sample_rate)
        from scipy.signal import resample_poly  # slow to import: only when resampling

        x = resample_poly(x, ratio.numerator, ratio.denominator)
    peak = float(np.max(np.abs(x))) if len(x) else 0.0
    if not np.isfinite(peak) or peak < 1e-6:
        raise EngineError(f"The speech engine produced no audio for the phrase {quoted(text)}.")
    audible = np.flatnonzero(np.abs(x) >= peak * 10.0 ** (TRIM_THRESHOLD_DB / 20.0))
    margin = round(TRIM_MARGIN_MS * SAMPLE_RATE / 1000.0)
    start = max(0, int(audible[0]) - margin)
    end = min(len(x), int(audible[-1]) + 1 + margin)
    return edge_ramps(x[start:end].astype(np.float32))
