"""The ``drone`` background: a warm, slowly breathing harmonic pad on A2.

Five partials (root, fifth, octave, twelfth, double octave), each played by two voices a
few cents apart and panned to opposite sides, so the slow beating moves across the
stereo field. Each partial's level and each voice's detuning drift on their own slow
sine (20-70 s), so the pad never repeats exactly. Everything is a closed-form function
of the absolute sample index: there is no phase to carry between blocks.
"""

from __future__ import annotations

import numpy as np

from kindvoice.audio import SAMPLE_RATE
from kindvoice.sound.beds.base import F64, Bed, Seed, rngs

_ROOT_HZ = 110.0  # A2
# (frequency ratio to the root, level): a soft, mostly low spectrum
_PARTIALS = ((1.0, 1.0), (1.5, 0.5), (2.0, 0.45), (3.0, 0.18), (4.0, 0.08))
_DETUNE_CENTS = 4.0  # each voice sits about this far from the partial's pitch
_PAN = 0.6  # voices at -0.6 and +0.6 (constant-power panning)
_CONTROL = 32  # samples between evaluations of the slow modulators


class DroneBed(Bed):
    """A harmonic pad; the seed picks the detuning and the modulation rates and phases."""

    calibration_db = -20.5

    def __init__(self, seed: Seed = 0) -> None:
        super().__init__()
        (rng,) = rngs(seed, 1)
        voices = []
        for ratio, level in _PARTIALS:
            swell_rate = 1.0 / rng.uniform(20.0, 60.0)
            swell_phase = rng.uniform(0.0, 2 * np.pi)
            for side in (-1.0, 1.0):
                freq = _ROOT_HZ * ratio
                cents = side * _DETUNE_CENTS * rng.uniform(0.6, 1.4)
                offset_hz = freq * (2.0 ** (cents / 1200.0) - 1.0)
                wander_hz = 0.5 * abs(offset_hz)  # the detune wanders by half its size
                wander_rate = 1.0 / rng.uniform(30.0, 70.0)
                wander_phase = rng.uniform(0.0, 2 * np.pi)
                angle = (side * _PAN + 1.0) * np.pi / 4
                voices.append(
                    (
                        freq + offset_hz,
                        wander_hz,
                        wander_rate,
                        wander_phase,
                        level,
                        swell_rate,
                        swell_phase + side * 0.5,  # the pair swells slightly apart
                        np.cos(angle),
                        np.sin(angle),
                    )
                )
        v = np.array(voices).T
        self._freq, self._wander_hz, self._wander_rate, self._wander_phase = v[:4]
        self._level, self._swell_rate, self._swell_phase = v[4:7]
        self._pan = np.ascontiguousarray(v[7:9].T).astype(np.float32)  # (voices, 2)
        # one control interval of each voice's rotation, and the interpolation ramp
        steps = 2 * np.pi * np.arange(_CONTROL)[:, None] * self._freq / SAMPLE_RATE
        self._rot_cos = np.cos(steps).astype(np.float32)[None]
        self._rot_sin = np.sin(steps).astype(np.float32)[None]
        self._ramp = (np.arange(_CONTROL, dtype=np.float32) / _CONTROL)[None, :, None]

    def _render(self, n: int) -> F64:
        start = self.position_samples
        # Oscillators are computed exactly (float64) on a fixed grid of absolute indices,
        # every _CONTROL samples, and run on from there by a fixed rotation (float32), so
        # the cost per sample is a few multiplies and any block size gives the same grid.
        # The detune and swell modulators move far too slowly to matter within 0.7 ms.
        first = start // _CONTROL * _CONTROL
        count = -(-(start + n - first) // _CONTROL)  # control intervals to cover
        grid_t = ((first + _CONTROL * np.arange(count + 1)) / SAMPLE_RATE)[:, None]
        two_pi = 2 * np.pi
        # cycles of f(t) = freq + wander_hz * sin(2 pi r t + phase), integrated
        cycles = self._freq * grid_t - (self._wander_hz / (two_pi * self._wander_rate)) * np.cos(
            two_pi * self._wander_rate * grid_t + self._wander_phase
        )
        angle = two_pi * (cycles - np.floor(cycles))
        cos_g = np.cos(angle[:-1]).astype(np.float32)[:, None, :]
        sin_g = np.sin(angle[:-1]).astype(np.float32)[:, None, :]
        tones = sin_g * self._rot_cos + cos_g * self._rot_sin  # sin(a + b), (count, C, voices)
        swell = self._level * (
            1.0 + 0.35 * np.sin(two_pi * self._swell_rate * grid_t + self._swell_phase)
        )
        swell32 = swell.astype(np.float32)
        tones *= swell32[:-1, None, :] + np.diff(swell32, axis=0)[:, None, :] * self._ramp
        flat = tones.reshape(count * _CONTROL, -1)[start - first : start - first + n]
        out: F64 = (flat @ self._pan).astype(np.float64)
        return out
