"""The listener's and the teacher's pages on a phone (issue 23 §7), in a real headless
Chromium at 390x844 with touch: the first practice card in view without scrolling past
the menu, subscribing through a button, a QR code and a copy button (no raw XML to tap),
and a player that offers a listener the audio and the transcript, not five sidecars.

One short session (the one-minute break, espeak) is rendered for the module."""

from __future__ import annotations

import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from conftest import OneSession
from kv_testing import BROWSER_TESTS

pytestmark = BROWSER_TESTS


@pytest.mark.parametrize("role", ["teacher", "listener"])
def test_the_first_practice_card_is_in_view_on_a_phone(
    phone: Any, one_session: OneSession, role: str
) -> None:
    page = phone.new_page()
    page.goto(one_session.link(role, "/sessions"))  # the link sets the cookie
    page.goto(one_session.base + "/")
    first = page.locator(".card").first
    box = first.locator(".actions").bounding_box()
    assert box is not None and box["y"] + box["height"] <= 844, box  # its buttons in view
    assert first.locator("h2").bounding_box()["y"] < 600
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways page
    # every menu item is still there, wrapped inside the screen (none cut at its edge)
    rights = page.locator("nav li").evaluate_all(
        "lis => lis.map(li => li.getBoundingClientRect().right)"
    )
    assert len(rights) >= 4 and max(rights) <= 390


def test_subscribing_on_a_phone_opens_an_app_not_raw_xml(
    phone: Any, one_session: OneSession
) -> None:
    phone.grant_permissions(["clipboard-read", "clipboard-write"])
    page = phone.new_page()
    page.goto(one_session.link("listener", "/sessions"))
    feed = f"{one_session.base}/feed/{one_session.state.listener_token}/feed.xml"
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
    phone: Any, one_session: OneSession
) -> None:
    page = phone.new_page()
    page.goto(one_session.link("listener", f"/sessions/{one_session.stem}"))
    kinds = page.locator("[data-kind]").evaluate_all("links => links.map(a => a.dataset.kind)")
    assert kinds == ["audio", "transcript"]
    with page.expect_download() as download:
        page.get_by_role("link", name="Transcript (text)").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    first, _, *lines = text.splitlines()
    assert first == "The One-Minute Self-Compassion Break"
    assert lines and all(line.split("  ", 1)[0].count(":") == 1 for line in lines)
    # the teacher keeps every file to download
    teacher = phone.new_page()
    teacher.goto(one_session.link("teacher", f"/sessions/{one_session.stem}"))
    kinds = teacher.locator("[data-kind]").evaluate_all("links => links.map(a => a.dataset.kind)")
    assert {"audio", "vtt", "srt", "chapters", "cover", "transcript"} <= set(kinds)
    # a web session has its cover, as a command-line render: the lock screen shows it
    artwork = teacher.evaluate("JSON.parse(document.getElementById('session-data').text).artwork")
    assert artwork.endswith(f"/files/{one_session.stem}.jpg")


def test_a_session_deleted_while_a_listener_has_it_open_says_so(
    phone: Any, one_session: OneSession
) -> None:
    """The teacher deletes a session a listener has open: the listener's next load of
    the audio says so in plain words (it was a silent media error)."""
    page = phone.new_page()
    page.goto(one_session.link("listener", f"/sessions/{one_session.stem}"))
    page.wait_for_function("() => isFinite(document.getElementById('player').duration)")
    teacher = {"Cookie": f"kindvoice_token={one_session.state.token}"}
    request = urllib.request.Request(
        f"{one_session.base}/sessions/{one_session.stem}/delete",
        urllib.parse.urlencode({"token": one_session.state.token}).encode(),
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
