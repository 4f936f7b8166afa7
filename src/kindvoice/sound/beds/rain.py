"""The ``rain`` background: a soft hiss of steady rain with sparse droplets.

Pink noise band-passed to the range where rain lives, its level drifting slowly at
random (gusts), plus soft droplet "plinks": short decaying sines that glide up a little,
scattered at random times and places in the stereo field. A droplet that starts near the
end of a block rings on into the next block through a carried tail buffer.
"""

from __future__ import annotations

import numpy as np

from kindvoice.audio import SAMPLE_RATE, s_to_samples
from kindvoice.sound.beds.base import F64, Bed, NoiseSource, Seed, SlowRandom, rngs
from kindvoice.sound.beds.noise import pink_sos

_BAND_HZ = (400.0, 9000.0)
_DROPS_PER_S = 6.0
_DROP_LEVEL = 0.2  # droplet peak, about 3x the hiss RMS: audible, never sharp
_DROP_SAMPLES = s_to_samples(0.05)


class RainBed(Bed):
    """Rain: shaped noise with slow gusts and droplets; the seed picks all of it."""

    calibration_db = 0.8

    def __init__(self, seed: Seed = 0) -> None:
        from scipy import signal  # imported here: scipy is slow to import

        super().__init__()
        noise_rng, gust_rng, drop_rng = rngs(seed, 3)
        band = signal.butter(2, _BAND_HZ, btype="bandpass", fs=SAMPLE_RATE, output="sos")
        self._noise = NoiseSource(noise_rng, np.vstack([pink_sos(), band]))
        self._gusts = SlowRandom(gust_rng, s_to_samples(2.0), 0.75, 1.15)
        self._drop_rng = drop_rng
        self._next_drop = self._drop_gap()
        self._tail = np.zeros((_DROP_SAMPLES, 2))

    def _drop_gap(self) -> int:
        return 1 + int(self._drop_rng.exponential(SAMPLE_RATE / _DROPS_PER_S))

    def _droplet(self) -> F64:
        """One droplet, shape (_DROP_SAMPLES, 2): a short plink, panned at random."""
        rng = self._drop_rng
        freq = rng.uniform(1800.0, 4500.0)
        decay_s = rng.uniform(0.003, 0.009)
        glide = rng.uniform(0.1, 0.3)  # pitch rises as the drop's cavity closes
        amp = rng.uniform(0.3, 1.0)
        pan = rng.uniform(-0.9, 0.9)
        t = np.arange(_DROP_SAMPLES) / SAMPLE_RATE
        inst = freq * (1.0 + glide * (1.0 - np.exp(-t / decay_s)))
        phase = 2 * np.pi * np.cumsum(inst) / SAMPLE_RATE
        onset = np.minimum(1.0, t / 0.0005)  # a 0.5 ms ramp: soft, but no click
        drop = amp * onset * np.exp(-t / decay_s) * np.sin(phase)
        angle = (pan + 1.0) * np.pi / 4
        return np.column_stack([np.cos(angle) * drop, np.sin(angle) * drop])

    def _render(self, n: int) -> F64:
        start = self.position_samples
        gust = self._gusts.values(start, n)
        out = np.zeros((n + _DROP_SAMPLES, 2))
        out[:n] = self._noise.next(n) * gust[:, None]
        out[:_DROP_SAMPLES] += self._tail
        while self._next_drop < start + n:
            at = self._next_drop - start
            out[at : at + _DROP_SAMPLES] += _DROP_LEVEL * self._droplet()
            self._next_drop += self._drop_gap()
        self._tail = out[n:].copy()
        result: F64 = out[:n]
        return result
