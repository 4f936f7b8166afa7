"""Background beds: seamless block rendering, calibrated loudness, spectra, stereo width,
determinism, layering and the registry's errors. Every check runs on rendered audio."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from kindvoice.audio import SAMPLE_RATE
from kindvoice.errors import UnknownNameError, UsageError
from kindvoice.sound.beds import (
    BED_REFERENCE_LUFS,
    background_descriptions,
    background_names,
    make_bed,
    measure_lufs,
)

SOUNDING = [name for name in background_names() if name != "none"]
SEEDED = ["brown", "pink", "drone", "rain", "ocean"]  # the beds whose sound uses the seed
REQUIRED = {"none", "brown", "pink", "drone", "rain", "ocean"}


def psd_slope_db_per_decade(x: np.ndarray) -> float:
    """Slope of a line fitted to the log-log Welch PSD between 50 Hz and 5 kHz."""
    freqs, psd = signal.welch(x, fs=SAMPLE_RATE, nperseg=2**14)
    band = (freqs >= 50) & (freqs <= 5000)
    # fit in log frequency with evenly spaced points, so the many high bins don't dominate
    grid = np.logspace(np.log10(50), np.log10(5000), 60)
    level_db = np.interp(grid, freqs[band], 10 * np.log10(psd[band]))
    slope, _ = np.polyfit(np.log10(grid), level_db, 1)
    return float(slope)


def test_registry_lists_required_beds_with_descriptions() -> None:
    assert set(background_names()) >= REQUIRED
    descriptions = background_descriptions()
    assert list(descriptions) == background_names()
    assert all(d and "\n" not in d for d in descriptions.values())


@pytest.mark.parametrize("name", [*background_names(), "rain@-3+drone@-8"])
def test_block_render_equals_one_shot(name: str) -> None:
    seconds = 10
    whole = make_bed(name, seed=5).render(seconds * SAMPLE_RATE)
    assert whole.dtype == np.float32 and whole.shape == (seconds * SAMPLE_RATE, 2)
    bed = make_bed(name, seed=5)
    blocks = [bed.render(SAMPLE_RATE) for _ in range(seconds - 1)]
    # and some odd block sizes for the last second, including an empty one
    blocks += [bed.render(k) for k in (1, 0, 4799, 24_000, 19_200)]
    joined = np.concatenate(blocks)
    assert joined.shape == whole.shape
    assert np.abs(joined - whole).max() <= 1e-5


@pytest.mark.parametrize("name", SOUNDING)
def test_loudness_is_calibrated_to_the_reference(name: str) -> None:
    for seed in (0, 1):
        lufs = measure_lufs(make_bed(name, seed), 30.0)
        assert abs(lufs - BED_REFERENCE_LUFS) <= 1.5, f"{name} seed {seed}: {lufs:.2f} LUFS"


@pytest.mark.parametrize("name", SOUNDING)
def test_no_clipping_and_no_dc(name: str) -> None:
    x = make_bed(name).render(30 * SAMPLE_RATE).astype(np.float64)
    assert np.abs(x).max() < 0.9
    assert np.abs(x.mean(axis=0)).max() < 1e-3 * np.sqrt(np.mean(x**2))


def test_none_is_silence() -> None:
    assert not make_bed("none").render(SAMPLE_RATE).any()


@pytest.mark.parametrize(("name", "expected_db_per_decade"), [("brown", -20.0), ("pink", -10.0)])
def test_noise_colour_slope(name: str, expected_db_per_decade: float) -> None:
    x = make_bed(name).render(20 * SAMPLE_RATE).astype(np.float64)
    for channel in range(2):
        slope = psd_slope_db_per_decade(x[:, channel])
        assert slope == pytest.approx(expected_db_per_decade, abs=1.5)


@pytest.mark.parametrize("name", ["brown", "pink", "rain", "ocean"])
def test_noise_beds_are_wide(name: str) -> None:
    x = make_bed(name).render(10 * SAMPLE_RATE).astype(np.float64)
    assert abs(np.corrcoef(x[:, 0], x[:, 1])[0, 1]) < 0.1


@pytest.mark.parametrize("name", ["drone", "binaural-theta", "isochronic"])
def test_tonal_beds_move_smoothly(name: str) -> None:
    # tones have no business jumping: the biggest sample-to-sample step stays small
    x = make_bed(name).render(20 * SAMPLE_RATE).astype(np.float64)
    assert np.abs(np.diff(x, axis=0)).max() < 0.05 * np.abs(x).max()


def test_ocean_swells_every_eight_to_twelve_seconds() -> None:
    x = make_bed("ocean", seed=2).render(120 * SAMPLE_RATE).astype(np.float64)
    # the loudness contour (RMS per 0.25 s) should have its strongest rhythm near 0.1 Hz
    hop = SAMPLE_RATE // 4
    rms = np.sqrt(np.mean(x[: len(x) // hop * hop, 0].reshape(-1, hop) ** 2, axis=1))
    spectrum = np.abs(np.fft.rfft(rms - rms.mean()))
    freqs = np.fft.rfftfreq(len(rms), 0.25)
    peak_hz = freqs[np.argmax(spectrum[1:]) + 1]
    assert 1 / 14 <= peak_hz <= 1 / 7
    assert rms.max() > 2.0 * rms.min()


def test_rain_has_droplets_above_the_hiss() -> None:
    x = make_bed("rain", seed=1).render(20 * SAMPLE_RATE).astype(np.float64)
    mono = x.sum(axis=1)
    crest = np.abs(mono).max() / np.sqrt(np.mean(mono**2))
    assert crest > 5.0  # gaussian hiss alone would sit near 4.5 over 20 s


@pytest.mark.parametrize("name", SEEDED)
def test_seeded_and_deterministic(name: str) -> None:
    a = make_bed(name, seed=7).render(2 * SAMPLE_RATE)
    b = make_bed(name, seed=7).render(2 * SAMPLE_RATE)
    c = make_bed(name, seed=8).render(2 * SAMPLE_RATE)
    assert a.tobytes() == b.tobytes()
    assert a.tobytes() != c.tobytes()


@pytest.mark.parametrize(
    ("name", "beat_hz"),
    [("binaural-delta", 2.0), ("binaural-theta", 6.0), ("binaural-alpha", 10.0)],
)
def test_binaural_carriers_differ_by_the_beat(name: str, beat_hz: float) -> None:
    bed = make_bed(name)
    assert bed.needs_stereo
    x = bed.render(10 * SAMPLE_RATE).astype(np.float64)
    freqs = np.fft.rfftfreq(len(x), 1 / SAMPLE_RATE)  # 0.1 Hz resolution
    left = freqs[np.argmax(np.abs(np.fft.rfft(x[:, 0])))]
    right = freqs[np.argmax(np.abs(np.fft.rfft(x[:, 1])))]
    assert left == pytest.approx(200.0, abs=0.2)
    assert right - left == pytest.approx(beat_hz, abs=0.2)


def test_isochronic_pulses_and_survives_mono() -> None:
    bed = make_bed("isochronic")
    assert not bed.needs_stereo
    x = bed.render(10 * SAMPLE_RATE).astype(np.float64)
    assert np.array_equal(x[:, 0], x[:, 1])
    envelope = np.abs(signal.hilbert(x[:, 0]))
    spectrum = np.abs(np.fft.rfft(envelope - envelope.mean()))
    freqs = np.fft.rfftfreq(len(envelope), 1 / SAMPLE_RATE)
    assert freqs[np.argmax(spectrum)] == pytest.approx(6.0, abs=0.2)


def test_layer_levels_are_relative_to_the_reference() -> None:
    alone = make_bed("rain", seed=3).render(SAMPLE_RATE).astype(np.float64)
    quieter = make_bed("rain@-6", seed=3).render(SAMPLE_RATE).astype(np.float64)
    assert np.allclose(quieter, alone * 10 ** (-6 / 20), atol=1e-6)
    louder = make_bed("rain@+3.5dB", seed=3).render(SAMPLE_RATE).astype(np.float64)
    assert np.allclose(louder, alone * 10 ** (3.5 / 20), atol=1e-6)


def test_layers_add_and_keep_their_own_noise() -> None:
    layered = measure_lufs(make_bed("brown+pink"), 30.0)
    assert layered == pytest.approx(BED_REFERENCE_LUFS + 3.0, abs=1.0)
    # two layers of the same bed are two streams, not one doubled (+3 LU, not +6)
    doubled = measure_lufs(make_bed("brown+brown"), 30.0)
    assert doubled == pytest.approx(BED_REFERENCE_LUFS + 3.0, abs=1.0)
    # -3 dB and -8 dB add in power to -1.8 dB
    quiet = measure_lufs(make_bed("rain@-3+drone@-8"), 30.0)
    assert quiet == pytest.approx(BED_REFERENCE_LUFS - 1.8, abs=1.0)


def test_layers_needing_stereo_make_the_sum_need_it() -> None:
    assert make_bed("rain@-6+binaural-theta@-10").needs_stereo
    assert not make_bed("rain+drone").needs_stereo


@pytest.mark.parametrize("spec", ["rian", "rain+oceen", "drone@-3+Bogus"])
def test_unknown_background_lists_the_choices(spec: str) -> None:
    with pytest.raises(UnknownNameError) as caught:
        make_bed(spec)
    message = caught.value.format_message()
    assert message.startswith("Unknown background")
    assert all(name in message for name in REQUIRED)


def test_misspelt_name_gets_a_suggestion() -> None:
    with pytest.raises(UnknownNameError, match="Did you mean rain"):
        make_bed("rian")


@pytest.mark.parametrize("spec", ["rain@loud", "rain@", "+drone", "rain++drone"])
def test_unreadable_spec_is_a_usage_error(spec: str) -> None:
    with pytest.raises(UsageError, match="name@dB"):
        make_bed(spec)


def test_negative_length_is_refused() -> None:
    with pytest.raises(ValueError):
        make_bed("pink").render(-1)
