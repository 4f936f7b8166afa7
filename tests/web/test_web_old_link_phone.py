"""A listener's phone after the teacher made new links (``--new-token``), in a real
headless Chromium at 390x844 (issue 23 §7): a session kept offline still plays while the
server refuses the old link, and a page the old link cannot open is styled, says one
useful thing and offers no link that would be refused again. The practice history (kept
on the phone only) opens without a link.

One short session (the one-minute break, espeak) is rendered for the module."""

from __future__ import annotations

from typing import Any

from conftest import OneSession
from kv_testing import BROWSER_TESTS

pytestmark = BROWSER_TESTS


def test_a_kept_session_plays_after_the_teacher_made_new_links(
    phone: Any, one_session: OneSession
) -> None:
    page = phone.new_page()
    page.goto(
        f"{one_session.base}/sessions/{one_session.stem}?token={one_session.state.listener_token}"
    )
    page.wait_for_selector("html[data-sw=controlled]")
    page.get_by_role("button", name="Keep offline").click()
    page.get_by_text("Kept on this phone: it plays without a connection.").wait_for()
    title = page.locator("h1").inner_text()

    one_session.new_links()
    assert (
        page.request.get(f"{one_session.base}/sessions/{one_session.stem}").status == 403
    )  # refused
    page.reload()
    assert page.locator("h1").inner_text() == title  # the kept copy, online
    page.evaluate("document.getElementById('player').play()")
    page.wait_for_function(
        "() => { const a = document.getElementById('player');"
        " return !a.paused && a.readyState >= 3 && a.currentTime > 0.5; }"
    )


def test_the_old_link_page_is_styled_with_one_useful_line_and_no_dead_links(
    phone: Any, one_session: OneSession
) -> None:
    page = phone.new_page()
    answer = page.goto(f"{one_session.base}/sessions?token=an-old-link-from-last-week")
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
    history = page.goto(f"{one_session.base}/history")
    assert history is not None and history.status == 200
    page.get_by_text("Nothing here yet").wait_for()
    assert page.locator("nav").count() == 0
