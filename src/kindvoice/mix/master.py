"""Mastering: loudness of the voice stem, and the true-peak limiter.

pyloudnorm measures BS.1770 loudness but has no true-peak meter and no limiter, so both
are here. The limiter works on a stream of blocks (so a 60-minute render never holds the
whole track): it estimates each sample's true peak by 4x oversampling, derives the gain
that keeps it under the ceiling, looks ahead (the gain is already down when the peak
arrives), holds, and smooths, so it never clips and never pumps on speech.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyloudnorm
from scipy.ndimage import minimum_filter1d, uniform_filter1d
from scipy.signal import resample_poly

from kindvoice.audio import SAMPLE_RATE, db_to_gain, ms_to_samples

Audio = npt.NDArray[np.float32]

OVERSAMPLE = 4
_EDGE = 16  # samples at a window's edge whose oversampled peak is not yet trustworthy
_CHECK_DB = 3.5  # samples this close to the ceiling get their inter-sample peaks checked
_CONTEXT = 12  # samples each side of a checked sample fed to the oversampling filter


def true_peak(x: Audio) -> float:
    """The 4x-oversampled peak (linear) of mono or (n, channels) audio."""
    if x.size == 0:
        return 0.0
    up = resample_poly(x.astype(np.float64), OVERSAMPLE, 1, axis=0)
    return float(np.max(np.abs(up)))


def true_peak_db(x: Audio) -> float:
    """The true peak in dBTP (-inf for silence)."""
    peak = true_peak(x)
    return float(20.0 * np.log10(peak)) if peak > 0 else float("-inf")


def loudness_lufs(x: Audio) -> float:
    """Integrated loudness (BS.1770, LUFS) of mono or (n, channels) audio at the house rate."""
    meter = pyloudnorm.Meter(SAMPLE_RATE)
    data = x.astype(np.float64)
    if len(data) < SAMPLE_RATE // 2:  # the meter needs at least one 400 ms block
        data = np.concatenate([data, np.zeros((SAMPLE_RATE // 2, *data.shape[1:]))])
    return float(meter.integrated_loudness(data))


def sample_peaks(x: Audio) -> npt.NDArray[np.float32]:
    """Per-sample peak over channels, |x| (one pass per channel, no (n, c) reduction)."""
    if x.ndim == 1:
        return np.abs(x)
    peaks = np.abs(x[:, 0])
    for c in range(1, x.shape[1]):
        np.maximum(peaks, np.abs(x[:, c]), out=peaks)
    return peaks


def _window_min(x: npt.NDArray[np.float64], before: int, after: int) -> npt.NDArray[np.float64]:
    """out[n] = min(x[n - before .. n + after]) (edges: nearest value)."""
    size = before + after + 1
    return np.asarray(
        minimum_filter1d(x, size=size, mode="nearest", origin=before - size // 2), dtype=np.float64
    )


class TruePeakLimiter:
    """A look-ahead true-peak limiter over a stream of blocks (mono or (n, channels)).

    ``process(block)`` returns the samples that are ready (it holds back a look-ahead's
    worth); ``flush()`` returns the rest. Over a whole stream, the output has exactly as
    many samples as the input, in the same positions.
    """

    def __init__(
        self,
        ceiling_db: float,
        *,
        lookahead_ms: float = 5.0,
        hold_ms: float = 60.0,
    ) -> None:
        self.ceiling = db_to_gain(ceiling_db)
        self.lookahead = max(2, ms_to_samples(lookahead_ms))
        self.hold = max(1, ms_to_samples(hold_ms))
        self._history: Audio | None = None  # input already emitted (context for the gain)
        self._pending: Audio | None = None  # input received, not yet emitted
        self.max_reduction_db = 0.0

    def _gain(self, window: Audio) -> npt.NDArray[np.float64]:
        peaks = sample_peaks(window)
        # fast path: far under the ceiling, inter-sample peaks cannot reach it
        if float(peaks.max(initial=0.0)) < self.ceiling * 0.5:
            return np.ones(len(window))
        tp = self._true_peaks(window, peaks)
        need = np.asarray(np.minimum(1.0, self.ceiling / np.maximum(tp, 1e-12)), dtype=np.float64)
        if need.min() >= 1.0:
            return need
        # look ahead, hold, then a moving average no longer than the look-ahead: every
        # averaged value is <= the need at the sample, so the ceiling always holds
        held = _window_min(need, self.hold, self.lookahead - 1)
        smooth = uniform_filter1d(
            held, size=self.lookahead, mode="nearest", origin=(self.lookahead - 1) // 2
        )
        return np.asarray(smooth, dtype=np.float64)

    def _true_peaks(self, window: Audio, peaks: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
        """Each sample's peak, raised to the 4x-oversampled peak around it wherever the
        samples come within ``_CHECK_DB`` of the ceiling. Only those few samples are
        oversampled (a short window each), which keeps a long render fast; an
        inter-sample peak more than ``_CHECK_DB`` above both its neighbours would need
        content near the Nyquist frequency at full scale, which speech, bells and beds
        do not have."""
        tp = peaks.astype(np.float64)
        idx = np.flatnonzero(peaks > self.ceiling * db_to_gain(-_CHECK_DB))
        if idx.size == 0:
            return tp
        x = window if window.ndim == 2 else window[:, None]
        padded = np.pad(x.astype(np.float64), ((_CONTEXT, _CONTEXT), (0, 0)))
        around = idx[:, None] + np.arange(2 * _CONTEXT)[None, :]  # idx-CONTEXT .. idx+CONTEXT-1
        up = resample_poly(padded[around], OVERSAMPLE, 1, axis=1)
        # the stretch from the sample before to the sample after each checked sample
        lo, hi = (_CONTEXT - 1) * OVERSAMPLE, (_CONTEXT + 1) * OVERSAMPLE + 1
        local = np.abs(up[:, lo:hi, :]).max(axis=(1, 2))
        np.maximum.at(tp, idx, local)
        return tp

    def _run(self, block: Audio, final: bool) -> Audio:
        parts = [p for p in (self._history, self._pending, block) if p is not None]
        window = np.concatenate(parts) if len(parts) > 1 else parts[0]
        start = 0 if self._history is None else len(self._history)
        keep = 0 if final else self.lookahead + _EDGE
        if final:  # silence after the end lets the last samples be judged fully
            pad = np.zeros((self.lookahead + _EDGE, *window.shape[1:]), dtype=window.dtype)
            gain = self._gain(np.concatenate([window, pad]))[: len(window)]
        else:
            gain = self._gain(window)
        stop = max(start, len(window) - keep)
        g = gain[start:stop]
        if g.size:
            self.max_reduction_db = max(
                self.max_reduction_db, float(-20.0 * np.log10(max(g.min(), 1e-9)))
            )
        out = window[start:stop]
        if g.size and g.min() < 1.0:
            out = (out * (g if out.ndim == 1 else g[:, None])).astype(np.float32)
        context = self.hold + 2 * self.lookahead + 2 * _EDGE
        self._history = window[max(0, stop - context) : stop]
        self._pending = window[stop:]
        return out

    def process(self, block: Audio) -> Audio:
        return self._run(block.astype(np.float32, copy=False), final=False)

    def flush(self) -> Audio:
        empty = np.zeros((0, *(self._pending.shape[1:] if self._pending is not None else ())))
        return self._run(empty.astype(np.float32), final=True)


def limit(x: Audio, ceiling_db: float) -> Audio:
    """Limit a whole (short) signal in one go: a phrase, a bell."""
    limiter = TruePeakLimiter(ceiling_db)
    return np.concatenate([limiter.process(x), limiter.flush()])
