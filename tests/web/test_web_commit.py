"""Issue 24 §4: a session rendered on the web page is one output set: its audio and its
sidecars are committed together, with one stamp that knows every file, so a failure
while the sidecars are written leaves no session half-made. Real espeak renders through
the app's own routes and job queue."""

from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path
from typing import Any

import psutil
import pytest
from flask import Flask
from test_web_state import BUILD  # a short real render: the one-minute break with espeak

from kindvoice.errors import AudioIOError
from kindvoice.export.outputs import OutputSet, file_digest, owned, read_stamp
from kindvoice.export.sidecars import sidecar_paths
from kindvoice.web import create_app

FORM = "application/x-www-form-urlencoded"


def _render(app: Flask) -> dict[str, Any]:
    state = app.extensions["kindvoice"]
    client = app.test_client()
    reply = client.post("/build", data={**BUILD, "token": state.token})
    assert reply.status_code == 303, reply.text[:300]
    job = reply.headers["Location"].rsplit("/", 1)[1]
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        found: dict[str, Any] = client.get(f"/api/jobs/{job}").get_json()
        if found["status"] in ("done", "failed", "interrupted"):
            return found
        time.sleep(0.2)
    raise AssertionError("the render did not finish")


@pytest.mark.slow
def test_a_web_session_is_committed_with_its_sidecars(tmp_path: Path) -> None:
    app = create_app(tmp_path / "library", workers=1)
    done = _render(app)
    assert done["status"] == "done", done
    audio = tmp_path / "library" / f"{done['result']}.mp3"
    sidecars = list(sidecar_paths(audio).values())
    assert all(p.is_file() for p in sidecars)
    # one stamp knows the audio and every sidecar: they were put in place together
    assert owned(audio) and all(owned(p, audio) for p in sidecars)


@pytest.mark.slow
def test_a_failure_while_the_sidecars_are_written_leaves_no_session(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stage = OutputSet.stage

    def disk_full_at_the_lrc(self: OutputSet, target: Path, data: bytes | str) -> None:
        if target.suffix == ".lrc":
            raise AudioIOError(f"Cannot write '{target}': No space left on device.")
        stage(self, target, data)

    monkeypatch.setattr(OutputSet, "stage", disk_full_at_the_lrc)
    app = create_app(tmp_path / "library", workers=1)
    failed = _render(app)
    assert failed["status"] == "failed" and "No space left" in failed["message"], failed
    left = [p.name for p in (tmp_path / "library").iterdir() if p.is_file()]
    assert not [name for name in left if name.startswith("one-minute-break")], left
    assert not [name for name in left if name.endswith(".part")], left


RENAMES = "rename,renameat,renameat2"
SLOW_RENAMES = ["-e", f"trace={RENAMES}", "-e", f"inject={RENAMES}:delay_exit=400000"]


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("strace") is None, reason="needs strace to slow the renames")
def test_a_server_stopped_while_a_session_is_put_in_place_finishes_the_set(
    tmp_path: Path,
) -> None:
    """``kill`` of a real ``kindvoice serve`` while its render thread renames the files
    (slowed to 0.4 s each by strace): the server waits for the set, then stops."""
    library = tmp_path / "library"
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
    }
    command = [sys.executable, "-m", "kindvoice", "serve", "--library", str(library), "--port", "0"]
    server = subprocess.Popen(
        ["strace", "-f", "-qq", "-o", str(tmp_path / "renames.txt"), *SLOW_RENAMES, *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        assert server.stdout is not None
        output = ""
        for line in server.stdout:
            output += line
            if line.startswith("Sessions are saved in"):
                break
        link = re.search(r"http://127\.0\.0\.1:(\d+)/\?token=(\S+)", output)
        assert link is not None, output
        connection = http.client.HTTPConnection("127.0.0.1", int(link.group(1)), timeout=60)
        body = urllib.parse.urlencode({**BUILD, "token": link.group(2)})
        connection.request("POST", "/build", body, {"Content-Type": FORM})
        assert connection.getresponse().status == 303
        connection.close()
        deadline = time.monotonic() + 240
        while not list(library.glob("one-minute-break-*.mp3")):  # the audio is in place
            assert time.monotonic() < deadline and server.poll() is None, output
            time.sleep(0.01)
        [python] = psutil.Process(server.pid).children()
        os.kill(python.pid, signal.SIGTERM)
        server.communicate(timeout=120)
    finally:
        if server.poll() is None:
            server.kill()
    [audio] = library.glob("one-minute-break-*.mp3")
    sidecars = list(sidecar_paths(audio).values())
    assert all(p.is_file() for p in sidecars), sorted(p.name for p in library.iterdir())
    recorded = (read_stamp(audio) or {}).get("files", {})
    for path in [audio, *sidecars]:  # the final stamp: one version of each file, matching
        assert recorded.get(path.name) == [file_digest(path)], path.name
