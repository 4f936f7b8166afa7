"""Issue 24 §4: a session rendered on the web page is one output set: its audio and its
sidecars are committed together, with one stamp that knows every file, so a failure
while the sidecars are written leaves no session half-made. Real espeak renders through
the app's own routes and job queue."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from kindvoice.errors import AudioIOError
from kindvoice.export.outputs import OutputSet, owned
from kindvoice.export.sidecars import sidecar_paths
from kindvoice.web import create_app

BUILD = {
    "practice": "one-minute-break",
    "minutes": "1",
    "engine": "pyttsx3",
    "voice": "",
    "rate": "1.1",
    "format": "mp3",
    "channels": "mono",
    "bg_none": "1",
}


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
