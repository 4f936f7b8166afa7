"""The listener's and the teacher's pages on a phone (issue 23 §7), in a real headless
Chromium at 390x844 with touch: the first practice card in view without scrolling past
the menu, subscribing through a button, a QR code and a copy button (no raw XML to tap),
and a player that offers a listener the audio and the transcript, not five sidecars.

One short session (the one-minute break, espeak) is rendered for the module."""

from __future__ import annotations

import os
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kindvoice.web import create_app, start_server

CHROMIUM = "/usr/bin/chromium"
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

    def link(self, role: str, path: str) -> str:
        token = self.state.token if role == "teacher" else self.state.listener_token
        return f"{self.base}{path}?token={token}"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    app = create_app(tmp_path_factory.mktemp("phone-pages") / "library", require_token=True)
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
        with urllib.request.urlopen(request, timeout=60) as reply:
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
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--no-first-run"]
        )
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    context = browser.new_context(**PHONE)
    yield context
    context.close()


@pytest.mark.parametrize("role", ["teacher", "listener"])
def test_the_first_practice_card_is_in_view_on_a_phone(
    context: Any, server: Server, role: str
) -> None:
    page = context.new_page()
    page.goto(server.link(role, "/sessions"))  # the link sets the cookie
    page.goto(server.base + "/")
    first = page.locator(".card").first
    box = first.locator(".actions").bounding_box()
    assert box is not None and box["y"] + box["height"] <= 844, box  # its buttons in view
    assert first.locator("h2").bounding_box()["y"] < 600
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways page
    # every menu item is still there, on one line that scrolls sideways
    tops = page.locator("nav li").evaluate_all("lis => lis.map(li => li.offsetTop)")
    assert len(tops) >= 4 and len(set(tops)) == 1


def test_subscribing_on_a_phone_opens_an_app_not_raw_xml(context: Any, server: Server) -> None:
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.goto(server.link("listener", "/sessions"))
    feed = f"{server.base}/feed/{server.state.listener_token}/feed.xml"
    # no link on the page leads to the raw feed
    hrefs = page.locator("a[href]").evaluate_all("links => links.map(a => a.href)")
    assert feed not in hrefs
    app = page.get_by_role("link", name="Open in a podcast app")
    assert app.get_attribute("href") == "podcast://" + feed.split("://", 1)[1]
    page.get_by_role("button", name="Copy the feed address").click()
    page.get_by_text("Copied").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == feed
    page.get_by_text("Its QR code").click()
    assert page.get_by_role("img", name="QR code of the podcast feed").is_visible()
    assert page.get_by_label("The feed's address").input_value() == feed


def test_the_listeners_player_offers_the_audio_and_the_transcript(
    context: Any, server: Server
) -> None:
    page = context.new_page()
    page.goto(server.link("listener", f"/sessions/{server.stem}"))
    kinds = page.locator("[data-kind]").evaluate_all("links => links.map(a => a.dataset.kind)")
    assert kinds == ["audio", "transcript"]
    with page.expect_download() as download:
        page.get_by_role("link", name="Transcript (text)").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    first, _, *lines = text.splitlines()
    assert first == "The One-Minute Self-Compassion Break"
    assert lines and all(line.split("  ", 1)[0].count(":") == 1 for line in lines)
    # the teacher keeps every file to download
    teacher = context.new_page()
    teacher.goto(server.link("teacher", f"/sessions/{server.stem}"))
    kinds = teacher.locator("[data-kind]").evaluate_all("links => links.map(a => a.dataset.kind)")
    assert {"audio", "vtt", "srt", "chapters", "cover", "transcript"} <= set(kinds)
    # a web session has its cover, as a command-line render: the lock screen shows it
    artwork = teacher.evaluate("JSON.parse(document.getElementById('session-data').text).artwork")
    assert artwork.endswith(f"/files/{server.stem}.jpg")


def test_a_session_deleted_while_a_listener_has_it_open_says_so(
    browser: Any, server: Server
) -> None:
    """The teacher deletes a session a listener has open: the listener's next load of
    the audio says so in plain words (it was a silent media error)."""
    context = browser.new_context(**PHONE)
    try:
        page = context.new_page()
        page.goto(server.link("listener", f"/sessions/{server.stem}"))
        page.wait_for_function("() => isFinite(document.getElementById('player').duration)")
        teacher = {"Cookie": f"kindvoice_token={server.state.token}"}
        request = urllib.request.Request(
            f"{server.base}/sessions/{server.stem}/delete",
            urllib.parse.urlencode({"token": server.state.token}).encode(),
            headers=teacher,
        )
        with urllib.request.urlopen(request, timeout=60) as reply:
            assert reply.status == 200  # followed to the session list
        # the player's next fetch of the audio (a small file is all in the browser's cache:
        # a new address makes it ask the server again, as a seek in a long session does)
        page.evaluate("(a => { a.src = a.currentSrc + '?again=1'; a.load(); })(player)")
        alert = page.locator("[data-audio-error]")
        alert.wait_for()
        assert "no longer on the server" in alert.inner_text()
    finally:
        context.close()
