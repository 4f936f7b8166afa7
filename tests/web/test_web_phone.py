"""The listener's side on a phone, in a real headless Chromium (Playwright): the web app
manifest and its icons, the service worker (it controls the page; a kept session plays
after an offline reload), Media Session metadata and lock-screen controls, tapping a
transcript line, resume, the 390x844 viewport (no sideways scroll, 44 px touch targets, a
player that stays in view), and the private practice history with its Markdown download.

One short session (the one-minute break, espeak through pyttsx3) is rendered once for the
module. Run ``bash scripts/install_browser.sh`` once to install Chromium."""

from __future__ import annotations

import io
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from kindvoice.web import create_app, start_server

from kv_testing import BROWSER_TESTS, CHROMIUM, LAUNCH_ARGS, PHONE, playing

TITLE = "The One-Minute Self-Compassion Break"

pytestmark = BROWSER_TESTS


class Reply:
    def __init__(self, status: int, headers: Any, body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


class Phone:
    """A server with one rendered session (``stem``); ``request`` returns every status."""

    def __init__(self, base: str, library: Path, token: str) -> None:
        self.base = base.rstrip("/")
        self.library = library
        self.token = token
        self.stem = ""

    @property
    def player(self) -> str:
        return f"{self.base}/sessions/{self.stem}"

    @property
    def meta(self) -> dict[str, Any]:
        meta: dict[str, Any] = json.loads((self.library / f"{self.stem}.session.json").read_text())
        return meta

    def request(self, path: str, fields: dict[str, str] | None = None) -> Reply:
        data = urllib.parse.urlencode({"token": self.token, **fields}).encode() if fields else None
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            with opener.open(self.base + path, data, timeout=300) as response:
                return Reply(response.status, response.headers, response.read())
        except urllib.error.HTTPError as exc:
            return Reply(exc.code, exc.headers, exc.read())


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@pytest.fixture(scope="module")
def phone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Phone]:
    app = create_app(tmp_path_factory.mktemp("phone") / "library")
    running = start_server(app, "127.0.0.1", 0)
    state = app.extensions["kindvoice"]
    try:
        phone = Phone(running.url, state.library.root, state.token)
        fields = {"practice": "one-minute-break", "minutes": "1", "engine": "pyttsx3"}
        fields |= {"voice": "en-us", "rate": "1", "format": "mp3"}
        queued = phone.request("/build", fields)
        assert queued.status == 303, queued.body
        job = f"/api/jobs/{queued.headers['Location'].rsplit('/', 1)[1]}"
        while (done := phone.request(job).json())["status"] not in ("done", "failed"):
            time.sleep(0.2)
        assert done["status"] == "done", done["message"]
        phone.stem = done["result"]
        yield phone
    finally:
        running.stop()
        state.jobs.shutdown()


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    """A fresh phone: its own storage, caches and service workers."""
    context = browser.new_context(**PHONE, accept_downloads=True)
    yield context
    context.close()


def _audio(page: Any, expression: str) -> Any:
    return page.evaluate(
        f"(() => {{ const a = document.getElementById('player'); return {expression}; }})()"
    )


def test_manifest_and_icons_make_it_installable(phone: Phone) -> None:
    reply = phone.request("/manifest.webmanifest")
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "application/manifest+json"
    manifest = reply.json()
    assert manifest["name"].startswith("kindvoice") and manifest["short_name"] == "kindvoice"
    assert manifest["display"] == "standalone"
    assert manifest["start_url"] == "/sessions" and manifest["scope"] == "/"
    sizes = {}
    for icon in manifest["icons"]:
        got = phone.request(icon["src"])
        assert got.status == 200 and got.headers["Content-Type"] == "image/png", icon
        image = Image.open(io.BytesIO(got.body))
        assert f"{image.width}x{image.height}" == icon["sizes"], icon
        sizes.setdefault(icon["purpose"], set()).add(image.width)
    assert sizes == {"any": {192, 512}, "maskable": {512}}

    worker = phone.request("/sw.js")
    assert worker.status == 200 and "javascript" in worker.headers["Content-Type"]
    assert worker.headers["Service-Worker-Allowed"] == "/"
    page = phone.request(f"/sessions/{phone.stem}").text
    assert '<link rel="manifest" href="/manifest.webmanifest"' in page


def test_chromium_finds_it_installable_behind_the_token(playwright: Any, tmp_path: Path) -> None:
    # a normal (not incognito) profile, where Chromium checks the install criteria; the
    # server asks for its token, so the manifest and icons must come with the cookie
    app = create_app(tmp_path / "library", require_token=True)
    running = start_server(app, "127.0.0.1", 0)
    state = app.extensions["kindvoice"]
    context = playwright.chromium.launch_persistent_context(
        tmp_path / "profile", executable_path=CHROMIUM, args=LAUNCH_ARGS
    )
    try:
        page = context.new_page()
        page.goto(f"{running.url}sessions?token={state.token}")
        page.wait_for_selector("html[data-sw=controlled]")
        cdp = context.new_cdp_session(page)
        assert cdp.send("Page.getInstallabilityErrors") == {"installabilityErrors": []}
        manifest = cdp.send("Page.getAppManifest")
        assert manifest["errors"] == [] and '"display": "standalone"' in manifest["data"]
    finally:
        context.close()
        running.stop()
        state.jobs.shutdown()


def test_kept_session_plays_after_an_offline_reload(context: Any, phone: Phone) -> None:
    page = context.new_page()
    page.goto(phone.player)
    page.wait_for_selector("html[data-sw=controlled]")
    assert page.evaluate("navigator.serviceWorker.controller.scriptURL").endswith("/sw.js")
    page.get_by_role("button", name="Keep offline").click()
    page.get_by_text("Kept on this phone: it plays without a connection.").wait_for()

    context.set_offline(True)
    try:
        page.reload()
        assert page.locator("h1").inner_text() == TITLE
        # a chapter seeks (a byte range from the kept copy) and plays
        naming = next(c for c in phone.meta["chapters"] if c["title"] == "Naming it")
        page.get_by_role("button", name="Naming it").click()
        playing(page, naming["start"] + 0.3)
        assert _audio(page, "a.duration") == pytest.approx(60.0, abs=0.1)
        # offline is real: a page that was not kept cannot load, and says what is kept
        page.goto(phone.base + "/timer")
        assert page.locator("h1").inner_text() == "You are offline"
        assert page.get_by_role("link", name=TITLE).get_attribute("href").endswith(phone.stem)
        # the start page and the history open offline too (kept when the worker installs)
        page.goto(phone.base + "/sessions")
        assert page.get_by_role("heading", name=TITLE).is_visible()
        page.locator(".card .kept-mark").get_by_text("Kept offline").wait_for()
        page.goto(phone.base + "/history")
        page.get_by_text("Nothing here yet").wait_for()
    finally:
        context.set_offline(False)

    page.goto(phone.player)
    page.get_by_role("button", name="Remove the offline copy").click()
    page.get_by_role("button", name="Keep offline").wait_for()
    kept = page.evaluate("caches.open('kindvoice-kept-v1').then(c => c.keys()).then(k => k.length)")
    assert kept == 0


def test_media_session_metadata_and_lock_screen_controls(context: Any, phone: Phone) -> None:
    context.add_init_script(
        """window.mediaHandlers = {};
        const session = navigator.mediaSession, set = session.setActionHandler.bind(session);
        session.setActionHandler = (a, h) => { window.mediaHandlers[a] = h; set(a, h); };"""
    )
    page = context.new_page()
    page.goto(phone.player)
    metadata = (
        "(() => { const m = navigator.mediaSession.metadata;"
        " return {title: m.title, artist: m.artist, art: m.artwork.map(a => a.src)}; })()"
    )
    shown = page.evaluate(metadata)
    cover = phone.library / f"{phone.stem}.jpg"
    art = f"/files/{cover.name}" if cover.is_file() else "/static/icons/icon-512.png"
    assert shown == {"title": TITLE, "artist": "kindvoice", "art": [phone.base + art]}
    assert phone.request(art).status == 200
    handlers = page.evaluate(
        "Object.keys(window.mediaHandlers).filter(k => window.mediaHandlers[k])"
    )
    assert {"seekbackward", "seekforward", "previoustrack", "nexttrack"} <= set(handlers)

    chapters = phone.meta["chapters"]
    page.get_by_role("button", name=chapters[0]["title"]).click()
    playing(page)
    page.evaluate("window.mediaHandlers.nexttrack({action: 'nexttrack'})")
    # functions, not expressions: an expression is polled with eval, which the CSP refuses
    page.wait_for_function(
        f"() => document.getElementById('player').currentTime >= {chapters[1]['start']}"
    )
    page.wait_for_function(
        f"() => navigator.mediaSession.metadata.title === {json.dumps(chapters[1]['title'])}"
    )
    # the chapter as the title, the session as the artist
    assert page.evaluate("navigator.mediaSession.metadata.artist") == TITLE
    # paused from here, so the positions are exact (no playing time in between)
    _audio(page, f"(a.pause(), a.currentTime = {chapters[1]['start'] + 1}, 0)")
    handler = "window.mediaHandlers.{}({{action: '{}', ...{}}})"
    page.evaluate(handler.format("seekforward", "seekforward", "{}"))
    assert _audio(page, "a.currentTime") == pytest.approx(chapters[1]["start"] + 16, abs=0.05)
    page.evaluate(handler.format("seekbackward", "seekbackward", "{seekOffset: 5}"))
    assert _audio(page, "a.currentTime") == pytest.approx(chapters[1]["start"] + 11, abs=0.05)
    # previous: to the start of the chapter, then (within 3 s of it) to the one before
    _audio(page, f"(a.currentTime = {chapters[2]['start'] + 5}, 0)")
    page.evaluate(handler.format("previoustrack", "previoustrack", "{}"))
    assert _audio(page, "a.currentTime") == pytest.approx(chapters[2]["start"], abs=0.05)
    page.evaluate(handler.format("previoustrack", "previoustrack", "{}"))
    assert _audio(page, "a.currentTime") == pytest.approx(chapters[1]["start"], abs=0.05)
    page.wait_for_function(
        f"() => navigator.mediaSession.metadata.title === {json.dumps(chapters[1]['title'])}"
    )


def test_tap_a_transcript_line_seeks_and_resume_where_you_left_off(
    context: Any, phone: Phone
) -> None:
    page = context.new_page()
    page.goto(phone.player)
    cue = phone.meta["cues"][3]
    line = page.locator(f".transcript li[data-start='{cue['start']}']")
    assert cue["text"] in line.inner_text()
    line.tap(position={"x": 200, "y": 10})  # on the words, not on the time
    playing(page, cue["start"])
    assert _audio(page, "a.currentTime") < cue["start"] + 6  # from the line, not further
    page.wait_for_selector(".transcript li.now")
    _audio(page, "(a.currentTime = 33.0, a.pause(), 0)")
    page.wait_for_function("() => document.getElementById('player').paused")

    page.reload()
    page.wait_for_function("() => document.getElementById('player').currentTime > 0")
    assert _audio(page, "a.currentTime") == pytest.approx(33.0, abs=0.5)
    assert "at 0:33" in page.locator("[data-resume]").inner_text()
    page.get_by_role("button", name="Start from the beginning").click()
    assert _audio(page, "a.currentTime") == 0
    page.reload()
    assert page.locator("[data-resume]").is_hidden()


def _small_targets(page: Any) -> list[str]:
    """Visible controls under 44x44 px (for a box, the larger of it and its label; links
    inside running text are exempt, as WCAG 2.5.5 allows)."""
    result: list[str] = page.evaluate(
        """() => [...document.querySelectorAll(
              'a[href], button, input:not([type=hidden]), select, summary')]
          .filter(el => el.getClientRects().length && !el.matches('.skip')
                        && !el.closest('p:not(.langs)'))
          .map(el => {
            const boxes = [el, ...(el.labels || [])].map(e => e.getBoundingClientRect());
            const w = Math.max(...boxes.map(b => b.width));
            const h = Math.max(...boxes.map(b => b.height));
            return {name: (el.getAttribute('aria-label') || el.textContent || el.id).trim(), w, h};
          })
          .filter(t => t.w < 44 || t.h < 44)
          .map(t => `${t.name} ${Math.round(t.w)}x${Math.round(t.h)}`)"""
    )
    return result


def test_phone_viewport_fits_with_touch_targets_and_a_sticky_player(
    context: Any, phone: Phone
) -> None:
    page = context.new_page()
    for path in ("/sessions", f"/sessions/{phone.stem}", "/history", "/"):
        page.goto(phone.base + path)
        fits = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert fits, f"{path} scrolls sideways at 390 px"
        assert _small_targets(page) == [], path
    page.goto(phone.player)
    page.mouse.wheel(0, 5000)
    page.wait_for_function("() => window.scrollY > 300")
    top = page.locator("#player").evaluate("a => a.getBoundingClientRect().top")
    assert 0 <= top < 100  # the player stays in view at the top


def test_finished_session_goes_to_the_history_and_its_markdown(
    context: Any, phone: Phone, tmp_path: Path
) -> None:
    sent: list[str] = []
    note = "Breathing out slowly helped."
    page = context.new_page()
    page.on("request", lambda r: sent.append(f"{r.url} {r.post_data or ''}"))
    page.goto(phone.base + "/history")
    assert "Nothing here yet" in page.locator("[data-history]").inner_text()
    page.goto(phone.player)
    page.wait_for_function("() => isFinite(document.getElementById('player').duration)")
    # the whole session played (fast: 16 times its speed)
    _audio(page, "(a.playbackRate = 16, a.play(), 0)")
    finished = page.get_by_role("region", name="You listened to the end")
    finished.wait_for()
    page.get_by_label("A note for yourself (optional)").fill(note)
    page.get_by_role("button", name="Keep this note").click()
    assert page.get_by_text("Kept, on this phone only.").is_visible()

    page.goto(phone.base + "/history")
    history = page.locator("[data-history]")
    assert "One session noted since" in history.inner_text()
    today = page.evaluate(
        "(d => [d.getFullYear(), d.getMonth() + 1, d.getDate()]"
        ".map(n => String(n).padStart(2, '0')).join('-'))(new Date())"
    )
    assert page.locator(f"td.practised[data-day='{today}']").count() == 1
    assert f"{TITLE} (1:00)" in history.locator(".entries").inner_text()
    assert note in history.locator(".note").inner_text()
    with page.expect_download() as info:
        page.get_by_role("button", name="Download as Markdown").click()
    saved = tmp_path / info.value.suggested_filename
    info.value.save_as(saved)
    text = saved.read_text("utf-8")
    assert saved.name == "kindvoice-practice-history.md"
    assert text.startswith("# My practice history\n")
    assert f" · {TITLE} (1:00)\n  - {note}\n" in text
    assert not [s for s in sent if "Breathing" in s]  # the note never left the phone


def test_seeking_to_the_end_is_not_a_practice_finished(context: Any, phone: Phone) -> None:
    page = context.new_page()
    page.goto(phone.player)
    page.wait_for_function("() => isFinite(document.getElementById('player').duration)")
    _audio(page, "(a.currentTime = a.duration * 0.95, a.play(), 0)")  # scrubbed, then played
    page.wait_for_function("() => document.getElementById('player').ended", timeout=30_000)
    page.wait_for_timeout(500)
    assert page.locator("[data-finished]").is_hidden()
    assert page.evaluate("localStorage.getItem('kindvoice:history:v1')") in (None, "[]")


def test_course_index_page_fits_a_phone_with_its_style_allowed(context: Any, phone: Phone) -> None:
    from kindvoice.publish.course import CoursePlan, Session
    from kindvoice.publish.course_pages import index_html

    plan = CoursePlan(
        title="Two weeks of kindness",
        practices=("self-compassion-break",),
        count=2,
        start_minutes=10,
        end_minutes=10,
        teacher="A teacher",
        description="Ten minutes a day, at your own pace.",
    )
    summary = "The three steps of the self-compassion break, with time to feel each one."
    sessions = [
        Session(
            n,
            "self-compassion-break",
            10,
            f"Day {n}: The Self-Compassion Break",
            summary,
            f"{n:02d}-self-compassion-break.mp3",
        )
        for n in (1, 2)
    ]
    body = index_html(plan, sessions, "https://example.org/two-weeks/feed.xml")
    # served as the web app serves a course's files: under its Content-Security-Policy
    policy = phone.request("/").headers["Content-Security-Policy"]
    url = f"{phone.base}/courses/two-weeks/index.html"
    page = context.new_page()
    page.route(
        url,
        lambda route: route.fulfill(
            status=200,
            content_type="text/html",
            body=body,
            headers={"Content-Security-Policy": policy},
        ),
    )
    page.goto(url)
    styled = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert styled == "rgb(246, 244, 239)"  # the inline style applies under the policy
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.locator("audio").count() == 2
    assert _small_targets(page) == []
