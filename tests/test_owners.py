"""Issue 24 §1 and §4: another process's work is never touched. A second ``serve`` on a
library in use leaves the running render and its job alone; temporary files are removed
only when their writer is proven gone, also on storage that several machines share.
Real processes: the servers, a writer in its own host and process namespace."""

from __future__ import annotations

import http.client
import os
import re
import shutil
import subprocess
import sys
import textwrap
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import soundfile

from kindvoice.owners import host_tag

from kv_testing import kindvoice

KINDVOICE = str(Path(sys.executable).parent / "kindvoice")


def _env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "KINDVOICE_ENGINE": "pyttsx3",
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
    }


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], int, str]]:
    """``kindvoice serve`` on the library ``tmp_path/library``: (process, port, token)."""
    command = [KINDVOICE, "serve", "--library", str(tmp_path / "library"), "--port", "0"]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=_env(tmp_path)
    )
    killer = threading.Timer(90, process.kill)
    killer.start()
    output = ""
    assert process.stdout is not None
    for line in process.stdout:
        output += line
        if line.startswith("Sessions are saved in"):
            break
    killer.cancel()
    link = re.search(r"http://127\.0\.0\.1:(\d+)/\?token=(\S+)", output)
    assert link is not None, output
    try:
        yield process, int(link.group(1)), link.group(2)
    finally:
        process.terminate()
        process.wait(30)
        process.stdout.close()


def _http(port: int, method: str, path: str, fields: dict[str, str] | None = None) -> Any:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    body = urllib.parse.urlencode(fields) if fields is not None else None
    headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
    connection.request(method, path, body, headers)
    reply = connection.getresponse()
    data = reply.read()
    connection.close()
    return reply, data


@pytest.mark.slow
def test_a_second_serve_leaves_the_running_render_and_its_job_alone(
    tmp_path: Path, server: tuple[subprocess.Popen[str], int, str]
) -> None:
    import json

    _, port, token = server
    library = tmp_path / "library"
    fields = {"minutes": "20", "bell": "bowl", "background": "none", "format": "mp3"}
    fields["engine"] = "pyttsx3"
    reply, data = _http(port, "POST", "/timer", {**fields, "token": token})
    assert reply.status == 303, data[:300]
    job = reply.headers["Location"].rsplit("/", 1)[1]
    deadline = time.monotonic() + 120
    while not list(library.glob(".*.mp3.*.part")):  # the encoder is writing
        assert time.monotonic() < deadline, "the render never started writing"
        time.sleep(0.05)
    parts = list(library.glob(".*.mp3.*.part"))

    # serve started again on the same library, by mistake: on the same port, then another
    for port_option in (str(port), "0"):
        second = subprocess.run(
            [KINDVOICE, "serve", "--library", str(library), "--port", port_option],
            capture_output=True,
            text=True,
            env=_env(tmp_path),
            timeout=60,
        )
        assert second.returncode == 2, (second.stdout, second.stderr)
        [line] = [x for x in second.stderr.splitlines() if x.strip()]
        assert line.startswith("Error: ") and "in use by another kindvoice serve" in line
        assert f"process {server[0].pid}" in line and "Traceback" not in second.stderr

    state = json.loads(_http(port, "GET", f"/api/jobs/{job}")[1])
    assert state["status"] in ("running", "done"), state  # not marked interrupted
    assert all(p.exists() for p in parts) or state["status"] == "done"
    while state["status"] not in ("done", "failed", "interrupted"):
        assert time.monotonic() < deadline + 300, state
        time.sleep(0.3)
        state = json.loads(_http(port, "GET", f"/api/jobs/{job}")[1])
    assert state["status"] == "done", state
    [audio] = library.glob("timer-*.mp3")
    info = soundfile.info(str(audio))
    assert 20 * 60 <= info.duration <= 21 * 60, info.duration  # all the audio, not a tag


def test_starting_a_server_keeps_the_temporary_files_of_a_live_process(tmp_path: Path) -> None:
    from kindvoice.web import create_app

    library = tmp_path / "library"
    library.mkdir()
    writer = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    try:
        live = library / f".x.mp3.{writer.pid}@{host_tag()}.k2j3h4ab.part"
        dead = library / f".x.mp3.{gone}@{host_tag()}.q1w2e3r4.part"
        for part in (live, dead):
            part.write_bytes(b"half an mp3")
        create_app(library)
        assert live.exists()  # its writer still runs
        assert not dead.exists()  # its writer is gone
    finally:
        writer.kill()
        writer.wait()


_WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    import numpy as np
    from kindvoice.export.encode import Writer
    writer = Writer(Path(sys.argv[1]), 2)
    writer.write(np.zeros((48_000, 2), np.float32))
    print(writer.tmp.name, flush=True)
    sys.stdin.readline()  # meanwhile, a render on this machine cleans the folder
    writer.write(np.zeros((48_000, 2), np.float32))
    writer.finish()
    writer.commit()
    print("committed", flush=True)
    """
)


@pytest.mark.slow
@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("unshare") is None,
    reason="needs root and unshare for a writer in its own host and process namespace",
)
def test_a_render_leaves_another_machines_file_in_progress_alone(tmp_path: Path) -> None:
    """A writer on "another machine" (its own host name and process ids, like a cluster
    node writing to the same NFS folder): its process id 77777 runs nowhere here."""
    shared = tmp_path / "shared"
    shared.mkdir()
    inner = f"{sys.executable} -c '{_WRITER}' {shared / 'x.mp3'}"
    script = f"hostname another-machine && echo 77776 > /proc/sys/kernel/ns_last_pid && {inner}"
    other = subprocess.Popen(
        ["unshare", "--uts", "--pid", "--fork", "--mount-proc", "sh", "-c", script],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert other.stdout is not None and other.stdin is not None
        part = shared / other.stdout.readline().strip()
        assert part.is_file() and ".77777" in part.name, part
        _build(shared / "x.mp3")
        assert part.exists()  # not this machine's to remove
        other.stdin.write("\n")
        other.stdin.flush()
        out, err = other.communicate(timeout=60)
        assert other.returncode == 0 and "committed" in out, err
    finally:
        if other.poll() is None:
            other.kill()
    # once a day old, a temporary file of another machine is left over
    stale = shared / ".y.mp3.77777@another-machine-abc123.z9y8x7w6.part"
    stale.write_bytes(b"left by a crash")
    os.utime(stale, (time.time() - 2 * 86_400,) * 2)
    fresh = shared / ".y.mp3.77777@another-machine-abc123.a1b2c3d4.part"
    fresh.write_bytes(b"in progress")
    _build(shared / "y.mp3")
    assert not stale.exists() and fresh.exists()


def _build(out: Path) -> None:
    """A short render on this machine to ``out`` (it cleans the folder for that name)."""
    short = ("one-minute-break", "--minutes", "1", "--background", "none", "--no-sidecars")
    run = kindvoice("build", *short, "--engine", "pyttsx3", "-o", str(out))
    assert run.code == 0, run.stderr
