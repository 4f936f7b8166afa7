"""End to end: ``kindvoice timer`` and ``kindvoice sounds`` through the real CLI, and
backgrounds under a real session; every file is decoded by ffmpeg (imageio-ffmpeg) and
measured: bell onsets, lengths, spectra, seams, loudness and true peak."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyloudnorm
import pytest
import soundfile
from scipy import signal

from kindvoice.audio import SAMPLE_RATE as S
from kindvoice.pipeline import prepare
from kindvoice.settings import RenderRequest
from kindvoice.sound.beds import background_names
from kindvoice.sound.beds.music import crossfade_samples
from kindvoice.sound.bells import bell_duration_samples, bell_names, bell_partials_hz

from kv_testing import decode, ebur128, kindvoice

pytestmark = pytest.mark.slow

TAIL = 4 * S  # the mixer's default tail


def onsets_after_silence(x: np.ndarray, threshold: float = 1e-3) -> list[int]:
    """Samples where sound starts after at least a second of (near) silence."""
    loud = np.flatnonzero(np.abs(x).max(axis=1) > threshold)
    after_gap = np.flatnonzero(np.diff(loud) > S) + 1
    return [int(loud[0]), *(int(loud[i]) for i in after_gap)]


def run_ok(*args: str) -> str:
    run = kindvoice(*args)
    assert run.code == 0, run.stderr
    return run.stdout


# --------------------------------------------------------------------------- the timer


def test_twenty_minute_timer_strikes_on_time(tmp_path: Path) -> None:
    out = tmp_path / "sit.flac"  # lossless and small: mostly digital silence
    stdout = run_ok(
        "timer", "--minutes", "20", "--warmup", "1m", "--interval", "5m", "-o", str(out)
    )
    assert "bells at 1:00, 6:00, 11:00, 16:00, 21:00" in stdout
    audio = decode(out)
    # the file ends once the closing bell has rung out (10.1 s for the bowl), plus the tail
    assert len(audio) == 21 * 60 * S + bell_duration_samples("bowl") + TAIL
    assert soundfile.info(str(out)).frames == len(audio)
    found = onsets_after_silence(audio)
    expected = [m * 60 * S for m in (1, 6, 11, 16, 21)]
    assert len(found) == len(expected)
    errors_ms = [(f - e) / S * 1000 for f, e in zip(found, expected, strict=True)]
    assert max(abs(e) for e in errors_ms) <= 20.0, errors_ms
    assert max(abs(e) for e in errors_ms) <= 1.5, errors_ms  # what the design promises


def test_at_times_in_an_mp3(tmp_path: Path) -> None:
    out = tmp_path / "sit.mp3"
    args = ["timer", "--minutes", "3", "--warmup", "10s", "--at", "1m,2m15s", "--bell", "soft"]
    stdout = run_ok(*args, "-o", str(out))
    assert "bells at 0:10, 1:10, 2:25, 3:10" in stdout
    audio = decode(out)  # the MP3's Info frame makes the decoded length exact
    assert len(audio) == 190 * S + bell_duration_samples("soft") + TAIL
    expected = [10 * S, 70 * S, 145 * S, 190 * S]
    found = onsets_after_silence(audio)
    assert len(found) == len(expected)
    assert all(abs(f - e) <= 0.020 * S for f, e in zip(found, expected, strict=True))


def test_welcome_is_spoken_before_the_opening_bell(tmp_path: Path) -> None:
    out = tmp_path / "welcome.wav"
    run_ok(
        "timer", "--minutes", "1", "--warmup", "15s", "--welcome", "Welcome. Let yourself settle.",
        "-o", str(out),
    )  # fmt: skip
    found = onsets_after_silence(decode(out))
    assert len(found) == 3  # the welcome, the opening bell, the closing bell
    assert abs(found[0] - 2 * S) < 0.1 * S  # spoken from 2 s into the warm-up
    assert abs(found[1] - 15 * S) <= 0.020 * S and abs(found[2] - 75 * S) <= 0.020 * S


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--interval", "20m"], 2, "--interval 20:00 must be shorter than the sitting (20:00)"),
        (["--at", "5m,25m"], 2, "between 0:00 and 20:00"),
        (["--warmup", "1 minute"], 2, "Cannot read the --warmup '1 minute'; write 500ms, 5s"),
        (["--at", "5,10"], 2, "Cannot read the --at time '5'"),
        (["--bell", "bwol"], 4, "Unknown bell 'bwol'. Did you mean bowl? Choose one of: bowl, "),
    ],
)
def test_timer_errors_are_one_line_and_write_nothing(
    tmp_path: Path, args: list[str], code: int, message: str
) -> None:
    out = tmp_path / "x.mp3"
    run = kindvoice("timer", "--minutes", "20", *args, "-o", str(out))
    assert run.code == code, run.stderr
    assert message in run.stderr
    assert "Traceback" not in run.stderr
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- sounds


def test_sounds_lists_every_bell_and_background() -> None:
    stdout = run_ok("sounds")
    assert stdout == run_ok("sounds", "list")
    lines = stdout.splitlines()
    for name in [*bell_names(), *background_names(), "music:PATH"]:
        assert any(line.split()[:1] == [name] and len(line.split()) > 3 for line in lines), name


@pytest.mark.parametrize("name", [*bell_names(), *background_names()])
def test_every_sound_previews(tmp_path: Path, name: str) -> None:
    out = tmp_path / f"{name}.wav"
    run_ok("sounds", "preview", name, "--seconds", "20", "-o", str(out))
    audio = decode(out)
    meter = ebur128(out)
    assert meter.true_peak_dbtp <= -1.0
    if name in bell_names():  # three strikes, rung out, after a second of silence
        assert len(audio) >= S + bell_duration_samples(name, 3)
        assert onsets_after_silence(audio) == [pytest.approx(S, abs=48)]
        spectrum = np.abs(np.fft.rfft(audio[S : 3 * S, 0]))
        freqs = np.fft.rfftfreq(2 * S, 1 / S)
        assert freqs[np.argmax(spectrum)] == pytest.approx(bell_partials_hz(name)[0], rel=0.01)
    elif name == "none":
        assert len(audio) == 20 * S and not audio.any()
    else:  # audible alone at EBU R128 programme level (-23 LUFS), faded in and out
        assert len(audio) == 20 * S
        assert meter.integrated_lufs == pytest.approx(-23.0, abs=1.5)
        assert np.abs(audio[:10]).max() < 1e-3 and np.abs(audio[-10:]).max() < 1e-3


@pytest.mark.parametrize(("preset", "beat_hz"), [("delta", 2.0), ("theta", 6.0), ("alpha", 10.0)])
def test_binaural_carriers_differ_by_the_beat(tmp_path: Path, preset: str, beat_hz: float) -> None:
    out = tmp_path / "binaural.mp3"  # joint stereo MP3, as a listener gets it
    stdout = run_ok("sounds", "preview", f"binaural-{preset}", "-o", str(out))
    assert "use headphones" in stdout
    audio = decode(out)[: 30 * S].astype(np.float64)
    freqs = np.fft.rfftfreq(len(audio), 1 / S)
    left, right = (
        freqs[np.argmax(np.abs(np.fft.rfft(audio[:, ch] * np.hanning(len(audio)))))]
        for ch in (0, 1)
    )
    assert left == pytest.approx(200.0, abs=0.1)
    assert right - left == pytest.approx(beat_hz, abs=0.1)


def slope_db_per_octave(x: np.ndarray) -> float:
    freqs, psd = signal.welch(x, fs=S, nperseg=2**14)
    grid = np.logspace(np.log10(100), np.log10(5000), 60)
    level = np.interp(grid, freqs, 10 * np.log10(psd))
    return float(np.polyfit(np.log2(grid), level, 1)[0])


@pytest.mark.parametrize(("name", "slope"), [("pink", -3.0), ("brown", -6.0)])
def test_noise_beds_have_their_slope(tmp_path: Path, name: str, slope: float) -> None:
    out = tmp_path / f"{name}.flac"
    run_ok("sounds", "preview", name, "-o", str(out))
    audio = decode(out)[3 * S : 26 * S, 0].astype(np.float64)  # inside the fades
    assert slope_db_per_octave(audio) == pytest.approx(slope, abs=0.6)


def test_music_loops_without_seams(tmp_path: Path) -> None:
    # 4 s of a chord cut at its crest, at 44.1 kHz: a naive loop would jump at each seam
    t = np.arange(4 * 44_100) / 44_100
    x = 0.5 * np.sin(2 * np.pi * 110.0625 * t) + 0.2 * np.sin(2 * np.pi * 165.0625 * t)
    music = tmp_path / "chord.wav"
    soundfile.write(str(music), np.column_stack([x, x]), 44_100, subtype="FLOAT")
    out = tmp_path / "loop.wav"
    run_ok("sounds", "preview", f"music:{music}", "-o", str(out))
    audio = decode(out)[:, 0].astype(np.float64)
    fade = crossfade_samples(4 * S)
    period = 4 * S - fade
    jumps = np.abs(np.diff(audio))
    # elsewhere: the stretches of each repeat that are the file itself, clear of the seams
    steady = max(jumps[k * period + fade + 100 : (k + 1) * period - 100].max() for k in range(1, 8))
    seams = [k * period + d for k in range(1, 9) for d in (0, fade)]
    assert seams[-1] < 26 * S  # all inside the preview, before its fade-out
    for seam in seams:
        assert jumps[seam - 100 : seam + 100].max() <= 1.05 * steady, seam / S
    # and the test can fail: at this level the naive loop's jump would be ~70x the steadiest
    gain = np.abs(audio[period + fade : 2 * period]).max() / np.abs(x[fade:period]).max()
    assert abs(x[-1] - x[0]) * gain > 20 * steady


def test_mono_binaural_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "x.mp3"
    for command in (
        ["build", "self-compassion-break", "--minutes", "3"],
        ["timer", "--minutes", "5"],
    ):
        run = kindvoice(*command, "--mono", "--background", "rain+binaural-theta", "-o", str(out))
        assert run.code == 2
        assert "needs stereo (binaural beats vanish in mono). Drop --mono" in run.stderr
    assert list(tmp_path.iterdir()) == []


def test_unreadable_music_fails_before_any_work(tmp_path: Path) -> None:
    out = tmp_path / "x.mp3"
    run = kindvoice(
        "build", "self-compassion-break", "--background", f"rain+music:{tmp_path}/gone.ogg@-6",
        "-o", str(out),
    )  # fmt: skip
    assert run.code == 7
    assert f"Music file '{tmp_path}/gone.ogg' not found; check the path" in run.stderr
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- in a session


def test_loud_music_stays_under_the_true_peak_ceiling(tmp_path: Path) -> None:
    t = np.arange(10 * S) / S
    square = np.sign(np.sin(2 * np.pi * 110 * t)) * 0.999  # 0 dBFS, as loud as a file gets
    music = tmp_path / "loud.wav"
    soundfile.write(str(music), np.column_stack([square, -square]), S)
    out = tmp_path / "break.mp3"
    run_ok(
        "build", "self-compassion-break", "--minutes", "3",
        "--background", f"music:{music}#t=random@+10", "-o", str(out),
    )  # fmt: skip
    meter = ebur128(out)
    assert meter.true_peak_dbtp <= -1.0
    assert meter.integrated_lufs > -25.0  # the music is there, and loud


def test_background_sits_15_lu_under_the_voice(tmp_path: Path) -> None:
    """The same session with and without a bed: their difference is the bed alone."""
    paths = {}
    for background in ("pink", "none"):
        paths[background] = tmp_path / f"{background}.wav"
        run_ok(
            "build", "self-compassion-break", "--minutes", "3", "--background", background,
            "-o", str(paths[background]),
        )  # fmt: skip
    voice = decode(paths["none"]).astype(np.float64)
    bed = decode(paths["pink"]).astype(np.float64) - voice
    timeline = prepare(RenderRequest("self-compassion-break", tmp_path / "x.wav", 180_000)).timeline
    speaking = np.concatenate([np.arange(e.start, e.end) for e in timeline.speech])
    meter = pyloudnorm.Meter(S)
    under_lu = meter.integrated_loudness(voice[speaking]) - meter.integrated_loudness(bed[speaking])
    assert 15.0 <= under_lu <= 25.0  # well under the voice, and never gone
