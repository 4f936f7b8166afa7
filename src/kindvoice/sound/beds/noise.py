"""Coloured-noise backgrounds: ``brown`` (1/f^2, a deep rumble) and ``pink`` (1/f, even).

Each channel has its own white-noise stream, so the bed feels wide rather than sitting
in the middle of the head.
"""

from __future__ import annotations

import numpy as np

from kindvoice.audio import SAMPLE_RATE
from kindvoice.sound.beds.base import F64, Bed, NoiseSource, Seed, rngs

# A leaky integrator (pole just inside 1) gives 1/f^2 above ~8 Hz without drifting off.
_LEAK = 0.999
# A gentle high-pass removes what the integrator leaves near DC (inaudible, wastes headroom).
_HIGHPASS_HZ = 25.0

# Julius O. Smith's 1/f filter (3 poles and 3 zeros interleaved): within ~0.5 dB of
# -3 dB/octave from ~10 Hz to above 10 kHz.
_PINK_B = [0.049922035, -0.095993537, 0.050612699, -0.004408786]
_PINK_A = [1.0, -2.494956002, 2.017265875, -0.522189400]


def brown_sos() -> F64:
    """The brown-noise filter as second-order sections: integrator, then high-pass."""
    from scipy import signal  # imported here: scipy is slow to import

    integrator = np.array([[1.0, 0.0, 0.0, 1.0, -_LEAK, 0.0]])
    highpass = signal.butter(2, _HIGHPASS_HZ, btype="highpass", fs=SAMPLE_RATE, output="sos")
    sos: F64 = np.vstack([integrator, highpass])
    return sos


def pink_sos() -> F64:
    """The pink-noise filter as second-order sections, with the same gentle high-pass
    (1/f keeps rising towards DC)."""
    from scipy import signal  # imported here: scipy is slow to import

    highpass = signal.butter(2, _HIGHPASS_HZ, btype="highpass", fs=SAMPLE_RATE, output="sos")
    sos: F64 = np.vstack([signal.tf2sos(_PINK_B, _PINK_A), highpass])
    return sos


class BrownBed(Bed):
    """Brown noise: white noise through a 1/f^2 filter, -6 dB per octave."""

    calibration_db = -39.0

    def __init__(self, seed: Seed = 0) -> None:
        super().__init__()
        (rng,) = rngs(seed, 1)
        self._noise = NoiseSource(rng, brown_sos())

    def _render(self, n: int) -> F64:
        return self._noise.next(n)


class PinkBed(Bed):
    """Pink noise: white noise through a 1/f filter, -3 dB per octave."""

    calibration_db = -1.9

    def __init__(self, seed: Seed = 0) -> None:
        super().__init__()
        (rng,) = rngs(seed, 1)
        self._noise = NoiseSource(rng, pink_sos())

    def _render(self, n: int) -> F64:
        return self._noise.next(n)
