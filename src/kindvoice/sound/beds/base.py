"""The background-bed interface and the small helpers the bed families share.

A ``Bed`` is an endless stereo stream: ``render(n)`` returns the next ``n`` samples and
carries every bit of state (filter memories, oscillator phases, modulation, pending
droplets) to the next call, so a 60-minute bed rendered in 1-second blocks has no seams
and equals a one-shot render. Tones and modulators are computed from the absolute
sample index, and random streams are drawn in the same order whatever the block size,
which is what makes block-wise and one-shot renders agree.

Every bed is calibrated to ``BED_REFERENCE_LUFS`` (integrated, BS.1770, over 30 s) by
its ``calibration_db``, measured with ``measure_lufs``; the mixer then sets the level
relative to the voice with one gain.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from kindvoice.audio import SAMPLE_RATE, Stereo, db_to_gain, s_to_samples

BED_REFERENCE_LUFS = -20.0

_SQRT3 = 3.0**0.5

F64 = npt.NDArray[np.float64]
Seed = int | tuple[int, ...]


def rngs(seed: Seed, count: int) -> list[np.random.Generator]:
    """``count`` independent random streams from one seed (one per purpose, so the
    number of draws from each depends only on how many samples were rendered)."""
    children = np.random.SeedSequence(seed).spawn(count)
    return [np.random.default_rng(child) for child in children]


class Bed(ABC):
    """An endless background. Subclasses implement ``_render`` and set ``calibration_db``."""

    #: True for beds that only work in stereo (binaural beats); the renderer refuses mono
    needs_stereo: bool = False
    #: gain that brings this bed's raw output to BED_REFERENCE_LUFS
    calibration_db: ClassVar[float] = 0.0

    def __init__(self) -> None:
        self.position_samples = 0  # absolute index of the next sample to render

    def render(self, n: int) -> Stereo:
        """The next ``n`` samples: float32, shape ``(n, 2)``, at BED_REFERENCE_LUFS."""
        if n < 0:
            raise ValueError(f"cannot render a negative number of samples ({n})")
        if n == 0:
            return np.zeros((0, 2), dtype=np.float32)
        raw = self._render(n)
        self.position_samples += n
        out: Stereo = (raw * db_to_gain(self.calibration_db)).astype(np.float32)
        return out

    @abstractmethod
    def _render(self, n: int) -> F64:
        """The next ``n`` raw samples, shape ``(n, 2)``, starting at ``position_samples``."""


class NoiseSource:
    """Stereo coloured noise: independent white noise per channel through one filter,
    with the filter state carried across calls (so blocks join without seams)."""

    def __init__(self, rng: np.random.Generator, sos: F64, warm_up_s: float = 1.0) -> None:
        self._rng = rng
        self._sos = sos
        self._zi = np.zeros((sos.shape[0], 2, 2))
        # Run the filter for a while first so the first block is already at full level
        # (a 1/f^2 integrator starting from rest would fade in).
        self.next(s_to_samples(warm_up_s))

    def next(self, n: int) -> F64:
        from scipy import signal  # imported here: scipy is slow to import

        # Uniform white noise (unit variance) is as white as Gaussian, four times cheaper
        # to draw, and comes out Gaussian anyway once these filters have summed it.
        white = self._rng.random((n, 2), dtype=np.float32) * np.float32(2 * _SQRT3)
        white -= np.float32(_SQRT3)
        out, self._zi = signal.sosfilt(self._sos, white, axis=0, zi=self._zi)
        result: F64 = out
        return result


class SlowRandom:
    """A smooth random control signal: one random knot every ``knot_samples``, joined by
    raised-cosine segments. Values are a function of the absolute sample index."""

    def __init__(
        self, rng: np.random.Generator, knot_samples: int, low: float, high: float
    ) -> None:
        self._rng = rng
        self._knot_samples = knot_samples
        self._low = low
        self._high = high
        self._first = 0  # knot index of self._knots[0]
        self._knots: list[float] = []

    def values(self, start: int, n: int) -> F64:
        """Values at absolute indices ``start .. start + n - 1`` (calls move forward)."""
        index = start + np.arange(n)
        segment = index // self._knot_samples
        last_needed = int(segment[-1]) + 1 if n else self._first
        # Knots are drawn one at a time, in order: the same stream for any block size.
        while self._first + len(self._knots) <= last_needed:
            self._knots.append(float(self._rng.uniform(self._low, self._high)))
        if n:
            drop = int(segment[0]) - self._first
            if drop > 0:
                del self._knots[:drop]
                self._first += drop
        knots = np.asarray(self._knots)
        a = knots[segment - self._first]
        b = knots[segment - self._first + 1]
        frac = (index - segment * self._knot_samples) / self._knot_samples
        w = 0.5 - 0.5 * np.cos(np.pi * frac)
        result: F64 = a + (b - a) * w
        return result


def seconds(start: int, n: int) -> F64:
    """Absolute times in seconds of samples ``start .. start + n - 1``."""
    result: F64 = (start + np.arange(n, dtype=np.float64)) / SAMPLE_RATE
    return result


def measure_lufs(bed: Bed, seconds_: float = 30.0) -> float:
    """Integrated loudness (LUFS) of the next ``seconds_`` of ``bed``, BS.1770 via
    pyloudnorm: how the calibration constants were measured, and what the tests check."""
    import pyloudnorm

    audio = bed.render(s_to_samples(seconds_)).astype(np.float64)
    return float(pyloudnorm.Meter(SAMPLE_RATE).integrated_loudness(audio))
