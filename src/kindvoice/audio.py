"""The house audio format, shared by every stage.

Inside kindvoice audio is float32 numpy at ``SAMPLE_RATE`` (48 kHz: one millisecond is
exactly 48 samples, so pydub's millisecond positions stay sample exact). Speech is mono
(1-D); the mix is stereo, shape ``(n, 2)``. Times inside the mixer are integer samples.

numpy is imported on first use (``Mono``/``Stereo`` or ``edge_ramps``), not with this
module: the command line imports it for its unit helpers, and ``kindvoice --help`` or
``kindvoice list`` need no numpy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Mono = npt.NDArray[np.float32]
    Stereo = npt.NDArray[np.float32]

SAMPLE_RATE = 48_000


def __getattr__(name: str) -> Any:
    """``Mono`` and ``Stereo``, made (with numpy) when a module first imports them."""
    if name in ("Mono", "Stereo"):
        import numpy as np
        import numpy.typing as npt

        alias = npt.NDArray[np.float32]
        globals().update(Mono=alias, Stereo=alias)
        return alias
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def ms_to_samples(ms: float) -> int:
    """Milliseconds to whole samples at the house rate."""
    return round(ms * SAMPLE_RATE / 1000.0)


def s_to_samples(seconds: float) -> int:
    """Seconds to whole samples at the house rate."""
    return round(seconds * SAMPLE_RATE)


def samples_to_s(samples: int) -> float:
    """Whole samples at the house rate to seconds."""
    return samples / SAMPLE_RATE


def db_to_gain(db: float) -> float:
    """Decibels (dB) to a linear amplitude factor."""
    return float(10.0 ** (db / 20.0))


def edge_ramps(x: Mono, ramp_ms: float = 8.0) -> Mono:
    """Raised-cosine fade-in and fade-out of ``ramp_ms`` at both ends, so nothing clicks."""
    import numpy as np

    n = min(ms_to_samples(ramp_ms), len(x) // 2)
    if n <= 0:
        return x
    y = x.astype(np.float32, copy=True)
    ramp = (0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, n, dtype=np.float64))).astype(np.float32)
    y[:n] *= ramp
    y[-n:] *= ramp[::-1]
    return y
