"""Shared test helpers: an isolated phrase cache, the CLI as a real process, and
independent instruments (the ffmpeg binary from imageio-ffmpeg, mutagen)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(scope="session", autouse=True)
def isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One phrase cache for the whole run, never the user's own. Under pytest-xdist the
    workers share it (the cache's writes are atomic and the first writer wins), so a
    phrase is spoken once per run, not once per worker."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    root = shared / "kindvoice-cache"
    root.mkdir(exist_ok=True)
    old = os.environ.get("KINDVOICE_CACHE_DIR")
    os.environ["KINDVOICE_CACHE_DIR"] = str(root)
    yield root
    if old is None:
        os.environ.pop("KINDVOICE_CACHE_DIR", None)
    else:
        os.environ["KINDVOICE_CACHE_DIR"] = old


@pytest.fixture(scope="session", autouse=True)
def fast_default_engine() -> Iterator[None]:
    """espeak-ng speaks whenever a test names no engine: the mixing, export and publishing
    tests need a voice, not a natural one, and Kokoro costs about a CPU-second per second
    of speech. The tests of the default (Kokoro) drop the variable themselves."""
    old = os.environ.get("KINDVOICE_ENGINE")
    os.environ["KINDVOICE_ENGINE"] = "pyttsx3"
    yield
    if old is None:
        os.environ.pop("KINDVOICE_ENGINE", None)
    else:
        os.environ["KINDVOICE_ENGINE"] = old


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str


def kindvoice(
    *args: str, cwd: Path | None = None, timeout: float = 900, env: dict[str, str] | None = None
) -> Run:
    """Run the real CLI in a subprocess, as a user would (``env``: the whole environment)."""
    proc = subprocess.run(
        [sys.executable, "-m", "kindvoice", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        env=env,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def decode(path: Path, channels: int = 2, rate: int = 48_000) -> np.ndarray:
    """Decode any audio file with ffmpeg (independent of kindvoice) to float32 samples."""
    out = subprocess.run(
        [
            ffmpeg_exe(),
            "-v",
            "error",
            "-i",
            str(path),
            "-f",
            "f32le",
            "-ac",
            str(channels),
            "-ar",
            str(rate),
            "-",
        ],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(out, dtype=np.float32).reshape(-1, channels)


@dataclass
class Ebur128:
    integrated_lufs: float
    true_peak_dbtp: float


def ebur128(path: Path) -> Ebur128:
    """ffmpeg's own BS.1770 meter: integrated loudness and true peak."""
    err = subprocess.run(
        [
            ffmpeg_exe(),
            "-nostats",
            "-i",
            str(path),
            "-filter_complex",
            "ebur128=peak=true",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    summary = err[err.rfind("Summary:") :]
    integrated = float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary).group(1))  # type: ignore[union-attr]
    peak = float(re.search(r"True peak:\s+Peak:\s+(-?[\d.]+|-inf) dBFS", summary).group(1))  # type: ignore[union-attr]
    return Ebur128(integrated, peak)


def median_f0_hz(samples: np.ndarray, rate: int) -> float:
    """The median pitch of the voiced frames (normalised autocorrelation, 60-400 Hz), an
    instrument independent of the engines: enough to tell a 200 Hz voice from a 110 Hz one."""
    x = np.asarray(samples, dtype=np.float64).reshape(-1)
    frame, hop = int(0.05 * rate), int(0.01 * rate)
    lo, hi = int(rate / 400), int(rate / 60)
    rms = np.array([np.sqrt(np.mean(x[i : i + frame] ** 2)) for i in range(0, len(x) - frame, hop)])
    loud = rms.max() * 0.25
    found = []
    for n, i in enumerate(range(0, len(x) - frame, hop)):
        if rms[n] < loud:
            continue
        seg = x[i : i + frame] - np.mean(x[i : i + frame])
        ac = np.correlate(seg, seg, mode="full")[frame - 1 :]
        if ac[0] <= 0:
            continue
        ac = ac / ac[0]
        lag = lo + int(np.argmax(ac[lo:hi]))
        if ac[lag] > 0.6:
            found.append(rate / lag)
    return float(np.median(found))


def recognize_words(path: Path) -> list[str]:
    """What an independent recognizer (PocketSphinx and its bundled US English model) hears
    in an audio file, as lower-case words."""
    from pocketsphinx import Decoder

    raw = subprocess.run(
        [
            ffmpeg_exe(),
            "-v",
            "error",
            "-i",
            str(path),
            "-f",
            "s16le",
            "-ac",
            "1",
            "-ar",
            "16000",
            "-",
        ],
        capture_output=True,
        check=True,
    ).stdout
    decoder = Decoder(samprate=16000)
    decoder.start_utt()
    decoder.process_raw(raw, full_utt=True)
    decoder.end_utt()
    hyp = decoder.hyp()
    return hyp.hypstr.lower().split() if hyp is not None else []
