"""Long phrases spoken a few sentences at a time.

One engine call on a very long text costs memory and time far beyond its share
(espeak: ~8,000 words took 60 s and 2.1 GB, ~15,000 crashed the library), so a phrase
over ``SPLIT_WORDS`` words is cut at its sentence ends (then at commas, then between
words) into chunks of at most that many words, each spoken on its own and joined with the
voice's sentence gap. The template parser already refuses a phrase over
``template.limits.MAX_PHRASE_WORDS``; shorter phrases, all the bundled ones among them,
are one engine call as before.
"""

from __future__ import annotations

import re

import numpy as np

from kindvoice.audio import SAMPLE_RATE, Mono
from kindvoice.speech.base import Engine

SPLIT_WORDS = 120

_SENTENCE_END = re.compile(r"(?<=[.!?;:…])\s+")
_COMMA = re.compile(r"(?<=[,;])\s+")


def _pieces(text: str, max_words: int) -> list[str]:
    """``text`` cut at sentence ends, a sentence too long cut at commas, a clause still
    too long cut between words: no piece over ``max_words`` words."""
    out: list[str] = []
    for sentence in _SENTENCE_END.split(text):
        if len(sentence.split()) <= max_words:
            out.append(sentence)
            continue
        for clause in _COMMA.split(sentence):
            words = clause.split()
            out.extend(" ".join(words[i : i + max_words]) for i in range(0, len(words), max_words))
    return [piece for piece in out if piece.strip()]


def chunks(text: str, max_words: int = SPLIT_WORDS) -> list[str]:
    """``text`` as one chunk when it is short, else whole sentences gathered into chunks
    of at most ``max_words`` words each."""
    if len(text.split()) <= max_words:
        return [text]
    out: list[str] = []
    current: list[str] = []
    count = 0
    for piece in _pieces(text, max_words):
        words = len(piece.split())
        if current and count + words > max_words:
            out.append(" ".join(current))
            current, count = [], 0
        current.append(piece)
        count += words
    if current:
        out.append(" ".join(current))
    return out


def speak(engine: Engine, text: str) -> Mono:
    """``engine`` speaking ``text``, a long text chunk by chunk (see the module's note)."""
    parts = chunks(text)
    if len(parts) == 1:
        return engine.synthesize(text)
    gap = np.zeros(round(SAMPLE_RATE * engine.spec.sentence_gap_ms / 1000), dtype=np.float32)
    audio: list[Mono] = []
    for i, part in enumerate(parts):
        if i:
            audio.append(gap)
        audio.append(engine.synthesize(part))
    return np.concatenate(audio).astype(np.float32, copy=False)
