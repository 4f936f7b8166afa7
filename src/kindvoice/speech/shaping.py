"""A phrase's intonation set after synthesis: its sentences moved to the script's levels.

The script gives each phrase the level its first sentence is spoken at
(``template.intonation``); here the phrase is cut into its sentences where the pace left
a sentence's pause, each sentence is moved to its level by TD-PSOLA (``psola``), and the
level steps down a sentence (``settings.INTONATION``), as the script counted them. The
length never changes, so a phrase measured plain fits the plan shaped. Engines that own
this step (Kokoro) call ``shape_phrase`` in the speech worker.
"""

from __future__ import annotations

import itertools

import numpy as np

from kindvoice.audio import SAMPLE_RATE, Mono
from kindvoice.settings import INTONATION, Intonation
from kindvoice.speech.psola import Stretches, shift_pitch

FRAME = SAMPLE_RATE // 100  # 10 ms
QUIET_DB = -40.0  # a frame this far under the loudest is part of a pause
MIN_SENTENCE_S = 0.5  # a shorter piece (a breath, a click) takes no step


def sentence_cuts(audio: Mono, sentence_gap_ms: int, comma_gap_ms: int) -> list[int]:
    """Where ``audio``'s sentences start and end, in samples: cut in the middle of every
    pause longer than halfway between the pace's comma and sentence gaps."""
    n = len(audio) // FRAME
    if n == 0:
        return [0, len(audio)]
    energy = np.mean(audio[: n * FRAME].astype(np.float64).reshape(n, FRAME) ** 2, axis=1)
    level = 10 * np.log10(energy + 1e-20)
    quiet = np.concatenate([[False], level < level.max() + QUIET_DB, [False]])
    edges = np.flatnonzero(np.diff(quiet.astype(np.int8)))
    least = (sentence_gap_ms + comma_gap_ms) / 2 / 10  # frames
    starts, ends = edges[0::2], edges[1::2]
    cuts = [int((a + b) // 2) * FRAME for a, b in zip(starts, ends, strict=True) if b - a >= least]
    return [0, *cuts, len(audio)]


def plan(
    audio: Mono,
    level_st: float,
    sentence_gap_ms: int,
    comma_gap_ms: int,
    contour: Intonation = INTONATION,
) -> Stretches:
    """Each sentence of ``audio`` and the semitones it moves by: ``level_st`` first, a step
    lower each sentence after, never under the floor."""
    stretches: Stretches = []
    level = level_st
    for a, b in itertools.pairwise(sentence_cuts(audio, sentence_gap_ms, comma_gap_ms)):
        stretches.append((a, b, level))
        if b - a > MIN_SENTENCE_S * SAMPLE_RATE:
            level = max(level - contour.step_st, contour.floor_st)
    return stretches


def shape_phrase(audio: Mono, level_st: float, sentence_gap_ms: int, comma_gap_ms: int) -> Mono:
    """``audio`` (house rate) with its sentences at the script's levels; same length."""
    return shift_pitch(audio, SAMPLE_RATE, plan(audio, level_st, sentence_gap_ms, comma_gap_ms))
