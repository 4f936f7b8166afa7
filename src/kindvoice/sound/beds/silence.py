"""The ``none`` background: silence, for a voice-only track."""

from __future__ import annotations

import numpy as np

from kindvoice.sound.beds.base import F64, Bed, Seed


class SilenceBed(Bed):
    """Zeros. Calibration does not apply: silence has no loudness."""

    def __init__(self, seed: Seed = 0) -> None:
        super().__init__()

    def _render(self, n: int) -> F64:
        return np.zeros((n, 2))
