"""Cue tones for ``[breathe]`` passages, and where they fall in the passage.

Three soft tones a listener can tell apart with eyes closed: "in" glides up (E4 to A4),
"out" glides down (G4 to C4) and lasts longest, "hold" is a short, steady tone between
them. Each is a sine with a quiet octave (so small phone speakers still carry it), a
smooth raised-cosine rise and a long fall, starting and ending at exactly 0 and peaking
at 1.0: the mixer sets the level.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from kindvoice.audio import SAMPLE_RATE, Mono, ms_to_samples
from kindvoice.errors import UnknownNameError, UsageError

CUE_KINDS = ("in", "hold", "out")


@dataclass(frozen=True)
class _Cue:
    start_hz: float
    end_hz: float
    duration_ms: int
    rise: float  # fraction of the tone spent rising; the rest is the fall
    octave_level: float  # the octave partial, relative to the fundamental


_CUES = {
    "in": _Cue(start_hz=329.6, end_hz=440.0, duration_ms=900, rise=0.35, octave_level=0.15),
    "hold": _Cue(start_hz=392.0, end_hz=392.0, duration_ms=600, rise=0.25, octave_level=0.05),
    "out": _Cue(start_hz=392.0, end_hz=261.6, duration_ms=1000, rise=0.2, octave_level=0.15),
}


def _envelope(n: int, rise: float) -> npt.NDArray[np.float64]:
    """0 -> 1 -> 0 in two raised-cosine halves; exactly 0 at both ends."""
    u = np.linspace(0.0, 1.0, n)
    up = 0.5 - 0.5 * np.cos(np.pi * np.minimum(u / rise, 1.0))
    down = 0.5 + 0.5 * np.cos(np.pi * np.clip((u - rise) / (1.0 - rise), 0.0, 1.0))
    env: npt.NDArray[np.float64] = np.where(u < rise, up, down) ** 1.5
    return env


@lru_cache(maxsize=16)
def _tone(kind: str, n: int) -> Mono:
    cue = _CUES[kind]
    u = np.linspace(0.0, 1.0, n)
    # an eased glide, so the pitch settles rather than sliding at a constant rate
    freq = cue.start_hz + (cue.end_hz - cue.start_hz) * (0.5 - 0.5 * np.cos(np.pi * u))
    phase = 2 * np.pi * np.cumsum(freq) / SAMPLE_RATE
    y = (np.sin(phase) + cue.octave_level * np.sin(2 * phase)) * _envelope(n, cue.rise)
    y /= np.abs(y).max()
    tone: Mono = y.astype(np.float32)
    tone.flags.writeable = False
    return tone


def cue_tone(kind: str) -> Mono:
    """The cue tone for a breathing phase (``"in"``, ``"hold"`` or ``"out"``): float32
    mono at the house rate, 0.6-1.0 s, peak 1.0, starting and ending at 0. Read-only."""
    if kind not in _CUES:
        raise UnknownNameError("breath cue", kind, CUE_KINDS)
    return _tone(kind, ms_to_samples(_CUES[kind].duration_ms))


def breathe_cues(in_ms: int, hold_ms: int, out_ms: int, count: int) -> list[tuple[int, str, Mono]]:
    """The cues of a ``[breathe]`` passage: ``(offset in samples from the passage start,
    kind, tone)`` at the start of every phase. The passage lasts ``count * (in + hold + out)``
    ms; a tone longer than its phase is shortened to 90 % of it, so every tone ends
    before the next phase (and the passage) does. Phases of 0 ms get no cue."""
    if count < 1 or min(in_ms, hold_ms, out_ms) < 0:
        raise UsageError(
            f"[breathe] needs at least 1 breath and no negative phase "
            f"(got count={count}, in={in_ms} ms, hold={hold_ms} ms, out={out_ms} ms)."
        )
    cycle_ms = in_ms + hold_ms + out_ms
    cues: list[tuple[int, str, Mono]] = []
    for breath in range(count):
        phase_start_ms = breath * cycle_ms
        for kind, phase_ms in (("in", in_ms), ("hold", hold_ms), ("out", out_ms)):
            if phase_ms > 0:
                full = ms_to_samples(_CUES[kind].duration_ms)
                room = ms_to_samples(phase_ms) * 9 // 10
                tone = cue_tone(kind) if full <= room else _tone(kind, max(room, 2))
                cues.append((ms_to_samples(phase_start_ms), kind, tone))
            phase_start_ms += phase_ms
    return cues
