"""The ``music:PATH`` background: decoding every supported format, resampling, loudness
calibration, seamless equal-power loops, start offsets, layering and the errors. Every
check runs on real files written here and on the rendered stream."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile

from kindvoice.audio import SAMPLE_RATE, db_to_gain
from kindvoice.errors import AudioIOError, UnknownNameError, UsageError
from kindvoice.sound.beds import BED_REFERENCE_LUFS, LayeredBed, make_bed
from kindvoice.sound.beds.music import MusicBed, _load, crossfade_samples, load_music


def write(path: Path, audio: np.ndarray, rate: int = 44_100) -> Path:
    subtype = "FLOAT" if path.suffix == ".wav" else None  # exact samples where it matters
    soundfile.write(str(path), audio, rate, subtype=subtype)
    return path


def tone(seconds: float, hz: float, rate: int = 44_100, level: float = 0.5) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    return level * np.sin(2 * np.pi * hz * t)


def noise(seconds: float, rate: int = 44_100, seed: int = 1) -> np.ndarray:
    """Stereo noise, band-limited a little: music-like in that its two ends are unrelated."""
    from scipy import signal

    rng = np.random.default_rng(seed)
    sos = signal.butter(2, [100, 4000], btype="bandpass", fs=rate, output="sos")
    x = signal.sosfilt(sos, rng.standard_normal((round(seconds * rate), 2)), axis=0)
    return 0.3 * x / np.abs(x).max()


def peak_hz(x: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / SAMPLE_RATE)[np.argmax(spectrum)])


@pytest.mark.parametrize("suffix", [".wav", ".flac", ".ogg", ".mp3"])
def test_every_format_decodes_resampled_to_48k_stereo(tmp_path: Path, suffix: str) -> None:
    path = write(tmp_path / f"tone{suffix}", tone(3.0, 1000.0))  # mono, 44.1 kHz
    audio = load_music(path)
    assert audio.dtype == np.float32 and audio.shape[1] == 2
    # about 3 s at 48 kHz (mp3 and ogg may add a few ms of codec padding)
    assert abs(len(audio) - 3 * SAMPLE_RATE) < 0.1 * SAMPLE_RATE
    assert np.array_equal(audio[:, 0], audio[:, 1])  # mono is doubled
    assert peak_hz(audio[SAMPLE_RATE : 2 * SAMPLE_RATE, 0]) == pytest.approx(1000.0, abs=1.0)


def test_other_formats_fall_back_to_ffmpeg(tmp_path: Path) -> None:
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    path = tmp_path / "tone.m4a"  # AAC: libsndfile cannot read it
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i",
         "sine=frequency=440:duration=3", "-c:a", "aac", str(path)],
        check=True,
    )  # fmt: skip
    with pytest.raises(soundfile.LibsndfileError):
        soundfile.info(str(path))
    audio = load_music(path)
    assert abs(len(audio) - 3 * SAMPLE_RATE) < 0.1 * SAMPLE_RATE
    assert peak_hz(audio[SAMPLE_RATE : 2 * SAMPLE_RATE, 0]) == pytest.approx(440.0, abs=1.0)


def test_loud_and_quiet_files_are_calibrated_alike(tmp_path: Path) -> None:
    import pyloudnorm

    meter = pyloudnorm.Meter(SAMPLE_RATE)
    for name, level in (("loud", 1.0), ("quiet", 0.01)):
        path = write(tmp_path / f"{name}.wav", noise(12.0) * level / 0.3)
        bed = MusicBed(path)
        first_pass = bed.render(bed.period).astype(np.float64)  # the file itself, no seam
        assert meter.integrated_loudness(first_pass) == pytest.approx(BED_REFERENCE_LUFS, abs=0.3)


def test_loop_is_periodic_and_seamless(tmp_path: Path) -> None:
    # tones cut at their crest (4 s hold a whole number of cycles and a quarter): played
    # naively in a loop, this file would jump from near its peak to 0 at every seam
    x = tone(4.0, 110.0625, rate=SAMPLE_RATE) + tone(4.0, 165.0625, rate=SAMPLE_RATE, level=0.2)
    path = write(tmp_path / "cut.wav", np.column_stack([x, x]), SAMPLE_RATE)
    naive_jump = abs(x[0] - x[-1])
    bed = MusicBed(path)
    c, period = crossfade_samples(len(x)), bed.period
    assert (c, period) == (SAMPLE_RATE, 3 * SAMPLE_RATE)  # a quarter of a 4 s file
    stream = bed.render(8 * period)[:, 0].astype(np.float64)
    gain = np.dot(stream[:period], x[:period]) / np.dot(x[:period], x[:period])
    assert np.allclose(stream[:period], gain * x[:period], atol=1e-5)  # first pass: the file
    assert np.allclose(stream[period : 2 * period], stream[2 * period : 3 * period], atol=1e-6)
    jumps = np.abs(np.diff(stream))
    within_file = jumps[: period - 1].max()
    assert naive_jump * gain > 10 * within_file  # the test can fail: the naive loop jumps
    for k in range(1, 8):  # at the start and the end of every crossfade
        for seam in (k * period, k * period + c):
            assert jumps[seam - 50 : seam + 50].max() <= 1.01 * within_file


def test_equal_power_crossfade_keeps_the_level(tmp_path: Path) -> None:
    path = write(tmp_path / "noise.wav", noise(8.0, SAMPLE_RATE), SAMPLE_RATE)
    bed = MusicBed(path)
    stream = bed.render(3 * bed.period).astype(np.float64)
    window = SAMPLE_RATE // 4
    rms_db = [
        10 * np.log10(np.mean(stream[i : i + window] ** 2))
        for i in range(0, len(stream) - window, window)
    ]
    # the crossfades (2 s each) sit inside this stretch; the level holds within 1.5 dB
    assert max(rms_db) - min(rms_db) < 1.5


def test_block_render_equals_one_shot(tmp_path: Path) -> None:
    path = write(tmp_path / "n.wav", noise(3.0))
    whole = make_bed(f"music:{path}#t=random", seed=4).render(10 * SAMPLE_RATE)
    bed = make_bed(f"music:{path}#t=random", seed=4)
    blocks = [bed.render(k) for k in (1, 0, 4799, SAMPLE_RATE, 3 * SAMPLE_RATE, 5 * SAMPLE_RATE)]
    blocks.append(bed.render(10 * SAMPLE_RATE - sum(len(b) for b in blocks)))
    assert np.array_equal(np.concatenate(blocks), whole)


def test_start_offsets(tmp_path: Path) -> None:
    x = noise(6.0, SAMPLE_RATE)
    path = write(tmp_path / "n.wav", x, SAMPLE_RATE)
    plain = make_bed(f"music:{path}").render(4 * SAMPLE_RATE)
    later = make_bed(f"music:{path}#t=1.5s").render(SAMPLE_RATE)
    assert np.array_equal(later, plain[72_000 : 72_000 + SAMPLE_RATE])
    same = [MusicBed(path, 7, "random").start for _ in range(2)]
    assert same[0] == same[1]
    starts = {MusicBed(path, seed, "random").start for seed in range(8)}
    assert len(starts) > 1 and all(0 <= s < 6 * SAMPLE_RATE for s in starts)
    with pytest.raises(UsageError, match="past the loop"):
        make_bed(f"music:{path}#t=1m")
    with pytest.raises(UsageError, match="Cannot read the music start"):
        make_bed(f"music:{path}#t=soon")


def test_layers_with_levels_and_awkward_paths(tmp_path: Path) -> None:
    folder = tmp_path / "My Music+More"
    folder.mkdir()
    path = write(folder / "calm+rain@2.wav", noise(3.0))
    bed = make_bed(f"rain+music:{path}#t=1s@-6+drone@-8", seed=2)
    assert isinstance(bed, LayeredBed)
    [_, (music, music_gain), (_, drone_gain)] = bed.layers
    assert isinstance(music, MusicBed) and music.path == path and music.start == SAMPLE_RATE
    assert music_gain == pytest.approx(db_to_gain(-6)) and drone_gain == pytest.approx(
        db_to_gain(-8)
    )
    assert not bed.needs_stereo
    assert isinstance(make_bed(f"music:{path}"), MusicBed)


def test_decoded_once_for_the_two_beds_a_render_makes(tmp_path: Path) -> None:
    path = write(tmp_path / "n.wav", noise(3.0))
    _load.cache_clear()
    make_bed(f"music:{path}")
    make_bed(f"rain+music:{path}@-3")
    info = _load.cache_info()
    assert (info.misses, info.hits) == (1, 1)
    assert not load_music(path).flags.writeable


def test_unreadable_files_name_the_path_and_the_fix(tmp_path: Path) -> None:
    missing = tmp_path / "gone.mp3"
    with pytest.raises(AudioIOError, match=r"'.*gone\.mp3' not found; check the path"):
        make_bed(f"music:{missing}")
    with pytest.raises(AudioIOError, match="is a folder"):
        make_bed(f"music:{tmp_path}")
    junk = tmp_path / "notes.mp3"
    junk.write_text("not audio at all\n" * 50)
    with pytest.raises(AudioIOError, match=r"notes\.mp3.*use a wav, flac, ogg or mp3"):
        make_bed(f"music:{junk}")
    short = write(tmp_path / "blip.wav", tone(0.3, 440.0))
    with pytest.raises(UsageError, match="at least 1 s"):
        make_bed(f"music:{short}")
    silent = write(tmp_path / "silent.wav", np.zeros(44_100 * 2))
    with pytest.raises(UsageError, match="is silent"):
        make_bed(f"music:{silent}")
    with pytest.raises(UsageError, match="music:PATH"):
        make_bed("rain+music:")
    with pytest.raises(UnknownNameError, match="Did you mean music:PATH"):
        make_bed("music")
    assert AudioIOError.exit_code == 7
