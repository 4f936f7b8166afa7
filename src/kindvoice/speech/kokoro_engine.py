"""The Kokoro engine: Kokoro-82M, the natural default voice (``heart``).

The model runs in onnxruntime with one thread per speech worker, loaded once per worker
from the pinned model packages (sha256-checked, see ``kokoro_voices``). A phrase is spoken
whole, in one model call, so its sentences keep the pitch of one breath group (their
level and onsets vary as a reader's do, where sentence-by-sentence calls all started on
the same rise) and the model computes its edge silences once, not per sentence. The model
takes at most 510 phoneme tokens per call: a longer phrase is spoken a few whole
sentences per call (a sentence over the limit is cut at punctuation, then between words).
Kokoro's own pauses inside a call are then set to the guiding pace (``pauses``), and the
calls' edges are trimmed and ramped and joined with the pace's gaps.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from kindvoice.audio import Mono
from kindvoice.errors import EngineError, UnknownNameError, UsageError
from kindvoice.speech import estimate, kokoro_voices, pauses
from kindvoice.speech.base import Engine, EngineSpec, VoiceInfo, finish_phrase, quoted
from kindvoice.speech.g2p import g2p_info, load_g2p
from kindvoice.speech.kokoro_session import load_session
from kindvoice.speech.shaping import shape_phrase

log = logging.getLogger(__name__)

# Bump when the way a phrase is cut, joined or trimmed changes (the cache keys on it).
KOKORO_FORMAT = "4"  # 4: hash style rows (``_style``); 3: vulgar fractions spelled out
MODEL_RATE = 24_000  # Hz, Kokoro's output
MAX_TOKENS = 510  # the model's limit per call
MIN_SPEED, MAX_SPEED = 0.5, 2.0  # what the model's speed input handles well
PIECE_TRIM_DB = -45.0  # a piece's edges below this (relative to its peak) are silence
PIECE_MARGIN_MS = 15.0
PIECE_RAMP_MS = 6.0

# Threads onnxruntime may use per engine (None: its default). Speech workers set 1.
intra_op_threads: int | None = None

_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"”’)]*\s+")
_PHONEME_BREAK = re.compile(r"(?<=[,;:.!?—])\s*|\s+")


def split_sentences(text: str) -> list[str]:
    """``text``'s sentences, in order."""
    return [s.strip() for s in _SENTENCE_END.split(text.strip()) if s.strip()]


def token_windows(phonemes: str, vocab: dict[str, int]) -> list[str]:
    """``phonemes`` cut into pieces of at most ``MAX_TOKENS`` tokens, at punctuation or
    spaces (one "word" over the limit is cut anywhere)."""
    if sum(c in vocab for c in phonemes) <= MAX_TOKENS:
        return [phonemes]
    windows: list[str] = []
    current = ""
    for word in _PHONEME_BREAK.split(phonemes):
        piece = f"{word} "
        while sum(c in vocab for c in piece) > MAX_TOKENS:
            kept = [c for c in piece if c in vocab]
            windows.append("".join(kept[:MAX_TOKENS]))
            piece = "".join(kept[MAX_TOKENS:])
        if sum(c in vocab for c in current + piece) > MAX_TOKENS:
            windows.append(current)
            current = ""
        current += piece
    if current.strip():
        windows.append(current)
    return [w for w in windows if any(c in vocab for c in w)]


def trim_piece(audio: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """A piece without the near-silence at its edges, with short ramps so joins don't click."""
    peak = float(np.max(np.abs(audio))) if len(audio) else 0.0
    if peak <= 0.0:
        return audio[:0]
    loud = np.flatnonzero(np.abs(audio) >= peak * 10.0 ** (PIECE_TRIM_DB / 20.0))
    margin = round(PIECE_MARGIN_MS * MODEL_RATE / 1000)
    piece = audio[max(0, int(loud[0]) - margin) : int(loud[-1]) + 1 + margin].copy()
    ramp = min(len(piece) // 2, round(PIECE_RAMP_MS * MODEL_RATE / 1000))
    if ramp > 0:
        fade = np.linspace(0.0, 1.0, ramp, dtype=np.float32)
        piece[:ramp] *= fade
        piece[-ramp:] *= fade[::-1]
    return piece


class KokoroEngine(Engine):
    """Kokoro-82M through onnxruntime; rate is Kokoro's speed (0.8 for a practice by default:
    as slow as the voice stays clear; the rest of a guiding pace comes from silence)."""

    name: ClassVar[str] = "kokoro"
    label: ClassVar[str] = "Kokoro: natural, warm (the default; slower)"
    default_rates: ClassVar[dict[str, float]] = {"practice": 0.8, "talk": 0.86, "timer": 0.8}
    default_voice: ClassVar[str] = kokoro_voices.DEFAULT_VOICE
    # a long phrase on a busy machine takes minutes: a worker is hung only after 16
    slowness: ClassVar[float] = 8.0
    # every phrase is one call or a few, so its sentences sit at one level: the script's
    # intonation is set afterwards (``shaping``)
    shapes: ClassVar[bool] = True

    def __init__(self, spec: EngineSpec) -> None:
        super().__init__(spec)
        if not MIN_SPEED <= spec.rate <= MAX_SPEED:
            raise UsageError(  # a choice the user made (--rate, a template's rate)
                f"The kokoro engine speaks at rates {MIN_SPEED:g} to {MAX_SPEED:g};"
                f" {spec.rate:g} asked (--rate, or the template's voice rate)."
            )
        self._voice = kokoro_voices.find_voice(spec.voice)
        pack = np.frombuffer(kokoro_voices.voice_pack_bytes(self._voice), dtype=np.float32)
        self._styles = pack.reshape(-1, 1, 256)
        self._vocab: dict[str, int] = json.loads(kokoro_voices.vocab_text())["vocab"]
        self._session: Any = load_session(intra_op_threads)
        self._g2p = load_g2p(self._voice.language)
        log.debug("kokoro voice %s at speed %.2f", self._voice.pack, spec.rate)

    @classmethod
    def identity_for(cls, spec: EngineSpec) -> dict[str, str]:
        voice = kokoro_voices.find_voice(spec.voice)
        g2p = g2p_info(voice.language)
        return {
            "engine": cls.name,
            "format": KOKORO_FORMAT,
            "model": kokoro_voices.model_identity(),
            "voice": voice.pack,
            "voice_sha256": hashlib.sha256(kokoro_voices.voice_pack_bytes(voice)).hexdigest(),
            "g2p": f"{g2p.name} {g2p.version}",
            "rate": repr(float(spec.rate)),
            "sentence_gap_ms": str(spec.sentence_gap_ms),
            "comma_gap_ms": str(spec.comma_gap_ms),
        }

    @classmethod
    def default_rate(cls, kind: str = "practice", voice: str | None = None) -> float:
        """The kind's rate, scaled by the voice's own pace (bella speaks faster than heart
        at one speed, michael and emma slower), rounded to a hundredth."""
        base = super().default_rate(kind, voice)
        try:
            factor = kokoro_voices.find_voice(voice).pace
        except UnknownNameError:
            factor = 1.0
        return round(base * factor, 2)

    def _style(self, ids: list[int], seed: str) -> npt.NDArray[np.float32]:
        """The style row for a call of ``ids``: its own length's row, whose prosody half
        (columns 128:) is taken from a row chosen by a hash of ``seed`` (the phrase's
        text). Kokoro's row follows the token count only, so every phrase of one length
        started on the same rise at the same level (issue 21's "onset r" 0.47); a row
        from the text's hash varies them as a reader does (0.25), at the same clarity,
        and the same text always gets the same row."""
        own = np.array(self._styles[min(len(ids), len(self._styles)) - 1], dtype=np.float32)
        digest = int(hashlib.sha256(seed.encode("utf-8")).hexdigest(), 16)
        own[..., 128:] = self._styles[digest % len(self._styles)][..., 128:]
        return own

    def _speak(self, ids: list[int], seed: str) -> npt.NDArray[np.float32]:
        style = self._style(ids, seed)
        out = self._session.run(
            None,
            {
                "tokens": np.array([[0, *ids, 0]], dtype=np.int64),
                "style": np.asarray(style, dtype=np.float32).reshape(1, 256),
                "speed": np.array([self.spec.rate], dtype=np.float32),
            },
        )[0]
        return np.asarray(out, dtype=np.float32).reshape(-1)

    def _calls(self, text: str) -> list[tuple[str, bool]]:
        """The phoneme strings of ``text``'s model calls, each with ``True`` when a sentence
        ends after it: the whole phrase when it fits the model's window, else whole
        sentences gathered up to the limit (a sentence over it cut at punctuation)."""
        whole = self._g2p(text)
        if sum(c in self._vocab for c in whole) <= MAX_TOKENS:
            return [(whole, True)]
        calls: list[tuple[str, bool]] = []
        current = ""
        for sentence in split_sentences(text):
            phonemes = self._g2p(sentence)
            if sum(c in self._vocab for c in f"{current} {phonemes}") <= MAX_TOKENS:
                current = f"{current} {phonemes}".strip()
                continue
            if current:
                calls.append((current, True))
            windows = token_windows(phonemes, self._vocab)
            calls.extend((window, False) for window in windows[:-1])
            current = windows[-1] if windows else ""
        if current:
            calls.append((current, True))
        return calls

    def synthesize(self, text: str) -> Mono:
        if not text.strip():
            raise EngineError(f"The kokoro engine cannot speak an empty phrase {text!r}.")
        spec = self.spec
        sentence_gap = np.zeros(round(spec.sentence_gap_ms * MODEL_RATE / 1000), np.float32)
        comma_gap = np.zeros(round(spec.comma_gap_ms * MODEL_RATE / 1000), np.float32)
        parts: list[npt.NDArray[np.float32]] = []
        for n, (phonemes, ends_sentence) in enumerate(self._calls(text)):
            ids = [self._vocab[c] for c in phonemes if c in self._vocab]
            if not ids:
                continue  # punctuation only
            audio = trim_piece(self._speak(ids, text if n == 0 else f"{text}#{n}"))
            if not len(audio):
                continue
            audio = pauses.reshape(
                audio, phonemes, MODEL_RATE, spec.sentence_gap_ms, spec.comma_gap_ms
            )
            parts.extend((audio, sentence_gap if ends_sentence else comma_gap))
        if not parts:
            raise EngineError(f"The kokoro engine produced no audio for the phrase {quoted(text)}.")
        return finish_phrase(np.concatenate(parts[:-1]), MODEL_RATE, text)

    def shape(self, audio: Mono, level_st: float) -> Mono:
        return shape_phrase(audio, level_st, self.spec.sentence_gap_ms, self.spec.comma_gap_ms)

    @classmethod
    def estimate_seconds(cls, spec: EngineSpec, text: str) -> tuple[float, float, float] | None:
        voice = kokoro_voices.find_voice(spec.voice)
        return estimate.phrase_seconds(
            text, voice.pack, spec.rate, spec.sentence_gap_ms, spec.comma_gap_ms
        )

    @classmethod
    def voice_for_language(cls, language: str) -> str | None:
        if language.casefold() in ("en", "en-us"):
            return None
        voice = kokoro_voices.voice_for_language(language)
        if voice is None:
            languages = sorted({v.language for v in kokoro_voices.VOICES})
            raise UnknownNameError("language", language, languages)
        return voice.name

    @classmethod
    def find_voice(cls, name: str) -> str:
        return kokoro_voices.find_voice(name).name  # pack names too; raises, listing them

    @classmethod
    def setup_worker(cls) -> None:
        # one thread per worker: --workers N means N cores, and N single-threaded workers
        # beat one worker with N threads (phrases are short, threads sync often)
        global intra_op_threads
        intra_op_threads = 1

    @classmethod
    def voices(cls) -> list[VoiceInfo]:
        return [
            VoiceInfo(v.name, v.description, v.language, v.name == kokoro_voices.DEFAULT_VOICE)
            for v in kokoro_voices.VOICES
        ]
