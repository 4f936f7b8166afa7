"""The pauses inside one model call: found in the audio, set to the guiding pace.

Kokoro speaks a whole phrase in one call, with its own natural pauses at sentence ends
and commas, but the ONNX model gives no durations. So the pauses are found in the audio
(10 ms frames more than ``QUIET_DB`` under the loudest frame; quiet runs split by a bump
shorter than ``BUMP_MS`` are one run), and the text's punctuation marks are matched to
them in order: each mark's expected time is its share of the phoneme string, and a mark
takes the run that is long enough, near enough and leaves the other marks their runs
(a small alignment, like an edit distance). A mark the model did not pause at is left
alone: nothing is cut into a word. Each matched pause is then set to the pace's gap
(sentence or comma), never shortened, by silence inserted in its middle between two
short fades, so the voice's own breath-in and decay are kept.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FRAME_MS = 10.0
QUIET_DB = -40.0  # a frame this far under the loudest one is a pause
BUMP_MS = 50.0  # a louder run shorter than this inside a pause does not end it
MIN_SENTENCE_PAUSE_MS = 100.0  # shorter quiet runs are not a sentence's pause
MIN_COMMA_PAUSE_MS = 60.0  # nor a comma's (stop closures are shorter still)
KEEP_EDGE_MS = 40.0  # of a pause's own audio, kept on each side of the inserted silence
FADE_MS = 8.0
SENTENCE_MARKS = ".!?…"
COMMA_MARKS = ",;:—"


@dataclass(frozen=True)
class Run:
    """A quiet run in the audio, in samples."""

    start: int
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start

    @property
    def centre(self) -> float:
        return (self.start + self.end) / 2.0


@dataclass(frozen=True)
class Mark:
    """A punctuation mark inside a call's text: ``sentence`` or comma, and where it falls
    as a share (0..1) of the phoneme string."""

    share: float
    sentence: bool


def marks(phonemes: str) -> list[Mark]:
    """The sentence and comma marks inside ``phonemes`` (a final mark is not inside)."""
    text = phonemes.rstrip()
    body = text.rstrip(SENTENCE_MARKS + COMMA_MARKS + '"”’) ')
    n = max(len(text), 1)
    found: list[Mark] = []
    for i, char in enumerate(body):
        if char in SENTENCE_MARKS or char in COMMA_MARKS:
            if i + 1 < len(body) and body[i + 1] in SENTENCE_MARKS + COMMA_MARKS:
                continue  # "?!" or "...": one mark, at its last character
            found.append(Mark((i + 1) / n, char in SENTENCE_MARKS))
    return found


def quiet_runs(audio: npt.NDArray[np.float32], rate: int) -> list[Run]:
    """The quiet runs inside ``audio`` (its edges excluded), bumps merged."""
    frame = max(1, round(rate * FRAME_MS / 1000))
    n = len(audio) // frame
    if n < 3:
        return []
    energy = np.mean(audio[: n * frame].astype(np.float64).reshape(n, frame) ** 2, axis=1)
    level = 10.0 * np.log10(energy + 1e-20)
    quiet = level < level.max() + QUIET_DB
    runs: list[list[int]] = []
    i = 0
    while i < n:
        if not quiet[i]:
            i += 1
            continue
        j = i
        while j < n and quiet[j]:
            j += 1
        if runs and (i - runs[-1][1]) * FRAME_MS < BUMP_MS:
            runs[-1][1] = j
        else:
            runs.append([i, j])
        i = j
    inner = [r for r in runs if r[0] > 0 and r[1] < n]  # the edges are the trim's business
    return [Run(a * frame, b * frame) for a, b in inner]


def align(found: list[Mark], runs: list[Run], speech: tuple[int, int], rate: int) -> list[int]:
    """For each mark, the index of its run in ``runs`` (-1: the model did not pause there).

    Marks and runs are matched in order; a match needs the run long enough for its kind
    and its centre within a tolerance of the mark's expected time (its share of the
    ``speech`` span); among the matchings the one with the most pause time is chosen."""
    start, end = speech
    span = max(end - start, 1)
    tolerance = max(0.8 * rate, 0.12 * span)
    k, m = len(found), len(runs)

    def score(i: int, j: int) -> float:
        mark, run = found[i], runs[j]
        least = MIN_SENTENCE_PAUSE_MS if mark.sentence else MIN_COMMA_PAUSE_MS
        if run.length < least * rate / 1000:
            return -1.0
        distance = abs(run.centre - (start + mark.share * span))
        if distance > tolerance:
            return -1.0
        weight = 2.0 if mark.sentence else 1.0
        return weight * run.length / rate + 0.001 - 0.1 * distance / rate

    # best[i][j]: the best total for the first i marks and the first j runs
    best = np.zeros((k + 1, m + 1))
    for i in range(1, k + 1):
        for j in range(1, m + 1):
            s = score(i - 1, j - 1)
            best[i, j] = max(
                best[i - 1, j],
                best[i, j - 1],
                best[i - 1, j - 1] + s if s > 0 else -np.inf,
            )
    chosen = [-1] * k
    i, j = k, m
    while i > 0 and j > 0:
        s = score(i - 1, j - 1)
        if s > 0 and best[i, j] == best[i - 1, j - 1] + s:
            chosen[i - 1] = j - 1
            i, j = i - 1, j - 1
        elif best[i, j] == best[i - 1, j]:
            i -= 1
        else:
            j -= 1
    return chosen


def _fade(n: int) -> npt.NDArray[np.float32]:
    return np.linspace(1.0, 0.0, n, dtype=np.float32)


def reshape(
    audio: npt.NDArray[np.float32],
    phonemes: str,
    rate: int,
    sentence_gap_ms: float,
    comma_gap_ms: float,
) -> npt.NDArray[np.float32]:
    """``audio`` (one call's speech, edges trimmed) with its sentence and comma pauses set
    to the given gaps; pauses already longer are kept."""
    found = marks(phonemes)
    runs = quiet_runs(audio, rate)
    if not found or not runs:
        return audio
    chosen = align(found, runs, (0, len(audio)), rate)
    keep = round(KEEP_EDGE_MS * rate / 1000)
    fade = _fade(min(keep, round(FADE_MS * rate / 1000)))
    parts: list[npt.NDArray[np.float32]] = []
    at = 0
    for mark, index in zip(found, chosen, strict=True):
        if index < 0:
            continue
        run = runs[index]
        gap_ms = sentence_gap_ms if mark.sentence else comma_gap_ms
        target = round(gap_ms * rate / 1000)
        if run.length >= target or run.length < 2 * keep:
            continue
        left = audio[at : run.start + keep].copy()
        right = audio[run.end - keep : run.end].copy()
        left[-len(fade) :] *= fade
        right[: len(fade)] *= fade[::-1]
        parts.extend((left, np.zeros(target - 2 * keep, dtype=np.float32), right))
        at = run.end
    parts.append(audio[at:])
    return np.concatenate(parts).astype(np.float32, copy=False)
