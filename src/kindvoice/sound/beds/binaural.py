"""Tone backgrounds for entrainment listening: binaural beats and isochronic pulses.

``binaural-*``: a pure sine in each ear, the right one ``beat_hz`` higher, so the brain
hears a slow beat that exists in neither channel. It needs headphones and a stereo file
(mono sums the two carriers into an ordinary, audible beat), hence ``needs_stereo``.
``isochronic``: one tone whose loudness pulses smoothly, the same in both ears, so it
survives mono and speakers. kindvoice makes no health claims for either.
"""

from __future__ import annotations

import numpy as np

from kindvoice.sound.beds.base import F64, Bed, Seed, seconds

_CARRIER_HZ = 200.0
_ISOCHRONIC_TONE_HZ = 220.0
_ISOCHRONIC_PULSE_HZ = 6.0


class BinauralBed(Bed):
    """``_CARRIER_HZ`` in the left ear, ``_CARRIER_HZ + beat_hz`` in the right."""

    needs_stereo = True
    calibration_db = -19.0

    def __init__(self, seed: Seed = 0, *, beat_hz: float = 6.0) -> None:
        super().__init__()
        self.left_hz = _CARRIER_HZ
        self.right_hz = _CARRIER_HZ + beat_hz

    def _render(self, n: int) -> F64:
        t = seconds(self.position_samples, n)
        return np.column_stack(
            [np.sin(2 * np.pi * self.left_hz * t), np.sin(2 * np.pi * self.right_hz * t)]
        )


class IsochronicBed(Bed):
    """A tone pulsing ``pulse_hz`` times a second with smooth (raised-cosine) pulses."""

    calibration_db = -13.4

    def __init__(self, seed: Seed = 0, *, pulse_hz: float = _ISOCHRONIC_PULSE_HZ) -> None:
        super().__init__()
        self.pulse_hz = pulse_hz

    def _render(self, n: int) -> F64:
        t = seconds(self.position_samples, n)
        pulse = (0.5 - 0.5 * np.cos(2 * np.pi * self.pulse_hz * t)) ** 2
        tone = pulse * np.sin(2 * np.pi * _ISOCHRONIC_TONE_HZ * t)
        return np.column_stack([tone, tone])
