"""The ``music:PATH`` background: the listener's own music file, looped without seams.

Spec: ``music:PATH``, optionally ``#t=START`` (a duration such as ``1m30s``, ``90s`` or
``1:30``, or ``random``) and, like every layer, ``@dB``: ``music:~/calm.mp3#t=random@-6``.
``random`` picks the start from the render's seed, so the same seed gives the same file.

The file (wav, flac, ogg or mp3) is decoded with soundfile (libsndfile >= 1.1 reads mp3);
if that fails, with the ffmpeg binary from imageio-ffmpeg when it is installed. It is
made stereo, resampled to the house rate (``resample_poly``) and calibrated to
``BED_REFERENCE_LUFS`` by measuring its loudness, so a loud master and a quiet one sit
alike under the voice (the limiter still guards the peaks).

Looping: with the file ``L`` samples long and a crossfade of ``C`` (3 s, at most a
quarter of the file), the stream plays the file once to ``L - C``, then repeats with
period ``P = L - C``, each repeat starting with the file's last ``C`` samples fading out
(cosine) over its first ``C`` samples fading in (sine). Equal-power fades keep the level
steady across the seam for music (uncorrelated ends), and every join is continuous.

Memory: the decoded file is held once, read-only, as float32 stereo at 48 kHz (about
23 MB a minute), in a one-entry cache: the pipeline makes the bed twice (once to fail
early, once to render) but decodes it once. Loop seams are computed block by block,
never stored.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from stat import S_ISREG

import numpy as np

from kindvoice.audio import SAMPLE_RATE, Stereo, db_to_gain, s_to_samples, samples_to_s
from kindvoice.durations import clock, parse_ms
from kindvoice.errors import AudioIOError, UsageError
from kindvoice.sound.beds.base import BED_REFERENCE_LUFS, F64, Bed, Seed, rngs

log = logging.getLogger(__name__)

PREFIX = "music:"
DESCRIPTION = "Your own music: music:PATH (wav, flac, ogg, mp3), looped; #t=1m30s or #t=random."
CROSSFADE_S = 3.0
MIN_MUSIC_S = 1.0
_MEASURE_WINDOWS = 8  # loudness is measured on up to 8 excerpts of 20 s spread over the file
_MEASURE_WINDOW_S = 20.0
# "PATH", then "#t=START", then "@dB" (the level, as for every layer); PATH may hold "@"
_SPEC = re.compile(
    r"^music:(?P<path>.+?)(?:#t=(?P<start>[^@#]+?))?\s*"
    r"(?:@\s*(?P<db>[-+]?\d+(?:\.\d+)?)\s*(?:dB)?)?\s*$",
    re.IGNORECASE,
)


def is_music(layer: str) -> bool:
    """Whether a background layer is ``music:...``."""
    return layer.strip().lower().startswith(PREFIX)


def parse_music_layer(layer: str) -> tuple[str, str | None, float]:
    """``"music:a.mp3#t=1m@-6"`` -> ``("a.mp3", "1m", -6.0)``; start None: the file's start."""
    match = _SPEC.match(layer.strip())
    if match is None or not match["path"].strip():
        raise UsageError(
            f"Cannot read the background layer '{layer.strip()}'; write music:PATH, "
            "optionally #t=1m30s or #t=random and @dB, e.g. music:calm.mp3#t=random@-6."
        )
    start = match["start"].strip() if match["start"] else None
    return match["path"].strip(), start, float(match["db"] or 0.0)


def crossfade_samples(length: int) -> int:
    """The seam crossfade for a file of ``length`` samples: 3 s, at most a quarter of it."""
    return min(s_to_samples(CROSSFADE_S), length // 4)


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Send C libraries' stderr (file descriptor 2) to /dev/null for a moment."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _decode_soundfile(path: Path) -> tuple[Stereo, int] | None:
    import soundfile

    try:
        with _quiet_stderr():  # libmpg123 prints "Note: ..." lines on bad mp3 frames
            data, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except (RuntimeError, TypeError, ValueError) as exc:  # LibsndfileError is a RuntimeError
        log.debug("soundfile cannot decode %s (%s); trying ffmpeg", path, exc)
        return None
    return data, int(rate)


def _decode_ffmpeg(path: Path) -> Stereo:
    try:
        import imageio_ffmpeg
    except ImportError:
        raise AudioIOError(
            f"Cannot decode music file '{path}'; convert it to wav, flac, ogg or mp3, or "
            "pip install imageio-ffmpeg to read other formats."
        ) from None
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-nostdin", "-i", str(path)]
    command += ["-vn", "-f", "f32le", "-ac", "2", "-ar", str(SAMPLE_RATE), "-"]
    proc = subprocess.run(command, capture_output=True, check=False)
    if proc.returncode != 0 or not proc.stdout:
        reason = proc.stderr.decode(errors="replace").strip().splitlines()
        why = f" ({reason[-1]})" if reason else ""
        raise AudioIOError(
            f"Cannot decode music file '{path}'{why}; use a wav, flac, ogg or mp3 file."
        )
    data: Stereo = np.frombuffer(proc.stdout, dtype="<f4").reshape(-1, 2).astype(np.float32)
    return data


def _to_house_format(data: Stereo, rate: int) -> Stereo:
    """Stereo (mono doubled, surround: its front pair) at the house rate."""
    from scipy.signal import resample_poly

    if data.shape[1] == 1:
        data = np.repeat(data, 2, axis=1)
    elif data.shape[1] > 2:
        data = data[:, :2]
    if rate != SAMPLE_RATE:
        g = math.gcd(rate, SAMPLE_RATE)
        data = resample_poly(data, SAMPLE_RATE // g, rate // g, axis=0)
    out: Stereo = np.ascontiguousarray(data, dtype=np.float32)
    return out


def _loudness_lufs(x: Stereo) -> float:
    """Integrated loudness over up to ``_MEASURE_WINDOWS`` excerpts spread over the file,
    so an hour of music is measured in seconds."""
    import pyloudnorm

    window = s_to_samples(_MEASURE_WINDOW_S)
    if len(x) > window * _MEASURE_WINDOWS:
        starts = np.linspace(0, len(x) - window, _MEASURE_WINDOWS).astype(int)
        x = np.concatenate([x[s : s + window] for s in starts])
    return float(pyloudnorm.Meter(SAMPLE_RATE).integrated_loudness(x.astype(np.float64)))


MIN_RATE_HZ = 8_000
MAX_RATE_HZ = 384_000


@lru_cache(maxsize=1)
def _load(path: str, mtime_ns: int, size: int) -> Stereo:
    """Decoded, stereo, 48 kHz, calibrated, read-only (cached by path, mtime and size)."""
    source = Path(path)
    decoded = _decode_soundfile(source)
    if decoded is not None and not MIN_RATE_HZ <= decoded[1] <= MAX_RATE_HZ:
        # a header claiming 1 Hz would resample a second of audio into 13 hours (17 GB)
        raise AudioIOError(
            f"Music file '{path}' declares a sample rate of {decoded[1]} Hz; music is "
            f"{MIN_RATE_HZ:,} to {MAX_RATE_HZ:,} Hz: export the file again."
        )
    audio = _decode_ffmpeg(source) if decoded is None else _to_house_format(*decoded)
    if len(audio) < s_to_samples(MIN_MUSIC_S):
        raise UsageError(
            f"Music file '{path}' is {samples_to_s(len(audio)):.2f} s long; a background "
            f"needs at least {MIN_MUSIC_S:g} s of music to loop."
        )
    lufs = _loudness_lufs(audio)
    if not math.isfinite(lufs):
        raise UsageError(f"Music file '{path}' is silent; choose another file or background.")
    audio *= np.float32(db_to_gain(BED_REFERENCE_LUFS - lufs))
    log.info("music %s: %.1f s, %.1f LUFS, calibrated", path, samples_to_s(len(audio)), lufs)
    audio.flags.writeable = False
    return audio


def load_music(path: Path) -> Stereo:
    """The music file at ``path``, ready to loop (see the module docstring). Raises
    ``AudioIOError`` naming the path and the fix when it cannot be read."""
    resolved = path.expanduser()
    try:
        stat = resolved.stat()
    except FileNotFoundError:
        raise AudioIOError(
            f"Music file '{path}' not found; check the path after 'music:'."
        ) from None
    except OSError as exc:
        raise AudioIOError(f"Cannot read music file '{path}': {exc.strerror or exc}.") from None
    if resolved.is_dir():
        raise AudioIOError(f"'{path}' is a folder; give a music file after 'music:'.")
    if not S_ISREG(stat.st_mode):  # a named pipe would wait for a writer for ever
        raise AudioIOError(
            f"Music file '{path}' is not a regular file (a named pipe, socket or device); "
            "give a wav, flac, ogg or mp3 file after 'music:'."
        )
    if not os.access(resolved, os.R_OK):
        raise AudioIOError(f"Cannot read music file '{path}': permission denied.")
    return _load(str(resolved.resolve()), stat.st_mtime_ns, stat.st_size)


class MusicBed(Bed):
    """The listener's music, looped with equal-power crossfades, from a chosen start."""

    def __init__(self, path: Path, seed: Seed = 0, start: str | None = None) -> None:
        super().__init__()
        self.path = path
        self.audio = load_music(path)
        length = len(self.audio)
        self.crossfade = crossfade_samples(length)
        self.period = length - self.crossfade
        self.start = self._start_samples(start, seed)

    def _start_samples(self, start: str | None, seed: Seed) -> int:
        if start is None:
            return 0
        if start.lower() == "random":
            (rng,) = rngs(seed, 1)
            return int(rng.integers(0, self.period))
        offset = parse_ms(start, "music start (#t=)") * SAMPLE_RATE // 1000
        if offset >= self.period:
            raise UsageError(
                f"Music start #t={start} is past the loop of '{self.path}' "
                f"({clock(self.period, 1, trim=True)} long); choose an earlier start."
            )
        return offset

    def _render(self, n: int) -> F64:
        x, c, period = self.audio, self.crossfade, self.period
        p = self.start + self.position_samples + np.arange(n, dtype=np.int64)
        index = p % period
        out = x[index].astype(np.float64)
        # after the first pass, each period opens with the crossfade: tail out, head in
        seam = (p >= period) & (index < c)
        if seam.any():
            i = index[seam]
            theta = (0.5 * np.pi / c) * i
            out[seam] = x[len(x) - c + i] * np.cos(theta)[:, None] + x[i] * np.sin(theta)[:, None]
        return out


def make_music_bed(layer: str, seed: Seed = 0) -> MusicBed:
    """A music bed from a ``music:PATH[#t=START]`` layer (its ``@dB`` level, if any, is
    the caller's to apply)."""
    path, start, _ = parse_music_layer(layer)
    return MusicBed(Path(path), seed, start)
