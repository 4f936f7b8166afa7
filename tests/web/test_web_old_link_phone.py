"""A listener's phone after the teacher made new links (``--new-token``), in a real
headless Chromium at 390x844 (issue 23 §7): a session kept offline still plays while the
server refuses the old link, and a page the old link cannot open is styled, says one
useful thing and offers no link that would be refused again. The practice history (kept
on the phone only) opens without a link.

One short session (the one-minute break, espeak) is rendered for the module."""

from __future__ import annotations

import os
import secrets
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from kindvoice.web import create_app, start_server

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-quic"]
LAUNCH_ARGS.append("--autoplay-policy=no-user-gesture-required")
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.access(CHROMIUM, os.X_OK),
        reason=f"{CHROMIUM} is missing: run `bash scripts/install_browser.sh`",
    ),
]


class Server:
    def __init__(self, url: str, state: Any) -> None:
        self.base, self.state, self.stem = url.rstrip("/"), state, ""

    def new_links(self) -> None:
        """As ``kindvoice serve --new-token``: both old links stop working."""
        self.state.token = secrets.token_urlsafe(18)
        self.state.listener_token = secrets.token_urlsafe(18)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    app = create_app(tmp_path_factory.mktemp("old-link") / "library", require_token=True)
    running = start_server(app, "127.0.0.1", 0)
    state = app.extensions["kindvoice"]
    try:
        server = Server(running.url, state)
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


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    context = browser.new_context(**PHONE)
    yield context
    context.close()


def test_a_kept_session_plays_after_the_teacher_made_new_links(
    context: Any, server: Server
) -> None:
    page = context.new_page()
    page.goto(f"{server.base}/sessions/{server.stem}?token={server.state.listener_token}")
    page.wait_for_selector("html[data-sw=controlled]")
    page.get_by_role("button", name="Keep offline").click()
    page.get_by_text("Kept on this phone: it plays without a connection.").wait_for()
    title = page.locator("h1").inner_text()

    server.new_links()
    assert page.request.get(f"{server.base}/sessions/{server.stem}").status == 403  # refused
    page.reload()
    assert page.locator("h1").inner_text() == title  # the kept copy, online
    page.evaluate("document.getElementById('player').play()")
    page.wait_for_function(
        "() => { const a = document.getElementById('player');"
        " return !a.paused && a.readyState >= 3 && a.currentTime > 0.5; }"
    )


def test_the_old_link_page_is_styled_with_one_useful_line_and_no_dead_links(
    context: Any, server: Server
) -> None:
    page = context.new_page()
    answer = page.goto(f"{server.base}/sessions?token=an-old-link-from-last-week")
    assert answer is not None and answer.status == 403
    # styled: the stylesheet loaded (the page's own font and colours, not the browser's)
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background not in ("rgba(0, 0, 0, 0)", "rgb(255, 255, 255)")
    alert = page.get_by_role("alert")
    assert "ask your teacher for the current link" in alert.inner_text()
    assert "kindvoice serve" not in alert.inner_text()
    # every link on the page opens without a working link (none leads to 403 again)
    hrefs = page.locator("a[href]").evaluate_all("links => links.map(a => a.href)")
    for href in hrefs:
        if href.split("#")[0] != page.url.split("#")[0]:
            assert page.request.get(href).status != 403, href
    assert page.locator("nav").count() == 0
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390

    # the history lives on the phone: it opens without a link, and without the menu
    history = page.goto(f"{server.base}/history")
    assert history is not None and history.status == 200
    page.get_by_text("Nothing here yet").wait_for()
    assert page.locator("nav").count() == 0
