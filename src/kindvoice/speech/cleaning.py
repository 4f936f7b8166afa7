"""Cleaning a recorded take before it is kept: decode, refuse, filter, denoise, trim, level.

The chain, in order (figures and the comparison that chose it: README, "Recording your
own voice"):

1. decode any format the bundled ffmpeg reads (wav, flac, mp3, webm/opus, mp4/aac ...)
   to 48 kHz mono float32; a file that is too big, not audio, too long or clipped is
   refused with one line (``TakeError``);
2. a gentle high-pass (2nd-order Butterworth at ``HIGHPASS_HZ``, zero phase): rumble,
   handling noise and mains hum's lowest harmonic go, the voice stays;
3. noise reduction with DeepFilterNet3 (``denoise``), a small model that runs on the CPU
   at about a tenth of real time; it measured best of noisereduce, pedalboard and
   DeepFilterNet (lowest noise floor, least damage to the voice);
4. voice-activity detection on the cleaned take (20 ms frames, a frame is speech when it
   stands ``VAD_ABOVE_FLOOR_DB`` over the take's noise floor and within
   ``VAD_BELOW_PEAK_DB`` of its loudest), trimmed to the first and last speech with short
   margins, so a take's breath in and the click of the stop button go;
5. loudness matched: every take to ``TAKE_LUFS`` (BS.1770), so phrases recorded on
   different days, nearer or further from the microphone, sit together; the render then
   masters the whole voice to the export's target like any other voice.
"""

from __future__ import annotations

import logging
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kindvoice.audio import SAMPLE_RATE, Mono, db_to_gain, edge_ramps, ms_to_samples
from kindvoice.errors import TakeError
from kindvoice.speech.denoise import reduce_noise

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 200 * 1024 * 1024  # a take is one phrase: far below this
MAX_TAKE_S = 120.0  # the longest phrase a template holds is well under a minute
MIN_SPEECH_MS = 150.0  # less than this above the floor is no phrase
CLIP_LEVEL = 0.99  # full scale, as decoded
CLIP_RUN = 3  # consecutive samples at full scale: a flat top, not a lucky peak
MAX_CLIP_RUNS = 3
HIGHPASS_HZ = 80.0
FRAME_MS = 20.0
VAD_ABOVE_FLOOR_DB = 12.0
VAD_BELOW_PEAK_DB = 45.0
VAD_HANG_FRAMES = 3  # a burst must last 60 ms to count as speech (no clicks)
LEAD_MARGIN_MS = 120.0
TAIL_MARGIN_MS = 220.0
TAKE_LUFS = -23.0
PEAK_LIMIT = 0.95  # a take is stored in 24-bit FLAC: its gain stops short of full scale


@dataclass(frozen=True)
class Cleaned:
    """A cleaned take and the figures of its cleaning."""

    audio: Mono
    lufs_before: float | None  # the take's loudness as decoded (None: too short to meter)
    lufs_after: float | None
    noise_floor_before_db: float  # the quietest tenth of its 20 ms frames, dBFS
    noise_floor_after_db: float


def decode(path: Path) -> Mono:
    """Any audio file ffmpeg reads, as 48 kHz mono float32; ``TakeError`` when it is too
    big, empty, or not audio."""
    import imageio_ffmpeg

    try:
        size = path.stat().st_size
    except OSError as exc:
        raise TakeError(f"Cannot read the take '{path}': {exc.strerror or exc}.") from None
    if size > MAX_FILE_BYTES:
        raise TakeError(
            f"'{path.name}' is {size / 1e6:.0f} MB; a take is one phrase (at most "
            f"{MAX_FILE_BYTES // 2**20} MB). Record one phrase per file."
        )
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-nostdin", "-i", str(path)]
    command += ["-t", str(MAX_TAKE_S + 1), "-map", "0:a:0", "-ac", "1"]
    command += ["-ar", str(SAMPLE_RATE), "-f", "f32le", "-"]
    proc = subprocess.run(command, capture_output=True, check=False)
    if proc.returncode != 0 or not proc.stdout:
        reason = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        detail = f" ({reason[-1]})" if reason else ""
        raise TakeError(
            f"'{path.name}' is not an audio file ffmpeg can read{detail}; record as wav, "
            "flac, mp3, m4a, ogg or webm."
        )
    samples: Mono = np.frombuffer(proc.stdout, dtype="<f4").astype(np.float32)
    return samples


def check_take(samples: Mono, name: str) -> None:
    """Refuse a take that is too long or clipped, with what to do about it."""
    seconds = len(samples) / SAMPLE_RATE
    if seconds > MAX_TAKE_S:
        raise TakeError(
            f"'{name}' is longer than {MAX_TAKE_S:.0f} s; a take is one phrase. Record each "
            "phrase in its own file."
        )
    if clip_runs(samples) > MAX_CLIP_RUNS:
        raise TakeError(
            f"'{name}' is clipped (too loud): move back from the microphone or turn its "
            "gain down, and record it again."
        )


def clip_runs(samples: Mono) -> int:
    """How many runs of ``CLIP_RUN`` or more consecutive samples sit at full scale."""
    at_top = np.abs(samples) >= CLIP_LEVEL
    if not at_top.any():
        return 0
    edges = np.diff(np.concatenate(([0], at_top.astype(np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return int(np.count_nonzero(ends - starts >= CLIP_RUN))


def frame_levels_db(samples: Mono) -> np.ndarray:
    """The level of each ``FRAME_MS`` frame, dBFS (RMS)."""
    frame = ms_to_samples(FRAME_MS)
    n = len(samples) // frame
    if n == 0:
        return np.zeros(0)
    frames = samples[: n * frame].astype(np.float64).reshape(n, frame)
    levels: np.ndarray = 10.0 * np.log10(np.mean(frames**2, axis=1) + 1e-12)
    return levels


def noise_floor_db(samples: Mono) -> float:
    """The take's noise floor: the 10th percentile of its frame levels, dBFS."""
    levels = frame_levels_db(samples)
    return float(np.percentile(levels, 10)) if len(levels) else -120.0


def highpass(samples: Mono, cutoff_hz: float = HIGHPASS_HZ) -> Mono:
    """A gentle 2nd-order Butterworth high-pass, run forward and back (no phase shift)."""
    from scipy.signal import butter, sosfiltfilt

    if len(samples) < 64:
        return samples
    sos = butter(2, cutoff_hz, btype="highpass", fs=SAMPLE_RATE, output="sos")
    out: Mono = sosfiltfilt(sos, samples).astype(np.float32)
    return out


def speech_span(samples: Mono) -> tuple[int, int] | None:
    """(first, last+1) sample of the speech found by the voice-activity detector, with
    the margins; None when nothing in the take is speech."""
    levels = frame_levels_db(samples)
    if not len(levels):
        return None
    floor = float(np.percentile(levels, 10))
    threshold = max(floor + VAD_ABOVE_FLOOR_DB, float(levels.max()) - VAD_BELOW_PEAK_DB)
    voiced = levels > threshold
    # a frame counts only inside a run of VAD_HANG_FRAMES voiced frames: no clicks
    runs = np.convolve(voiced.astype(np.int8), np.ones(VAD_HANG_FRAMES, dtype=np.int8), "valid")
    starts = np.flatnonzero(runs == VAD_HANG_FRAMES)
    if not len(starts):
        return None
    frame = ms_to_samples(FRAME_MS)
    first = int(starts[0]) * frame
    last = (int(starts[-1]) + VAD_HANG_FRAMES) * frame
    if last - first < ms_to_samples(MIN_SPEECH_MS):
        return None
    return (
        max(0, first - ms_to_samples(LEAD_MARGIN_MS)),
        min(len(samples), last + ms_to_samples(TAIL_MARGIN_MS)),
    )


def loudness_lufs(samples: Mono) -> float | None:
    """BS.1770 integrated loudness (None: shorter than one 400 ms block, or silent)."""
    import pyloudnorm

    if len(samples) < ms_to_samples(400):
        return None
    value = float(pyloudnorm.Meter(SAMPLE_RATE).integrated_loudness(samples.astype(np.float64)))
    return value if np.isfinite(value) else None


def match_loudness(samples: Mono, target_lufs: float = TAKE_LUFS) -> Mono:
    """``samples`` gained to ``target_lufs`` (RMS when too short to meter), its peak
    kept under ``PEAK_LIMIT``."""
    lufs = loudness_lufs(samples)
    if lufs is None:
        rms = float(np.sqrt(np.mean(samples.astype(np.float64) ** 2))) if len(samples) else 0.0
        lufs = 20.0 * np.log10(max(rms, 1e-9)) - 0.7
    gain = db_to_gain(target_lufs - lufs)
    peak = float(np.max(np.abs(samples))) if len(samples) else 0.0
    if peak * gain > PEAK_LIMIT:
        held_db = 20 * np.log10(peak * gain / PEAK_LIMIT)
        log.info("take gain held back %.1f dB for its peak", held_db)
        gain = PEAK_LIMIT / peak
    out: Mono = (samples * np.float32(gain)).astype(np.float32)
    return out


def clean_take(samples: Mono, name: str) -> Cleaned:
    """The whole chain (module docstring) on a decoded take; ``TakeError`` refuses it."""
    check_take(samples, name)
    floor_before = noise_floor_db(samples)
    lufs_before = loudness_lufs(samples)
    filtered = reduce_noise(highpass(samples))  # DeepFilterNet3
    if not np.isfinite(filtered).all():
        raise TakeError(f"Cleaning '{name}' failed (the noise reducer gave no number); try again.")
    span = speech_span(filtered)
    if span is None:
        raise TakeError(f"'{name}' holds no speech (only silence or noise); record it again.")
    trimmed = filtered[span[0] : span[1]]
    floor_after = noise_floor_db(filtered)
    audio = edge_ramps(match_loudness(trimmed), ramp_ms=10.0)
    return Cleaned(audio, lufs_before, loudness_lufs(audio), floor_before, floor_after)


def clean_file(path: Path) -> Cleaned:
    """Decode ``path`` and clean it (``TakeError`` names the file when it is refused)."""
    return clean_take(decode(path), path.name)
