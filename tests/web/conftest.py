"""Fixtures for the web tests: a real server on 127.0.0.1 and an ephemeral port (with or
without the access token), and a tiny urllib client that returns every status instead of
raising, and never follows redirects (so the tests see the 303s and cookies)."""

from __future__ import annotations

import json
import os
import secrets
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any

import pytest

from kindvoice.web import Running, create_app, start_server

from kv_testing import CHROMIUM, LAUNCH_ARGS, PHONE


def pytest_configure(config: pytest.Config) -> None:
    # also registered in pyproject.toml; here too so this folder runs on its own
    config.addinivalue_line("markers", "browser: drives a real headless Chromium (Playwright)")


@dataclass
class Reply:
    status: int
    headers: Message
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.body)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@dataclass
class Site:
    """A running server plus what a test needs to talk to it."""

    running: Running
    state: Any  # kindvoice.web.app.State
    token: str
    library: Path

    @property
    def base(self) -> str:
        return self.running.url.rstrip("/")

    def request(
        self,
        path: str,
        data: bytes | dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        method: str | None = None,
    ) -> Reply:
        body = data
        hdrs = dict(headers or {})
        if isinstance(data, dict):
            body = urllib.parse.urlencode(data).encode()
            hdrs.setdefault("Content-Type", "application/x-www-form-urlencoded")
        req = urllib.request.Request(self.base + path, data=body, headers=hdrs, method=method)
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            with opener.open(req, timeout=600) as response:
                return Reply(response.status, response.headers, response.read())
        except urllib.error.HTTPError as exc:
            return Reply(exc.code, exc.headers, exc.read())

    def post(self, path: str, fields: dict[str, str]) -> Reply:
        return self.request(path, {"token": self.token, **fields})

    def wait_job(self, job_url: str) -> dict[str, Any]:
        """Poll a job until it finishes (no timing asserted: the test's own timeout rules)."""
        while True:
            state: dict[str, Any] = self.request(job_url).json()
            if state["status"] in ("done", "failed"):
                return state
            time.sleep(0.2)

    def render(self, path: str, fields: dict[str, str]) -> dict[str, Any]:
        """Post a form that queues a job (``/course``, ``/build``...), wait for the job to
        finish, and return its state, checked done."""
        queued = self.post(path, fields)
        assert queued.status == 303, queued.text
        state = self.wait_job(f"/api/jobs/{queued.headers['Location'].rsplit('/', 1)[1]}")
        assert state["status"] == "done", state["message"]
        return state


StartSite = Callable[..., Site]


@pytest.fixture
def start_site(tmp_path: Path) -> Iterator[StartSite]:
    """Start servers (``start_site(require_token=True, queue_limit=...)``); all stop after."""
    started: list[tuple[Running, Any]] = []

    def start(**options: Any) -> Site:
        library = tmp_path / f"library{len(started)}"
        app = create_app(library, **options)
        running = start_server(app, "127.0.0.1", 0)
        state = app.extensions["kindvoice"]
        started.append((running, state))
        return Site(running, state, state.token, state.library.root)

    yield start
    for running, state in started:
        running.stop()
        state.jobs.shutdown()


@pytest.fixture
def site(start_site: StartSite) -> Site:
    """A server on loopback: no token needed to read, the token needed to post."""
    return start_site()


@pytest.fixture(scope="module")
def playwright() -> Iterator[Any]:
    """Playwright's sync API for the module (skips when Chromium is not installed)."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"{CHROMIUM} is missing: run `bash scripts/install_browser.sh`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="module")
def browser(playwright: Any) -> Iterator[Any]:
    """A headless Chromium for the module."""
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
    yield chromium
    chromium.close()


class OneSession:
    """A server with the token on and one rendered session (``stem``), for the phone pages."""

    def __init__(self, url: str, state: Any) -> None:
        self.base, self.state, self.stem = url.rstrip("/"), state, ""

    def link(self, role: str, path: str) -> str:
        token = self.state.token if role == "teacher" else self.state.listener_token
        return f"{self.base}{path}?token={token}"

    def new_links(self) -> None:
        """As ``kindvoice serve --new-token``: both old links stop working."""
        self.state.token = secrets.token_urlsafe(18)
        self.state.listener_token = secrets.token_urlsafe(18)


@pytest.fixture(scope="module")
def one_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OneSession]:
    """The one-minute break rendered once (espeak, mp3) through the teacher's Build form."""
    app = create_app(tmp_path_factory.mktemp("one-session") / "library", require_token=True)
    running = start_server(app, "127.0.0.1", 0)
    state = app.extensions["kindvoice"]
    try:
        server = OneSession(running.url, state)
        fields = {"token": state.token, "practice": "one-minute-break", "minutes": "1"}
        fields |= {"engine": "pyttsx3", "voice": "en-us", "rate": "1", "format": "mp3"}
        request = urllib.request.Request(
            f"{server.base}/build",
            urllib.parse.urlencode(fields).encode(),
            headers={"Cookie": f"kindvoice_token={state.token}"},
        )
        with urllib.request.urlopen(request, timeout=60) as reply:  # follows to the job page
            job_id = reply.url.rsplit("/", 1)[1]
        while (job := state.jobs.get(job_id)).status not in ("done", "failed"):
            time.sleep(0.2)
        assert job.status == "done", job.message
        server.stem = job.result
        yield server
    finally:
        running.stop()
        state.jobs.shutdown()


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    """A fresh phone-sized browser context (its own storage and service workers)."""
    context = browser.new_context(**PHONE)
    yield context
    context.close()
