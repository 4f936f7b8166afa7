"""The true-peak limiter and the loudness meter, on real signals."""

from __future__ import annotations

import numpy as np
import pytest

from kindvoice.audio import SAMPLE_RATE
from kindvoice.mix.master import TruePeakLimiter, limit, loudness_lufs, true_peak_db


def loud_speechlike(seconds: float, seed: int = 1) -> np.ndarray:
    """Band-limited noise bursts with a hot crest, like limited speech but nastier."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SAMPLE_RATE)
    x = rng.standard_normal(n)
    envelope = (np.sin(np.linspace(0, 40 * np.pi, n)) > 0).astype(float)
    x = np.convolve(x, np.hanning(9) / np.hanning(9).sum(), mode="same") * envelope
    # a near-Nyquist burst whose true peak lies between samples
    t = np.arange(2000) / SAMPLE_RATE
    x[5000:7000] += 0.9 * np.sin(2 * np.pi * 11_990 * t + 0.7)
    return (x / np.max(np.abs(x)) * 2.0).astype(np.float32)  # +6 dBFS sample peaks


@pytest.mark.parametrize("stereo", [False, True])
def test_limiter_holds_the_true_peak_ceiling(stereo: bool) -> None:
    x = loud_speechlike(4.0)
    if stereo:
        x = np.stack([x, np.roll(x, 7) * 0.8], axis=1)
    assert true_peak_db(x) > 5.0
    y = limit(x, -1.5)
    assert y.shape == x.shape
    assert true_peak_db(y) <= -1.45
    # a limiter, not a clip: quiet parts pass through untouched
    quiet = np.abs(x) < 0.05
    if stereo:
        quiet = quiet.all(axis=1)
    far = np.convolve(quiet, np.ones(6001), mode="same") >= 6001  # 62 ms from any peak
    assert np.allclose(y[far], x[far], atol=1e-6)


def test_streaming_equals_one_shot() -> None:
    x = loud_speechlike(5.0, seed=3)
    whole = limit(x, -1.0)
    limiter = TruePeakLimiter(-1.0)
    parts = [limiter.process(x[i : i + 12_345]) for i in range(0, len(x), 12_345)]
    streamed = np.concatenate([*parts, limiter.flush()])
    assert len(streamed) == len(x)
    assert np.allclose(streamed, whole, atol=1e-6)


def test_quiet_signal_is_left_alone() -> None:
    rng = np.random.default_rng(0)
    x = (0.1 * rng.standard_normal((SAMPLE_RATE, 2))).astype(np.float32)
    assert np.array_equal(limit(x, -1.0), x)


def test_loudness_of_a_reference_tone() -> None:
    # BS.1770: a 997 Hz sine at -20 dBFS peak in both channels reads about -20 LUFS... per
    # channel -23 dB mean square, two channels +3 dB, K-weighting ~+0.7 at 1 kHz, -0.691
    t = np.arange(5 * SAMPLE_RATE) / SAMPLE_RATE
    tone = (10 ** (-20 / 20) * np.sin(2 * np.pi * 997 * t)).astype(np.float32)
    reading = loudness_lufs(np.stack([tone, tone], axis=1))
    assert reading == pytest.approx(-20.0, abs=0.5)


def test_stream_meter_agrees_with_pyloudnorm_in_pieces() -> None:
    from kindvoice.mix.master import StreamMeter

    rng = np.random.default_rng(7)
    # speech-like: noise bursts of varying level with silences between them
    parts = []
    for _ in range(40):
        n = int(rng.uniform(0.3, 2.5) * SAMPLE_RATE)
        parts.append(
            (rng.standard_normal(n) * 10 ** (rng.uniform(-30, -10) / 20)).astype(np.float32)
        )
        parts.append(np.zeros(int(rng.uniform(0.2, 3.0) * SAMPLE_RATE), dtype=np.float32))
    meter = StreamMeter()
    for part in parts:
        meter.feed(part)
    whole = np.concatenate(parts)
    assert meter.lufs() == pytest.approx(loudness_lufs(whole), abs=0.05)
