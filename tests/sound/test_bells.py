"""Bells: the modal spectrum, exact timeline lengths, clean edges, peak, cache, errors."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from kindvoice.audio import SAMPLE_RATE
from kindvoice.errors import UnknownNameError, UsageError
from kindvoice.sound.bells import (
    DEFAULT_BELL,
    bell_descriptions,
    bell_duration_samples,
    bell_names,
    bell_partials_hz,
    render_bell,
)


def strongest_peaks_hz(x: np.ndarray, count: int) -> list[float]:
    """The ``count`` strongest spectral peaks (Welch PSD, 1.5 Hz bins), lowest first."""
    freqs, psd = signal.welch(x, fs=SAMPLE_RATE, nperseg=2**15)
    peaks, _ = signal.find_peaks(psd, distance=int(50 / (freqs[1] - freqs[0])))
    top = peaks[np.argsort(psd[peaks])[::-1][:count]]
    return sorted(float(f) for f in freqs[top])


def test_names_and_descriptions() -> None:
    assert bell_names()[0] == DEFAULT_BELL == "bowl"
    assert set(bell_names()) == {"bowl", "soft", "bright", "chime"}
    descriptions = bell_descriptions()
    assert set(descriptions) == set(bell_names())
    assert all(d and "\n" not in d for d in descriptions.values())


def test_bowl_partials_follow_the_singing_bowl_ratios() -> None:
    model = bell_partials_hz("bowl")
    assert model[0] == pytest.approx(220.0)
    peaks = strongest_peaks_hz(render_bell("bowl").astype(np.float64), 3)
    for found, expected in zip(peaks, model[:3], strict=True):
        assert abs(found - expected) < 3.0
    ratios = [p / peaks[0] for p in peaks]
    assert ratios == pytest.approx([1.0, 2.83, 5.42], abs=0.02)


@pytest.mark.parametrize("name", ["soft", "bright", "chime"])
def test_other_bells_ring_at_their_model_frequencies(name: str) -> None:
    peaks = strongest_peaks_hz(render_bell(name).astype(np.float64), 2)
    for found, expected in zip(peaks, bell_partials_hz(name)[:2], strict=True):
        assert abs(found - expected) < 3.0


def test_partials_beat_as_detuned_pairs() -> None:
    # Each mode is two sines a few tenths of a Hz apart: with 0.1 Hz resolution the
    # fundamental shows as two peaks, not one.
    x = render_bell("bowl").astype(np.float64)
    spectrum = np.abs(np.fft.rfft(x, n=8 * len(x)))
    freqs = np.fft.rfftfreq(8 * len(x), 1 / SAMPLE_RATE)
    band = (freqs > 219.0) & (freqs < 221.0)
    peaks, _ = signal.find_peaks(spectrum[band], prominence=spectrum[band].max() * 0.2)
    assert len(peaks) == 2
    split_hz = float(np.diff(freqs[band][peaks])[0])
    assert 0.1 < split_hz < 1.0


@pytest.mark.parametrize("name", ["bowl", "soft", "bright", "chime"])
@pytest.mark.parametrize("strikes", [1, 2, 3])
def test_render_length_matches_timeline_length(name: str, strikes: int) -> None:
    x = render_bell(name, strikes)
    assert x.dtype == np.float32 and x.ndim == 1
    assert len(x) == bell_duration_samples(name, strikes)


def test_durations_fit_the_kind() -> None:
    assert 9.0 <= bell_duration_samples("bowl") / SAMPLE_RATE <= 12.0
    assert 3.0 <= bell_duration_samples("chime") / SAMPLE_RATE <= 5.0
    one = bell_duration_samples("bowl", 1)
    assert bell_duration_samples("bowl", 3) - one == 2 * 5 * SAMPLE_RATE


@pytest.mark.parametrize("name", ["bowl", "soft", "bright", "chime"])
def test_edges_peak_and_ring_out(name: str) -> None:
    x = render_bell(name, 2, strength=0.5).astype(np.float64)
    assert x[0] == 0.0 and x[-1] == 0.0
    assert np.abs(x).max() == pytest.approx(0.5, abs=1e-6)
    assert abs(x.mean()) < 1e-4  # no DC
    # no click at the strike: the onset ramps up from 0 over a few samples at least
    assert np.abs(x[:5]).max() < 0.05 * 0.5
    # almost nothing above the partials and the mallet's band: a click is broadband
    # (a step of 1 % of the peak anywhere would put 2e-3 of the peak above 15 kHz)
    sos = signal.butter(8, 15_000, btype="highpass", fs=SAMPLE_RATE, output="sos")
    assert np.abs(signal.sosfilt(sos, x)).max() < 1.5e-3 * 0.5
    # the ring-out has decayed: the last half second is >= 35 dB below the strike
    head = np.sqrt(np.mean(x[: SAMPLE_RATE // 2] ** 2))
    tail = np.sqrt(np.mean(x[-SAMPLE_RATE // 2 :] ** 2))
    assert 20 * np.log10(tail / head) < -35.0


def test_later_strikes_add_onto_the_ring_out() -> None:
    one = render_bell("bowl", 1).astype(np.float64)
    two = render_bell("bowl", 2).astype(np.float64)
    interval = 5 * SAMPLE_RATE
    # before the second strike, two strikes are one strike rescaled (peak-normalised)
    scale = np.abs(two[:interval]).max() / np.abs(one[:interval]).max()
    assert np.allclose(two[:interval], one[:interval] * scale, atol=1e-5)
    # and just after it the level jumps back up
    before = np.sqrt(np.mean(two[interval - 4800 : interval] ** 2))
    after = np.sqrt(np.mean(two[interval + 2400 : interval + 7200] ** 2))
    assert after > 4 * before


def test_renders_are_cached_read_only_and_deterministic() -> None:
    a = render_bell("chime", 1, 1.0, 3)
    assert render_bell("chime", 1, 1.0, 3) is a
    assert not a.flags.writeable
    with pytest.raises(ValueError):
        a[0] = 1.0
    render_bell.cache_clear()
    assert render_bell("chime", 1, 1.0, 3).tobytes() == a.tobytes()
    assert render_bell("chime", 1, 1.0, 4).tobytes() != a.tobytes()


def test_unknown_bell_lists_the_choices() -> None:
    with pytest.raises(UnknownNameError) as caught:
        render_bell("bwol")
    message = caught.value.format_message()
    assert "bwol" in message and "Did you mean bowl" in message
    assert all(name in message for name in bell_names())
    with pytest.raises(UnknownNameError):
        bell_duration_samples("gong")


def test_bad_strikes_and_strength_are_usage_errors() -> None:
    with pytest.raises(UsageError):
        bell_duration_samples("bowl", 0)
    with pytest.raises(UsageError):
        render_bell("bowl", 1, strength=1.5)
