"""The walk-through's small fixes that need no browser (issue 23 §7): NUL bytes in file
names, error pages that repeat at most 200 characters of what was sent, titles without
control or bidirectional-override characters and of a bounded length, and the teacher's
templates list closed to the listener's link. Flask's test client on a real app."""

from __future__ import annotations

import html
import json
import re
import time
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from kindvoice.web import create_app

MAX_ECHO_CHARS = 200  # the issue: an error page repeats at most this much input
MAX_TITLE_CHARS = 120  # kindvoice.web.state.MAX_TITLE_CHARS

STEM = "one-minute-break-1m00s-20260101-090000-aaaa"


@pytest.fixture
def teacher(tmp_path: Path) -> FlaskClient:
    library = tmp_path / "library"
    library.mkdir()
    (library / f"{STEM}.mp3").write_bytes(b"ID3" + bytes(64))
    meta = {"title": "Monday", "audio": f"{STEM}.mp3", "seconds": 60.0, "created": 1.7e9}
    (library / f"{STEM}.session.json").write_text(json.dumps(meta))
    (library / "courses" / "kind-days-20260101-090000-abcd").mkdir(parents=True)
    app = create_app(library)
    client = app.test_client()
    client.state = app.extensions["kindvoice"]  # type: ignore[attr-defined]
    return client


def test_a_nul_byte_in_a_file_name_is_not_found(teacher: FlaskClient) -> None:
    key = teacher.state.listener_token  # type: ignore[attr-defined]
    for path in (
        "/files/x%00.mp3",
        f"/files/{STEM}%00.mp3",
        "/previews/x%00.mp3",
        "/courses/kind-days-20260101-090000-abcd/x%00.mp3",
        f"/feed/{key}/x%00.mp3",
        "/static/x%00.css",
    ):
        reply = teacher.get(path)
        assert reply.status_code == 404, (path, reply.text[:200])
        assert "null byte" not in reply.text


def _longest_run(text: str, char: str) -> int:
    return max((len(m) for m in re.findall(f"{re.escape(char)}+", text)), default=0)


def test_error_pages_repeat_at_most_200_characters_of_the_input(teacher: FlaskClient) -> None:
    token = teacher.state.token  # type: ignore[attr-defined]
    huge = "b" * 900_000
    renamed = teacher.post(f"/sessions/{STEM}/rename", data={"token": token, "title": huge})
    assert renamed.status_code == 400
    assert len(renamed.data) < 20_000 and _longest_run(renamed.text, "b") <= MAX_ECHO_CHARS
    assert "too long" in renamed.text
    # a value the form offers as a list (the format), sent as 300 KB
    fields = {"token": token, "practice": "one-minute-break", "minutes": "1"}
    fields |= {"engine": "pyttsx3", "rate": "1", "format": "x" * 300_000}
    built = teacher.post("/build", data=fields)
    assert built.status_code == 400, built.text[:300]
    assert len(built.data) < 20_000 and _longest_run(built.text, "x") <= MAX_ECHO_CHARS
    api = teacher.get("/api/range?practice=" + "p" * 100_000)
    assert api.status_code in (400, 404)
    assert _longest_run(api.text, "p") <= MAX_ECHO_CHARS


@pytest.mark.parametrize(
    "title",
    ["\u202eevil", "a\x00b", "bell\x07", "left\u2066isolate", "t" * (MAX_TITLE_CHARS + 1)],
    ids=["rtl-override", "nul", "control", "isolate", "too-long"],
)
def test_titles_refuse_control_and_bidi_characters_and_are_capped(
    teacher: FlaskClient, title: str
) -> None:
    token = teacher.state.token  # type: ignore[attr-defined]
    db = teacher.state.db  # type: ignore[attr-defined]
    renamed = teacher.post(f"/sessions/{STEM}/rename", data={"token": token, "title": title})
    assert renamed.status_code == 400, title
    assert db.session(STEM)["title"] == "Monday"
    # a template's title on the Write page: refused, nothing kept
    text = f"---\ntitle: {json.dumps(title)}\nminutes: {{min: 1, default: 1, max: 1}}\n---\n"
    text += "\n## Start\nBreathe in, and breathe out.\n[pause 20s~]\n"
    written = teacher.post("/write", data={"token": token, "text": text, "engine": "pyttsx3"})
    assert written.status_code == 422, written.text[:300]
    assert db.templates() == []
    # a course's title and a session's own name on the Build form: by their fields
    course = teacher.post(
        "/course",
        data={"token": token, "title": title, "days": "1", "start_minutes": "1"}
        | {"end_minutes": "1", "practices": "one-minute-break", "engine": "pyttsx3"},
        headers={"Accept": "application/json"},
    )
    assert (course.status_code, course.json["field"]) == (400, "title")
    fields = {"token": token, "practice": "one-minute-break", "minutes": "1", "title": title}
    fields |= {"engine": "pyttsx3", "rate": "1", "format": "mp3"}
    built = teacher.post("/build", data=fields, headers={"Accept": "application/json"})
    assert (built.status_code, built.json["field"]) == (400, "title")


def test_a_plain_title_with_accents_and_right_to_left_text_is_kept(teacher: FlaskClient) -> None:
    token = teacher.state.token  # type: ignore[attr-defined]
    for title in ("Clase 1 – martes", "שיעור ראשון", "Café  de   la mañana"):
        renamed = teacher.post(f"/sessions/{STEM}/rename", data={"token": token, "title": title})
        assert renamed.status_code == 303
        assert teacher.state.db.session(STEM)["title"] == " ".join(title.split())  # type: ignore[attr-defined]


def test_a_listener_cannot_open_the_teachers_templates(teacher: FlaskClient) -> None:
    assert teacher.get("/templates").status_code == 200
    listener = teacher.application.test_client()
    key = teacher.state.listener_token  # type: ignore[attr-defined]
    listener.set_cookie("kindvoice_token", key)
    page = listener.get("/templates")
    assert page.status_code == 403 and "listener" in page.text
    assert "Your templates" not in listener.get("/sessions").text  # not in the menu either


SHORT = """---
title: Tuesday Pause
minutes: {min: 1, default: 1, max: 1}
---

## Arriving
Let yourself arrive, just as you are.
[pause 10s~40s]
Breathe in, and breathe out.
[pause 5s~30s]
"""


def test_uploaded_templates_are_renamed_edited_deleted_and_name_their_sessions(
    teacher: FlaskClient,
) -> None:
    state = teacher.state  # type: ignore[attr-defined]
    token = state.token
    written = teacher.post("/write", data={"token": token, "text": SHORT, "engine": "pyttsx3"})
    assert written.status_code == 200, written.text[-500:]
    [row] = state.db.templates()
    digest = row["digest"]
    assert row["name"] == "Tuesday Pause"

    # a session from it is named by the title, not by the template's hash
    fields = {"token": token, "practice": f"upload:{digest}", "minutes": "1"}
    fields |= {"engine": "pyttsx3", "voice": "en-us", "rate": "1", "format": "mp3"}
    queued = teacher.post("/build", data=fields)
    assert queued.status_code == 303, queued.text[-500:]
    job_id = queued.headers["Location"].rsplit("/", 1)[1]
    while (job := teacher.get(f"/api/jobs/{job_id}").json)["status"] not in ("done", "failed"):
        time.sleep(0.2)
    assert job["status"] == "done", job["message"]
    assert job["result"].startswith("tuesday-pause-1m00s-") and digest not in job["result"]

    # rename on the list (the same title rules as sessions)
    renamed = teacher.post(f"/templates/{digest}/rename", data={"token": token, "title": "Class"})
    assert renamed.status_code == 303 and state.db.template(digest)["name"] == "Class"
    bad = teacher.post(f"/templates/{digest}/rename", data={"token": token, "title": "\u202ex"})
    assert bad.status_code == 400 and state.db.template(digest)["name"] == "Class"

    # edit: the Write page opens with its text; checking the edit replaces it in the list
    page = teacher.get(f"/write?template={digest}").text
    assert "Let yourself arrive, just as you are." in html.unescape(page)
    assert f'name="replaces" value="{digest}"' in page
    edited = SHORT.replace("Tuesday Pause", "Wednesday Pause")
    checked = teacher.post(
        "/write", data={"token": token, "text": edited, "engine": "pyttsx3", "replaces": digest}
    )
    assert checked.status_code == 200, checked.text[-500:]
    [row] = state.db.templates()
    assert row["name"] == "Wednesday Pause" and row["digest"] != digest
    listing = teacher.get("/templates").text
    assert "Wednesday Pause" in listing and "Tuesday Pause" not in listing

    # delete: gone from the list and from the disk; the session made from it stays
    gone = teacher.post(f"/templates/{row['digest']}/delete", data={"token": token})
    assert gone.status_code == 303 and state.db.templates() == []
    assert not state.library.upload_path(row["digest"]).exists()
    assert teacher.get(f"/sessions/{job['result']}").status_code == 200
    assert (
        teacher.post(f"/templates/{row['digest']}/delete", data={"token": token}).status_code == 404
    )
    listener = teacher.application.test_client()
    listener.set_cookie("kindvoice_token", state.listener_token)
    refused = listener.post(f"/templates/{digest}/delete", data={"token": state.listener_token})
    assert refused.status_code == 403


def test_a_full_disk_is_a_plain_507_and_the_session_is_kept(
    teacher: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write that meets a full disk (here: renaming a session) answers one line that
    says what to do, not an internal error, and the session's file is as it was."""
    import errno
    import os

    import kindvoice.web.sessions

    def full(path: Path, *_: object, **__: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(kindvoice.web.sessions, "write_atomic", full)
    meta = teacher.state.library.root / f"{STEM}.session.json"  # type: ignore[attr-defined]
    before = meta.read_bytes()
    token = teacher.state.token  # type: ignore[attr-defined]
    page = teacher.post(f"/sessions/{STEM}/rename", data={"token": token, "title": "Tuesday"})
    assert page.status_code == 507
    assert "The disk is full writing" in page.text and "free some space" in page.text
    assert "Internal error" not in page.text and "Traceback" not in page.text
    assert meta.read_bytes() == before
