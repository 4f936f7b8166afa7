"""Shared test helpers (imported as ``from kv_testing import ...``; the fixtures stay in
conftest.py): the CLI run in process or as a real process, and independent instruments
(the ffmpeg binary from imageio-ffmpeg, PocketSphinx).

``kindvoice()`` runs the click group inside the test's own process: a fresh Python that
imports numpy, scipy and the engines costs about a second per call and adds nothing to
most tests. ``kindvoice_process()`` is the real ``python -m kindvoice``, for what depends
on the process itself: the entry point, signals, standard streams, exit at interpreter
shutdown.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
import traceback
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, ModuleType
from typing import Any

import numpy as np
import pytest


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str


class CommandTimedOut(BaseException):
    """An in-process command ran past its ``timeout`` (a guard against a hang, not a
    measurement). A BaseException, so neither the CLI nor click turns it into an exit."""


@contextmanager
def _environment(env: dict[str, str] | None) -> Iterator[None]:
    if env is None:
        yield
        return
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextmanager
def _working_dir(cwd: Path | None) -> Iterator[None]:
    saved = os.getcwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        yield
    finally:
        os.chdir(saved)


@contextmanager
def _fresh_root_logger() -> Iterator[None]:
    """The root logger as a new process has it, so the CLI's ``logging.basicConfig`` sets
    the level and writes to the (captured) stderr; pytest's handlers come back after."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    root.handlers = []
    root.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for handler in root.handlers:
            handler.close()
        root.handlers = handlers
        root.setLevel(level)


@contextmanager
def _python_warnings() -> Iterator[list[warnings.WarningMessage]]:
    """Python's default warning filters (as in ``python -m kindvoice``), recorded."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.resetwarnings()
        warnings.simplefilter("default")
        for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning):
            warnings.simplefilter("ignore", category)
        warnings.simplefilter("ignore", ResourceWarning)
        yield caught


@contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """Interrupt a hung command after ``seconds`` (main thread only, where signals go)."""
    if seconds <= 0 or sys.platform == "win32":
        yield
        return
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(_signum: int, _frame: FrameType | None) -> None:
        raise CommandTimedOut(f"the command ran past its {seconds:g} s timeout")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def kindvoice(
    *args: str, cwd: Path | None = None, timeout: float = 900, env: dict[str, str] | None = None
) -> Run:
    """Run the CLI in this process, as ``kindvoice ARGS`` would (``env``: the whole
    environment, ``cwd``: the working folder, both restored after). An exception the CLI
    lets escape is a traceback on stderr and exit 1, as Python prints it."""
    from click.testing import CliRunner

    from kindvoice.cli import cli

    runner = CliRunner()
    with (
        _environment(env),
        _working_dir(cwd),
        _fresh_root_logger(),
        _python_warnings() as caught,
        _deadline(timeout),
    ):
        result = runner.invoke(cli, list(args), prog_name="kindvoice", catch_exceptions=True)
    stderr = result.stderr
    for warning in caught:
        stderr += warnings.formatwarning(
            warning.message, warning.category, warning.filename, warning.lineno, warning.line
        )
    code = result.exit_code
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        assert result.exc_info is not None
        stderr += "".join(traceback.format_exception(*result.exc_info))
        code = 1
    return Run(code, result.stdout, stderr)


def kindvoice_process(
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


def speech_workers() -> list[Any]:
    """This process's speech workers (``psutil.Process``, spawned) still alive."""
    import psutil

    found = []
    for child in psutil.Process().children(recursive=True):
        try:
            if child.status() != psutil.STATUS_ZOMBIE and "spawn" in " ".join(child.cmdline()):
                found.append(child)
        except psutil.Error:  # it ended while we looked
            continue
    return found


def spoken_phrases(cache_root: Path) -> list[Path]:
    """The phrases in the phrase cache at ``cache_root`` (``$KINDVOICE_CACHE_DIR``): a
    phrase is spoken into the cache before anything plays it, so none means no speech."""
    speech = cache_root / "speech"
    return sorted(p for p in speech.rglob("*") if p.is_file()) if speech.exists() else []


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


def load_recognizer() -> ModuleType:
    """scripts/recognize.py (Whisper base through faster-whisper) as a module: a script,
    not part of the package, loaded by path."""
    import importlib.util

    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location("recognize", root / "scripts" / "recognize.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["recognize"] = module
    spec.loader.exec_module(module)
    return module


# --------------------------------------------------------------------------- the browser

CHROMIUM = "/usr/bin/chromium"
"""The Chromium the browser tests drive (``bash scripts/install_browser.sh`` installs it)."""
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--autoplay-policy=no-user-gesture-required",
]
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
"""A phone's context options: 390x844, touch."""
NEEDS_CHROMIUM = pytest.mark.skipif(
    not os.access(CHROMIUM, os.X_OK),
    reason=f"{CHROMIUM} is missing: run `bash scripts/install_browser.sh`",
)
BROWSER_TESTS = [pytest.mark.browser, NEEDS_CHROMIUM]
"""``pytestmark`` of a module whose every test drives the browser."""


def playing(page: Any, after_s: float = 0.0) -> None:
    """Wait until the player (``#player``) plays, past ``after_s`` seconds."""
    page.wait_for_function(
        "t => { const a = document.getElementById('player');"
        " return !a.paused && a.readyState >= 3 && a.currentTime > t; }",
        arg=after_s,
    )
