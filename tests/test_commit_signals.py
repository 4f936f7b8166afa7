"""Issue 24 §1: a signal during the commit (the renames that put an output set in place)
leaves the whole old set or the whole new one, whatever thread the kernel gives the
signal to, and the message says which. The renames are slowed to 0.4 s each by strace's
fault injection, so a real ``kill`` lands between them; a real build process."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from kindvoice.export.outputs import read_stamp
from kindvoice.export.sidecars import sidecar_paths

from kv_testing import kindvoice

# the renames traced (to a file) and slowed; with trace=none the delay did not always apply
RENAMES = "rename,renameat,renameat2"
SLOW_RENAMES = ["-e", f"trace={RENAMES}", "-e", f"inject={RENAMES}:delay_exit=400000"]


def _shas(paths: list[Path]) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("strace") is None, reason="needs strace to slow the renames")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_during_the_commit_leaves_one_whole_set(
    tmp_path: Path, sig: signal.Signals
) -> None:
    out = tmp_path / "x.mp3"
    files = [out, *sidecar_paths(out).values()]
    common = ("one-minute-break", "--background", "none", "--engine", "pyttsx3", "-o", str(out))
    assert kindvoice("build", *common, "--minutes", "1").code == 0
    old = _shas(files)
    for minutes in ("1.2", "1.1", "1.3"):  # a try the machine was too slow for is repeated
        ended, err = _signal_in_the_commit(out, common, minutes, sig)
        if not ended:
            break
    else:
        pytest.fail("the build ended every time before the signal could land in its commit")
    # the new set, whole: the stamp records one version of each file, and each matches
    new = _shas(files)
    recorded = (read_stamp(out) or {}).get("files", {})
    assert {name: recorded.get(name) for name in new} == {n: [h] for n, h in new.items()}
    assert new["x.mp3"] != old["x.mp3"] and new["x.lrc"] != old["x.lrc"]  # not 1:00
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]
    assert len(list(tmp_path.glob("renames-*.txt"))) >= 1
    last = err.strip().splitlines()[-1]
    assert "no output was written" not in err, err
    assert "x.mp3" in last and "complete" in last, last


def _signal_in_the_commit(
    out: Path, common: tuple[str, ...], minutes: str, sig: signal.Signals
) -> tuple[bool, str]:
    """Build ``out`` again at ``minutes`` with slow renames and send ``sig`` as soon as
    the new audio is in place; returns (whether the command had already ended then, so
    the signal came too late to test anything, stderr). Checks the exit status."""
    inode = out.stat().st_ino
    command = [sys.executable, "-m", "kindvoice", "build", *common, "--minutes", minutes]
    process = subprocess.Popen(
        [
            "strace",
            "-f",
            "-qq",
            "-tt",
            "-o",
            str(out.with_name(f"renames-{minutes}.txt")),
            *SLOW_RENAMES,
            *command,
            "--force",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # Ctrl-C as in a terminal, even when this test runs where SIGINT is ignored
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 240
        while out.stat().st_ino == inode:  # the new audio is in place; its sidecars are not
            assert time.monotonic() < deadline and process.poll() is None, process.stderr
            time.sleep(0.01)
        [python] = psutil.Process(process.pid).children()
        # the command still runs: it handles the signal (the interpreter's exit would not)
        status = Path(f"/proc/{python.pid}/status").read_text()
        caught = int(re.search(r"SigCgt:\s*([0-9a-f]+)", status).group(1), 16)  # type: ignore[union-attr]
        running = bool(caught >> (sig - 1) & 1)
        os.kill(python.pid, sig)  # `kill PID`, as a job runner does, or Ctrl-C
        _, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    if running:
        assert process.returncode == (143 if sig == signal.SIGTERM else 130), err
    return not running, err
