"""Mastering: loudness of the voice stem (``master_voice``), and the true-peak limiter.

pyloudnorm measures BS.1770 loudness but has no true-peak meter and no limiter, so both
are here. The limiter works on a stream of blocks (so a 60-minute render never holds the
whole track): it estimates each sample's true peak by 4x oversampling, derives the gain
that keeps it under the ceiling, looks ahead (the gain is already down when the peak
arrives), holds, and smooths, so it never clips and never pumps on speech.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pyloudnorm
from scipy.ndimage import minimum_filter1d, uniform_filter1d
from scipy.signal import resample_poly

from kindvoice.audio import SAMPLE_RATE, Mono, db_to_gain, ms_to_samples

if TYPE_CHECKING:
    from kindvoice.settings import ExportSettings

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


class StreamMeter:
    """Integrated loudness (BS.1770) of mono audio fed in pieces, in constant memory.

    pyloudnorm filters and holds the whole signal (several float64 copies of it); this
    uses the same K-weighting filters (pyloudnorm's IIRfilter designs), carries their state
    from piece to piece, and keeps only the energy of each 100 ms step; the 400 ms gating
    blocks (75 % overlap) and the absolute and relative gates follow BS.1770-4.
    """

    _STEP = SAMPLE_RATE // 10

    def __init__(self) -> None:
        from pyloudnorm.iirfilter import IIRfilter

        shelf = IIRfilter(4.0, 1 / np.sqrt(2), 1500.0, SAMPLE_RATE, "high_shelf")
        high = IIRfilter(0.0, 0.5, 38.0, SAMPLE_RATE, "high_pass")
        self._filters = [(f.b, f.a) for f in (shelf, high)]
        self._state = [np.zeros(max(len(a), len(b)) - 1) for b, a in self._filters]
        self._partial = 0.0  # energy of the unfinished step
        self._partial_n = 0
        self._steps: list[float] = []

    def feed(self, x: Audio) -> None:
        from scipy.signal import lfilter

        y = np.asarray(x, dtype=np.float64)
        for i, (b, a) in enumerate(self._filters):
            y, self._state[i] = lfilter(b, a, y, zi=self._state[i])
        squares = y * y
        at = 0
        if self._partial_n:
            take = min(self._STEP - self._partial_n, len(squares))
            self._partial += float(squares[:take].sum())
            self._partial_n += take
            at = take
            if self._partial_n == self._STEP:
                self._steps.append(self._partial)
                self._partial, self._partial_n = 0.0, 0
        whole = (len(squares) - at) // self._STEP
        if whole:
            block = squares[at : at + whole * self._STEP].reshape(whole, self._STEP)
            self._steps.extend(block.sum(axis=1).tolist())
            at += whole * self._STEP
        if at < len(squares):
            self._partial = float(squares[at:].sum())
            self._partial_n = len(squares) - at

    def lufs(self) -> float:
        steps = np.asarray(self._steps)
        if len(steps) < 4:
            return float("-inf")
        # 400 ms blocks every 100 ms: the sum of four consecutive steps
        blocks = np.convolve(steps, np.ones(4), mode="valid") / (4 * self._STEP)
        with np.errstate(divide="ignore"):
            loud = -0.691 + 10.0 * np.log10(blocks)
        kept = blocks[loud >= -70.0]
        if kept.size == 0:
            return float("-inf")
        relative = -0.691 + 10.0 * np.log10(kept.mean()) - 10.0
        kept = blocks[(loud >= -70.0) & (loud >= relative)]
        return float(-0.691 + 10.0 * np.log10(kept.mean()))


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


def master_voice(
    phrases: Mapping[str, Mono], export: ExportSettings, gap: int
) -> tuple[dict[str, Mono], float]:
    """Bring the voice stem to the ``export``'s loudness target (its ``target_lufs``) and
    under its true-peak ceiling; returns the mastered phrases and the stem's loudness.

    The stem is measured from the phrases themselves, each followed by a paragraph's
    gap (``gap`` samples) as on the timeline: the meter's 400 ms blocks that straddle
    speech and silence count as they will in the file, while the gate drops the longer
    silences. It is then gained, limited phrase by phrase, then measured again and corrected
    until the limiter's share is made up. The voice plays in every channel, and BS.1770
    sums channels: stereo reads 3 dB louder than the mono stem.
    """
    target_lufs, ceiling_db = export.target_lufs, export.true_peak_ceiling_db
    spread_db = 10.0 * float(np.log10(export.channels))
    if not phrases:
        return {}, target_lufs
    silence = np.zeros(gap, dtype=np.float32)

    def stem_lufs(audio: Mapping[str, Mono]) -> float:
        meter = StreamMeter()
        for phrase in audio.values():
            meter.feed(phrase)
            meter.feed(silence)
        return meter.lufs() + spread_db

    gains = [target_lufs - stem_lufs(phrases)]
    readings: list[float] = []
    for _ in range(4):
        g = np.float32(db_to_gain(gains[-1]))
        out = {text: limit(audio * g, ceiling_db) for text, audio in phrases.items()}
        readings.append(stem_lufs(out))
        error = target_lufs - readings[-1]
        if abs(error) < 0.1:
            break
        # the limiter takes more as the gain rises: step along the measured slope
        slope = 1.0
        if len(readings) > 1 and gains[-1] != gains[-2]:
            slope = (readings[-1] - readings[-2]) / (gains[-1] - gains[-2])
        gains.append(gains[-1] + error / min(max(slope, 0.3), 1.0))
    return out, readings[-1]
