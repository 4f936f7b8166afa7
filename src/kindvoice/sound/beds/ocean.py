"""The ``ocean`` background: surf that swells and recedes every 8-12 seconds.

A constant deep rumble (brown noise) carries the sea; each wave is an envelope with its
own length (8-12 s), height and crest position, which lifts the rumble and, more
strongly, a brighter hiss (band-passed pink noise) for the wash of the breaking wave.
The right channel hears each wave a little later than the left, which widens the
picture. Waves are drawn one at a time, in order, so any block size gives the same sea.
"""

from __future__ import annotations

import numpy as np

from kindvoice.audio import SAMPLE_RATE, s_to_samples
from kindvoice.sound.beds.base import F64, Bed, NoiseSource, Seed, rngs
from kindvoice.sound.beds.noise import brown_sos, pink_sos

_FLOOR = 0.25  # envelope between waves: the sea never falls silent
_RIGHT_LAG_SAMPLES = s_to_samples(0.35)
_WASH_BAND_HZ = (300.0, 6000.0)
_WASH_LEVEL = 0.5  # the hiss relative to the rumble at a wave's crest
# Below this the rumble is felt more than heard and only eats headroom.
_RUMBLE_HIGHPASS_HZ = 40.0


class OceanBed(Bed):
    """Surf: brown rumble and a brighter wash under a slow, varying swell."""

    calibration_db = -33.5

    def __init__(self, seed: Seed = 0) -> None:
        from scipy import signal  # imported here: scipy is slow to import

        super().__init__()
        rumble_rng, wash_rng, wave_rng = rngs(seed, 3)
        band = signal.butter(2, _WASH_BAND_HZ, btype="bandpass", fs=SAMPLE_RATE, output="sos")
        highpass = signal.butter(
            2, _RUMBLE_HIGHPASS_HZ, btype="highpass", fs=SAMPLE_RATE, output="sos"
        )
        self._rumble = NoiseSource(rumble_rng, np.vstack([brown_sos(), highpass]))
        self._wash = NoiseSource(wash_rng, np.vstack([pink_sos(), band]))
        self._wave_rng = wave_rng
        # waves as (start, length, height, crest fraction), oldest first
        self._waves: list[tuple[int, int, float, float]] = []
        self._waves_end = 0

    def _envelope(self, start: int, n: int) -> F64:
        """The swell (0..1) at absolute indices ``start .. start + n - 1``."""
        while self._waves_end < start + n:
            rng = self._wave_rng
            length = s_to_samples(rng.uniform(8.0, 12.0))
            self._waves.append(
                (self._waves_end, length, rng.uniform(0.6, 1.0), rng.uniform(0.45, 0.65))
            )
            self._waves_end += length
        env = np.zeros(n)
        for wave_start, length, height, crest in self._waves:
            lo = max(wave_start, start)
            hi = min(wave_start + length, start + n)
            if lo >= hi:
                continue
            # a slow rise to the crest, then a quicker fall: two raised-cosine halves
            top = min(max(wave_start + int(crest * length), lo), hi)
            rise = np.arange(lo, top) - wave_start
            fall = np.arange(top, hi) - wave_start - crest * length
            env[lo - start : top - start] = 0.5 - 0.5 * np.cos(np.pi * rise / (crest * length))
            env[top - start : hi - start] = 0.5 + 0.5 * np.cos(
                np.pi * fall / ((1.0 - crest) * length)
            )
            env[lo - start : hi - start] *= height
        return env

    def _render(self, n: int) -> F64:
        start = self.position_samples
        # forget the waves that ended before anything this block (or a later one) needs
        self._waves = [w for w in self._waves if w[0] + w[1] > start - _RIGHT_LAG_SAMPLES]
        both = self._envelope(start - _RIGHT_LAG_SAMPLES, n + _RIGHT_LAG_SAMPLES)
        env = np.column_stack([both[_RIGHT_LAG_SAMPLES:], both[:n]])
        swell = _FLOOR + (1.0 - _FLOOR) * env
        out: F64 = self._rumble.next(n) * swell + _WASH_LEVEL * self._wash.next(n) * env**2
        return out
