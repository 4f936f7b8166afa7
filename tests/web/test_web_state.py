"""The web app's state that survives a restart (``web.db``: migrations, sessions on disk
imported, jobs interrupted and retried), its two links (the listener's refused on every
writing route, no server path on its pages, the tokens kept across restarts of the real
``kindvoice serve``), and the session list's rename and "render again with changes"."""

from __future__ import annotations

import html
import http.client
import json
import os
import re
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from kindvoice.errors import UsageError
from kindvoice.web import create_app
from kindvoice.web.app import LISTENER_POSTS, LISTENER_REFUSED
from kindvoice.web.db import DB_NAME, VERSION, Database

from kv_testing import CHROMIUM, LAUNCH_ARGS, NEEDS_CHROMIUM

# a short real render: the one-minute break with espeak (pyttsx3)
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

# the schema of version 1, written out by hand as an older kindvoice left it
V1_SCHEMA = """
CREATE TABLE sessions (
    stem TEXT PRIMARY KEY, title TEXT NOT NULL, practice TEXT NOT NULL DEFAULT '',
    seconds REAL NOT NULL DEFAULT 0, voice TEXT NOT NULL DEFAULT '',
    background TEXT NOT NULL DEFAULT '', variables TEXT NOT NULL DEFAULT '{}',
    language TEXT NOT NULL DEFAULT '', created REAL NOT NULL, file TEXT NOT NULL);
CREATE TABLE templates (
    digest TEXT PRIMARY KEY, name TEXT NOT NULL, text TEXT NOT NULL, created REAL NOT NULL);
PRAGMA user_version = 1;
"""


def _state(app: Flask) -> Any:
    return app.extensions["kindvoice"]


def _fake_session(library: Path, stem: str, title: str, **meta: Any) -> None:
    """A session's files as a render leaves them (the audio need not be real here)."""
    library.mkdir(parents=True, exist_ok=True)
    (library / f"{stem}.mp3").write_bytes(b"ID3" + bytes(64))
    body = {
        "title": title,
        "audio": f"{stem}.mp3",
        "seconds": 61.0,
        "created": 1_700_000_000.0,
        "voice": "espeak en",
        "background": "rain",
        "language": "en",
        "variables": {"name": "Sam"},
        "format": "mp3",
        **meta,
    }
    (library / f"{stem}.session.json").write_text(json.dumps(body), encoding="utf-8")


def _wait(client: FlaskClient, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        state: dict[str, Any] = client.get(f"/api/jobs/{job_id}").get_json()
        if state["status"] in ("done", "failed", "interrupted"):
            return state
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} still unfinished")


# --------------------------------------------------------------------------- database


def test_a_version_1_database_is_migrated_and_keeps_its_rows(tmp_path: Path) -> None:
    library = tmp_path / "library"
    library.mkdir()
    with sqlite3.connect(library / DB_NAME) as old:
        old.executescript(V1_SCHEMA)
        old.execute(
            "INSERT INTO sessions (stem, title, practice, seconds, voice, background, "
            "variables, language, created, file) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            ("old-one", "An old one", "one-minute-break", 61.0, "espeak en", "rain",
             '{"name": "Sam"}', "en", 1_700_000_000.0, "old-one.mp3"),
        )  # fmt: skip
        old.execute(
            "INSERT INTO templates VALUES (?, ?, ?, ?)",
            ("0123456789abcdef", "My practice", "---\ntitle: My practice\n---\n", 1.0),
        )
    old.close()
    _fake_session(library, "old-one", "An old one")

    app = create_app(library)
    db = _state(app).db
    assert db.found_version == 1
    with sqlite3.connect(library / DB_NAME) as check:
        assert check.execute("PRAGMA user_version").fetchone()[0] == VERSION == 2
        tables = {row[0] for row in check.execute("SELECT name FROM sqlite_master")}
    check.close()
    assert {"sessions", "templates", "courses", "jobs"} <= tables
    [row] = db.sessions()
    assert (row["title"], row["variables"], row["form"]) == ("An old one", {"name": "Sam"}, [])
    assert [t["name"] for t in db.templates()] == ["My practice"]
    page = app.test_client().get("/sessions").text
    assert "An old one" in page and "Sam" in page and "<dd>Rain</dd>" in page  # plain words
    assert "My practice" in app.test_client().get("/templates").text
    # opened again: nothing migrated twice, nothing duplicated
    again = create_app(library)
    assert _state(again).db.found_version == VERSION
    assert len(_state(again).db.sessions()) == 1


def test_a_newer_database_is_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / DB_NAME
    with sqlite3.connect(path) as newer:
        newer.execute(f"PRAGMA user_version = {VERSION + 1}")
    newer.close()
    with pytest.raises(UsageError, match="newer kindvoice"):
        Database(path)


def test_sessions_on_disk_are_imported_once(tmp_path: Path) -> None:
    library = tmp_path / "library"
    _fake_session(library, "before-db", "Rendered before the database")
    app = create_app(library)
    assert [s.stem for s in _state(app).library.sessions()] == ["before-db"]
    assert "Rendered before the database" in app.test_client().get("/sessions").text
    create_app(library)
    assert [r["stem"] for r in Database(library / DB_NAME).sessions()] == ["before-db"]
    assert stat.S_IMODE((library / DB_NAME).stat().st_mode) == 0o600


def test_templates_and_courses_are_listed_from_the_navigation(tmp_path: Path) -> None:
    library = tmp_path / "library"
    (library / "courses" / "calm-week-20250101-120000-ab12").mkdir(parents=True)
    app = create_app(library)
    client = app.test_client()
    kept = _state(app).library
    kept.save_upload("---\ntitle: My evening practice\n---\n\n## Start\nHello.\n")
    kept.new_course_folder("Five calm mornings")
    nav = client.get("/sessions").text
    assert 'href="/templates"' in nav and 'href="/courses"' in nav
    templates = html.unescape(client.get("/templates").text)
    assert "My evening practice" in templates and "/build?practice=upload:" in templates
    courses = client.get("/courses").text
    assert "Five calm mornings" in courses and "Calm week" in courses  # made, and on disk


# --------------------------------------------------------------------------- restart


def test_a_restart_interrupts_the_job_in_flight_and_retry_renders_it(tmp_path: Path) -> None:
    library = tmp_path / "library"
    first = create_app(library, workers=1)
    release = threading.Event()
    started = threading.Event()

    def stuck(progress: Any) -> str:  # a render the server is stopped in the middle of
        started.set()
        release.wait(60)
        return "never-recorded"

    pairs = list(BUILD.items())
    running = _state(first).jobs.submit("session", "One-Minute Break, 1:00", stuck, pairs)
    waiting = _state(first).jobs.submit("session", "waiting", stuck, pairs)
    assert started.wait(10)

    second = create_app(library, workers=1)  # the server starts again on the same folder
    client = second.test_client()
    for job in (running, waiting):
        state = client.get(f"/api/jobs/{job.id}").get_json()
        assert state["status"] == "interrupted" and state["retryable"], state
    page = client.get(f"/jobs/{running.id}").text
    assert "The server stopped before this render finished." in page
    assert f'action="/jobs/{running.id}/retry"' in page
    release.set()  # the old server's thread ends: it cannot undo "interrupted"
    _state(first).jobs.shutdown()
    time.sleep(0.3)
    assert client.get(f"/api/jobs/{running.id}").get_json()["status"] == "interrupted"

    retried = client.post(f"/jobs/{running.id}/retry", data={"token": _state(second).token})
    assert retried.status_code == 303, retried.text
    new_id = retried.headers["Location"].rsplit("/", 1)[1]
    assert new_id != running.id
    done = _wait(client, new_id)
    assert done["status"] == "done", done["message"]
    stem = done["result"]
    [row] = _state(second).db.sessions()
    assert row["stem"] == stem and row["voice"] and row["background"] == "none"
    assert ("minutes", "1") in [tuple(pair) for pair in row["form"]]
    assert client.get(f"/sessions/{stem}").status_code == 200

    # rename: the list, the player and the database say the new name
    teacher = {"token": _state(second).token}
    renamed = client.post(f"/sessions/{stem}/rename", data={**teacher, "title": "  Morning  "})
    assert renamed.status_code == 303
    assert "Morning" in client.get(f"/sessions/{stem}").text
    assert "Morning" in client.get("/sessions").text
    assert _state(second).db.session(stem)["title"] == "Morning"
    empty = client.post(f"/sessions/{stem}/rename", data={**teacher, "title": " "})
    assert empty.status_code == 400
    # render again with changes: the Build form's address carries the session's settings
    listing = html.unescape(client.get("/sessions").text)
    [again] = re.findall(r'href="(/build\?[^"]+)" data-again', listing)
    assert "practice=one-minute-break" in again and "minutes=1" in again
    assert "engine=pyttsx3" in again and "bg_none=1" in again and "token" not in again
    assert client.get(again).status_code == 200
    # a finished job is not retried
    assert client.post(f"/jobs/{new_id}/retry", data=teacher).status_code == 400

    # the library as a podcast feed, on the listener's token in the path (no cookie)
    key = _state(second).listener_token
    assert f"/feed/{key}/feed.xml" in listing
    podcast = second.test_client()  # an app: no cookie
    feed = podcast.get(f"/feed/{key}/feed.xml")
    assert feed.status_code == 200 and feed.mimetype == "application/rss+xml"
    [enclosure] = re.findall(r'enclosure url="http://localhost/feed/[^/]+/([^"]+)"', feed.text)
    assert enclosure == row["file"]
    audio = podcast.get(f"/feed/{key}/{enclosure}")
    assert audio.status_code == 200 and audio.mimetype == "audio/mpeg"
    assert podcast.get(f"/feed/{key}/cover.jpg").status_code == 200
    assert podcast.get(f"/feed/{key}/..%2Fkindvoice.sqlite3").status_code == 404
    assert podcast.get(f"/feed/not-a-token-at-all/{enclosure}").status_code == 403
    assert podcast.get("/feed/not-a-token-at-all/feed.xml").status_code == 403


# --------------------------------------------------------------------------- two links


def _writing_rules(app: Flask) -> list[tuple[str, str, str]]:
    """Every route that takes a POST, PUT, PATCH or DELETE: (endpoint, method, path)."""
    found = []
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) & {"POST", "PUT", "PATCH", "DELETE"}):
            path = re.sub(r"<(?:[^:<>]+:)?[^<>]+>", "x", rule.rule)
            found.append((rule.endpoint, method, path))
    return found


def test_the_listener_link_is_refused_on_every_writing_route(tmp_path: Path) -> None:
    library = tmp_path / "library"
    _fake_session(library, "kept", "Kept session")
    app = create_app(library, require_token=True)
    tokens = _state(app)
    listener, teacher = app.test_client(), app.test_client()
    assert listener.get(f"/?token={tokens.listener_token}").headers["Location"] == "/sessions"
    assert teacher.get(f"/?token={tokens.token}").status_code == 303

    rules = _writing_rules(app)
    endpoints = {endpoint for endpoint, _, _ in rules}
    assert {"jobs.build_submit", "sessions.delete_session", "jobs.retry_job"} <= endpoints
    for endpoint, method, path in rules:
        reply = listener.open(path, method=method, data={"token": tokens.listener_token})
        if endpoint in LISTENER_POSTS:
            assert reply.status_code != 403, endpoint
            continue
        assert reply.status_code == 403, (endpoint, reply.status_code)
        assert html.unescape(reply.text).count(LISTENER_REFUSED) == 1 or (
            reply.get_json(silent=True) == {"error": LISTENER_REFUSED}
        )
        # the teacher passes the guard on the same route (then 4xx for the dummy name)
        answer = teacher.open(path, method=method, data={"token": tokens.token})
        assert answer.status_code != 403, (endpoint, answer.status_code, answer.text[:200])
    for page in ("/build", "/write", "/timer", "/course"):
        assert listener.get(page).status_code == 403, page
        assert teacher.get(page).status_code == 200, page

    # the teacher's token does what the listener's cannot; the session is still there
    assert listener.get("/sessions/kept").status_code == 200
    renamed = teacher.post("/sessions/kept/rename", data={"token": tokens.token, "title": "T"})
    assert renamed.status_code == 303
    gone = teacher.post("/sessions/kept/delete", data={"token": tokens.token})
    assert gone.status_code == 303 and not (library / "kept.mp3").exists()
    # a token that is not (any more) one of the two: a styled page saying what to do
    stale = app.test_client().get("/sessions?token=an-old-token-from-before")
    assert stale.status_code == 403 and 'rel="stylesheet"' in stale.text
    assert "kindvoice serve" in html.unescape(stale.text)
    assert tokens.token not in stale.text and tokens.listener_token not in stale.text


def test_listener_pages_show_no_server_path_and_no_writing_controls(tmp_path: Path) -> None:
    library = tmp_path / "library"
    _fake_session(library, "kept", "Kept session")
    app = create_app(library, require_token=True)
    tokens = _state(app)
    listener, teacher = app.test_client(), app.test_client()
    listener.get(f"/?token={tokens.listener_token}")
    teacher.get(f"/?token={tokens.token}")
    teacher_page = teacher.get("/sessions").text
    assert str(library.resolve()) in teacher_page  # the check below can fail
    assert "Rename" in teacher_page and 'class="segno"' in teacher_page
    assert tokens.listener_token in teacher_page  # both links, as QR codes too
    for path in ("/sessions", "/sessions/kept", "/courses", "/", "/history"):
        reply = listener.get(path)
        assert reply.status_code == 200, path
        text = html.unescape(reply.text)
        assert str(tmp_path) not in text and str(library.resolve()) not in text, path
        assert tokens.token not in text, path
        for control in (
            "Delete",
            "Rename",
            "Render again",
            "Write your own",
            "QR code of the teacher's link",  # (the feed's QR code is for everyone)
            "QR code of the listener's link",
            "Build this",
        ):
            assert control not in text, (path, control)
    assert listener.get("/files/kept.mp3?download=1").status_code == 200
    # the database and the tokens sit beside the sessions: never served
    for name in ("tokens.json", DB_NAME):
        assert (library / name).is_file()
        assert listener.get(f"/files/{name}").status_code == 404
        assert teacher.get(f"/feed/{tokens.listener_token}/{name}").status_code == 404


# --------------------------------------------------------------------------- the real CLI


def _start_serve(tmp_path: Path, *options: str) -> tuple[subprocess.Popen[str], list[str], str]:
    """Start ``kindvoice serve`` and read what it prints up to its links: (process, the
    teacher's and the listener's links, the output)."""
    command = [str(Path(sys.executable).parent / "kindvoice"), "serve"]
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),  # a cold phrase cache: a render that lasts
    }
    process = subprocess.Popen(
        [*command, "--library", str(tmp_path / "library"), *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    killer = threading.Timer(60, process.kill)  # a server that never prints its links
    killer.start()
    lines: list[str] = []
    assert process.stdout is not None
    for line in process.stdout:
        lines.append(line)
        if line.startswith("Sessions are saved in"):
            break
    killer.cancel()
    output = "".join(lines)
    links = re.findall(r"https?://\S+\?token=\S+", output)
    assert len(links) == 2, output
    return process, links, output


def _stop(process: subprocess.Popen[str], how: int = signal.SIGTERM) -> None:
    process.send_signal(how)
    process.wait(30)
    if process.stdout is not None:
        process.stdout.close()


def _serve(tmp_path: Path, *options: str) -> tuple[str, str, str]:
    """Run ``kindvoice serve`` until it has printed its links; (teacher, listener, output)."""
    process, links, output = _start_serve(tmp_path, "--port", "0", *options)
    try:
        port = re.search(r":(\d+)/", links[0]).group(1)  # type: ignore[union-attr]
        for link in links:  # each opens the page: its cookie set, then the page
            connection = http.client.HTTPConnection("127.0.0.1", int(port), timeout=30)
            connection.request("GET", f"/sessions?token={link.split('token=')[1]}")
            reply = connection.getresponse()
            assert reply.status == 303 and "kindvoice_token" in reply.headers["Set-Cookie"]
            connection.close()
    finally:
        _stop(process)
    return links[0].split("token=")[1], links[1].split("token=")[1], output


def test_serve_keeps_its_links_across_restarts_until_new_token(tmp_path: Path) -> None:
    teacher, listener, output = _serve(tmp_path)
    assert "Teacher's link" in output and "Listener's link" in output
    tokens_file = tmp_path / "library" / "tokens.json"
    assert stat.S_IMODE(tokens_file.stat().st_mode) == 0o600
    assert _serve(tmp_path)[:2] == (teacher, listener)
    # --new-token rotates both; beyond loopback each link comes with its QR code
    new_teacher, new_listener, lan = _serve(tmp_path, "--new-token", "--host", "0.0.0.0")
    assert {new_teacher, new_listener}.isdisjoint({teacher, listener})
    assert lan.count("▀▀▀▀▀▀▀▀▀▀") >= 2  # two QR codes in block characters
    chosen = "a-teacher-token-of-mine"
    assert _serve(tmp_path, "--token", chosen)[:2] == (chosen, new_listener)


# --------------------------------------------------------------------------- in a browser


@pytest.mark.browser
@NEEDS_CHROMIUM
def test_the_job_page_reconnects_after_a_crash_and_retries(tmp_path: Path) -> None:
    """The server is killed (SIGKILL) mid-render with the job page open: the page says
    "Reconnecting…", then, served again, that the render was interrupted; its button
    renders it again and the page opens the player."""
    from playwright.sync_api import expect, sync_playwright

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = str(probe.getsockname()[1])
    process, links, _ = _start_serve(tmp_path, "--port", port, "--workers", "1")
    again: subprocess.Popen[str] | None = None
    try:
        token = links[0].split("token=")[1]
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        # a long timer takes the one worker, so the session waits behind it (no race
        # with a render that a warm phrase cache would finish before the page opens)
        long_timer = {"minutes": "120", "bell": "bowl", "background": "rain", "format": "mp3"}
        job_page = ""
        for path, fields in (("/timer", long_timer), ("/build", BUILD)):
            connection = http.client.HTTPConnection("127.0.0.1", int(port), timeout=30)
            body = urllib.parse.urlencode({"engine": "pyttsx3", **fields, "token": token})
            connection.request("POST", path, body, form)
            reply = connection.getresponse()
            assert reply.status == 303, reply.read()[:300]
            job_page = reply.headers["Location"]
            connection.close()
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}{job_page}")
            status = page.locator("[data-job-status]")
            expect(status).to_contain_text("Waiting")  # behind the timer
            _stop(process, signal.SIGKILL)  # a crash: no goodbye to the page
            expect(status).to_have_text("Reconnecting…", timeout=10_000)
            again, _, _ = _start_serve(tmp_path, "--port", port, "--workers", "1")
            expect(status).to_have_text(
                "The server stopped before this render finished.", timeout=30_000
            )
            page.get_by_role("button", name="Render it again").click()
            page.wait_for_url(re.compile(r".*/sessions/one-minute-break-.*"), timeout=90_000)
            assert page.locator("audio").count() == 1
            browser.close()
    finally:
        if process.poll() is None:
            _stop(process)
        if again is not None:
            _stop(again)
