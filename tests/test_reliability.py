"""Nothing is ever lost: overwrite protection, interrupted renders (Ctrl-C and kill -9 on a
real process), several renders sharing one cache, and byte-identical repeat renders."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from kindvoice.speech.base import EngineSpec
from kindvoice.speech.cache import PhraseCache
from kindvoice.template.library import resolve_practice
from kindvoice.template.parse import load_template

from kv_testing import decode, kindvoice

pytestmark = pytest.mark.slow


def test_existing_output_needs_force(tmp_path: Path) -> None:
    out = tmp_path / "mine.mp3"
    out.write_bytes(b"precious")
    run = kindvoice("build", "self-compassion-break", "--minutes", "3", "-o", str(out))
    assert run.code == 2
    assert "--force" in run.stderr
    assert out.read_bytes() == b"precious"
    run = kindvoice("build", "self-compassion-break", "--minutes", "3", "--force", "-o", str(out))
    assert run.code == 0, run.stderr
    assert len(decode(out)) == 3 * 60 * 48_000


def start_render(out: Path) -> subprocess.Popen[bytes]:
    """A long render (30 minutes of audio) as a real process."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kindvoice",
            "build",
            "self-compassion-break",
            "--minutes",
            "30",
            "--force",
            "-o",
            str(out),
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        # Ctrl-C as in a terminal, even where this test runs with SIGINT ignored (a shell's
        # background job: the render would then never see it)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def wait_for_part_file(out: Path, proc: subprocess.Popen[bytes]) -> None:
    """Wait until the render is writing the audio's temporary file (the mix has started;
    the sidecars' temporary files only appear at the end, just before the commit)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        parts = [
            p
            for p in out.parent.iterdir()
            if p.name.startswith(f".{out.name}.") and p.name.endswith(".part")
        ]
        if parts and parts[0].stat().st_size > 50_000:
            return
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        time.sleep(0.05)
    raise AssertionError("the render never started writing")


@pytest.mark.parametrize("how", ["ctrl-c", "kill -9"])
def test_interrupted_render_keeps_the_existing_file(tmp_path: Path, how: str) -> None:
    # warm the cache so the render reaches the mixing stage quickly
    assert (
        kindvoice(
            "build",
            "self-compassion-break",
            "--minutes",
            "3",
            "--no-sidecars",
            "-o",
            str(tmp_path / "warm.wav"),
        ).code
        == 0
    )
    (tmp_path / "warm.wav").unlink()
    (tmp_path / ".warm.wav.kindvoice.json").unlink()  # its stamp
    out = tmp_path / "session.mp3"
    out.write_bytes(b"the good file from yesterday")
    proc = start_render(out)
    wait_for_part_file(out, proc)
    proc.send_signal(signal.SIGINT if how == "ctrl-c" else signal.SIGKILL)
    _, err = proc.communicate(timeout=60)
    assert out.read_bytes() == b"the good file from yesterday"
    if how == "ctrl-c":
        assert proc.returncode == 130
        assert "Traceback" not in err.decode()
        # Ctrl-C cleans up after itself
        assert [p.name for p in tmp_path.iterdir()] == ["session.mp3"]
    else:
        assert proc.returncode == -signal.SIGKILL
        # kill -9 cannot clean up; the next render to that path removes the leftover
        run = kindvoice(
            "build",
            "self-compassion-break",
            "--minutes",
            "3",
            "--force",
            "--no-sidecars",
            "-o",
            str(out),
        )
        assert run.code == 0, run.stderr
        names = sorted(p.name for p in tmp_path.iterdir())
        assert names == [".session.mp3.kindvoice.json", "session.mp3"]


def test_four_renders_share_one_cache(tmp_path: Path, isolated_cache: Path) -> None:
    cache_dir = tmp_path / "shared-cache"
    env = {**os.environ, "KINDVOICE_CACHE_DIR": str(cache_dir)}
    lengths = [3, 4, 5, 6]

    def one(minutes: int) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "kindvoice",
                "build",
                "self-compassion-break",
                "--minutes",
                str(minutes),
                "--workers",
                "1",
                "-o",
                str(tmp_path / f"s{minutes}.mp3"),
            ],
            env=env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
        )

    with ThreadPoolExecutor(4) as pool:
        runs = list(pool.map(one, lengths))
    for minutes, run in zip(lengths, runs, strict=True):
        assert run.returncode == 0, run.stderr
        assert len(decode(tmp_path / f"s{minutes}.mp3")) == minutes * 60 * 48_000
    # every entry in the shared cache is whole and verifies
    os.environ["KINDVOICE_CACHE_DIR"] = str(cache_dir)
    try:
        cache = PhraseCache()
        from kindvoice.template.gating import select

        script = load_template(resolve_practice("self-compassion-break"))
        # the phrases those lengths play (gated blocks chosen), as the engine speaks them
        texts = {t for m in lengths for t in select(script, m * 60_000).spoken_texts().values()}
        from kindvoice.speech.base import engine_identity

        identity = engine_identity(EngineSpec("pyttsx3", None, 0.9))
        for text in texts:
            assert cache.get(cache.key(identity, text)) is not None, text
        assert not list(cache_dir.rglob("*.tmp*"))
    finally:
        os.environ["KINDVOICE_CACHE_DIR"] = str(isolated_cache)


def test_same_inputs_give_the_same_bytes(tmp_path: Path) -> None:
    digests = []
    for name in ("a.mp3", "b.mp3"):
        run = kindvoice(
            "build",
            "self-compassion-break",
            "--minutes",
            "4",
            "--background",
            "rain",
            "-o",
            str(tmp_path / name),
        )
        assert run.code == 0, run.stderr
        digests.append(hashlib.sha256((tmp_path / name).read_bytes()).hexdigest())
    assert digests[0] == digests[1]
