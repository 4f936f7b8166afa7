"""Offline on a real address (issue 23 §3), in a real headless Chromium on a phone
(390x844, touch):

- over plain http on a LAN name (not a secure context) the player says in one line that
  this address keeps no offline copy, and offers the download, which lands in the
  phone's files (Content-Disposition: attachment); the teacher's "Open on a phone" panel
  says it too;
- ``kindvoice site OUT/`` writes a static copy of the listener's side (no token, no
  teacher page, a feed whose files are all there); served over https from a folder of
  the host (Python's http.server in TLS, a certificate from ``trustme`` that Chromium
  trusts by its SPKI hash), the copy is installable, a session is kept offline, and after
  the server is stopped the page reloads and its audio plays from the phone;
- a copy of one course (``--course``) keeps the whole course offline in one tap, and a
  day then opens in the player and plays with the host gone.

The session is the conftest's ``one_session`` (the one-minute break, espeak), rendered
once for the module. Run ``bash scripts/install_browser.sh`` once to install Chromium."""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import http.server
import json
import ssl
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kindvoice.web.app import COOKIE

from kv_testing import BROWSER_TESTS, CHROMIUM, LAUNCH_ARGS, PHONE, kindvoice, playing

TITLE = "The One-Minute Self-Compassion Break"
#: a name on the "LAN" (mapped to the loopback in Chromium): not a secure context
LAN_NAME = "kindvoice-lan.test"

pytestmark = BROWSER_TESTS


@dataclass
class Served:
    """The conftest's server with one session (tokens required), as these tests use it."""

    library: Path
    port: int
    teacher: str
    listener: str
    stem: str

    def lan(self, path: str) -> str:
        return f"http://{LAN_NAME}:{self.port}{path}"


@pytest.fixture(scope="module")
def served(one_session: Any) -> Served:
    state = one_session.state
    port = int(one_session.base.rsplit(":", 1)[1])
    return Served(state.library.root, port, state.token, state.listener_token, one_session.stem)


def test_plain_http_says_offline_needs_https_and_offers_the_download(
    playwright: Any, served: Served
) -> None:
    rules = f"--host-resolver-rules=MAP {LAN_NAME} 127.0.0.1"
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[*LAUNCH_ARGS, rules])
    try:
        context = browser.new_context(**PHONE, accept_downloads=True)
        context.set_default_timeout(60_000)  # a machine under load (each wait ends early)
        page = context.new_page()
        page.goto(served.lan(f"/sessions/{served.stem}?token={served.listener}"))
        assert page.locator("h1").inner_text() == TITLE
        assert page.evaluate("window.isSecureContext") is False
        # no "Keep offline" here, and the page says why, in one line, with the download
        assert page.locator("[data-keep-box]").is_hidden()
        line = page.locator("[data-needs-https]")
        assert line.is_visible()
        assert "not secure (http)" in line.inner_text()
        assert "offline copy" in line.inner_text()
        with page.expect_download() as download:
            line.get_by_role("link", name="download the audio").click()
        audio = served.library / f"{served.stem}.mp3"
        assert download.value.suggested_filename == audio.name
        assert Path(download.value.path()).read_bytes() == audio.read_bytes()
        # saved, not opened: the download is an attachment
        href = line.get_by_role("link").get_attribute("href")
        asked = urllib.request.Request(
            f"http://127.0.0.1:{served.port}{href}",
            headers={"Host": f"{LAN_NAME}:{served.port}", "Cookie": f"{COOKIE}={served.listener}"},
        )
        with urllib.request.urlopen(asked, timeout=60) as reply:
            disposition = reply.headers["Content-Disposition"]
        assert disposition == f"attachment; filename={audio.name}"

        # the teacher's "Open on a phone" panel says it where the links are
        teacher = context.new_page()
        teacher.goto(served.lan(f"/sessions?token={served.teacher}"))
        teacher.get_by_text("Open on a phone").click()
        note = teacher.locator("[data-http-note]")
        assert note.is_visible()
        assert "cannot keep them offline" in note.inner_text()
        assert "kindvoice site" in note.inner_text()
    finally:
        browser.close()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def _https(folder: Path, context: ssl.SSLContext) -> Iterator[http.server.ThreadingHTTPServer]:
    """Python's static file server on 127.0.0.1 (any free port), in TLS."""
    handler = functools.partial(_Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class _Tls:
    """A certificate for 127.0.0.1: the server's TLS context, and the Chromium flag that
    trusts it (by its public key's hash)."""

    context: ssl.SSLContext
    spki: str


def _tls() -> _Tls:
    import trustme

    authority = trustme.CA()
    certificate = authority.issue_cert("127.0.0.1")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate.configure_cert(context)
    spki_hash = _spki_hash(certificate.cert_chain_pems[0].bytes())
    return _Tls(context, f"--ignore-certificate-errors-spki-list={spki_hash}")


def _https_phone(playwright: Any, profile: Path, tls: _Tls) -> Any:
    """A phone's Chromium with a profile of its own (where Chromium checks that the app
    installs) that trusts ``tls``'s certificate."""
    context = playwright.chromium.launch_persistent_context(
        profile, executable_path=CHROMIUM, args=[*LAUNCH_ARGS, tls.spki], **PHONE
    )
    context.set_default_timeout(60_000)  # a machine under load (each wait ends early)
    return context


def _stop(server: http.server.ThreadingHTTPServer, base: str) -> None:
    """Stop the host, and check that it is really gone."""
    server.shutdown()
    server.server_close()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(base, timeout=5, context=ssl._create_unverified_context())


def _spki_hash(pem: bytes) -> str:
    """The certificate's public key hash, as --ignore-certificate-errors-spki-list takes it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    key = x509.load_pem_x509_certificate(pem).public_key()
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(hashlib.sha256(der).digest()).decode("ascii")


def test_static_copy_over_https_installs_and_plays_offline(
    playwright: Any, served: Served, tmp_path: Path
) -> None:
    tls = _tls()
    # in a folder of the host, as on GitHub Pages (https://you.github.io/kindness/)
    public = tmp_path / "public"
    out = public / "kindness"
    out.mkdir(parents=True)
    with _https(public, tls.context) as server:
        base = f"https://127.0.0.1:{server.server_address[1]}/kindness/"
        made = kindvoice("site", str(out), "--library", str(served.library), "--base-url", base)
        assert made.code == 0, made.stderr
        assert f"Podcast feed, once uploaded: {base}files/feed.xml" in made.stdout
        _check_copy(out, served, base)

        context = _https_phone(playwright, tmp_path / "profile", tls)
        try:
            page = context.new_page()
            page.goto(base)
            assert page.evaluate("window.isSecureContext") is True
            page.get_by_role("link", name=f"Listen to {TITLE}").click()
            page.wait_for_selector("html[data-sw=controlled]")
            assert page.locator("h1").inner_text() == TITLE
            assert page.evaluate("navigator.serviceWorker.controller.scriptURL") == base + "sw.js"
            # installable from the copy (a normal profile, where Chromium checks)
            cdp = context.new_cdp_session(page)
            assert cdp.send("Page.getInstallabilityErrors") == {"installabilityErrors": []}
            manifest = cdp.send("Page.getAppManifest")
            assert manifest["errors"] == [] and manifest["url"] == base + "manifest.webmanifest"
            assert page.locator("[data-needs-https]").is_hidden()
            page.get_by_role("button", name="Keep offline").click()
            page.get_by_text("Kept on this phone: it plays without a connection.").wait_for()
            player = page.url
            _stop(server, base)

            page.reload()
            assert page.locator("h1").inner_text() == TITLE
            page.get_by_role("button", name="Naming it").click()
            naming = _chapter(served, "Naming it")
            playing(page, naming + 0.5)
            assert page.evaluate("document.getElementById('player').duration") == pytest.approx(
                60.0, abs=0.1
            )
            # the copy's start page opens offline too, and marks what is kept
            page.goto(base)
            page.locator(".card .kept-mark").get_by_text("Kept offline").wait_for()
            page.goto(player)
            assert page.locator("h1").inner_text() == TITLE
        finally:
            context.close()


def _chapter(served: Served, title: str) -> float:
    meta = json.loads((served.library / f"{served.stem}.session.json").read_text())
    return float(next(c["start"] for c in meta["chapters"] if c["title"] == title))


def _check_copy(out: Path, served: Served, base: str) -> None:
    """What the copy holds: the listener's pages and files, never a token or a form."""
    import feedparser

    files = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    stem = served.stem
    for name in (
        "index.html",
        f"sessions/{stem}/index.html",
        f"sessions/{stem}/transcript.txt",
        "history/index.html",
        f"files/{stem}.mp3",
        f"files/{stem}.vtt",
        f"files/{stem}.chapters.json",
        f"files/{stem}.jpg",
        "sw.js",
        "manifest.webmanifest",
        "static/style.css",
        "static/pwa.js",
        "files/feed.xml",
    ):
        assert name in files, name
    assert (out / f"files/{stem}.mp3").read_bytes() == (served.library / f"{stem}.mp3").read_bytes()
    assert not any(
        n.startswith(("build", "write", "timer", "templates", "api", "jobs")) for n in files
    )
    assert not any(n.endswith((".sqlite3", "tokens.json", ".session.json")) for n in files)
    for name in files:
        data = (out / name).read_bytes()
        assert served.teacher.encode() not in data and served.listener.encode() not in data, name
    page = (out / f"sessions/{stem}/index.html").read_text()
    assert 'method="post"' not in page and 'href="/' not in page and 'src="/' not in page
    assert "Delete this session" not in page
    assert 'data-worker="../../sw.js"' in page
    home = (out / "index.html").read_text()
    assert "Practices" not in home and "Your templates" not in home  # the copy's menu only
    assert "on this computer" not in home  # a phone reads it from a web host
    # no language switch: it needs the server (its /language route and cookie)
    assert 'id="page-language"' not in home and "page-language" not in page
    feed = feedparser.parse((out / "files/feed.xml").read_bytes())
    assert not feed.bozo and [e.title for e in feed.entries] == [TITLE]
    for link in [e.href for e in feed.entries[0].enclosures] + [feed.feed.image.href]:
        assert link.startswith(base + "files/") and link[len(base) :] in files, link


def test_static_copy_of_one_course_keeps_its_days_offline(
    playwright: Any, served: Served, tmp_path: Path
) -> None:
    """``--course``: the course's page is the copy's start page, each day opens the
    session player, its files and its feed are in the course's folder; served over https,
    the whole course is kept offline in one tap and a day plays with the host gone. An
    unknown course names the ones there are."""
    import feedparser

    slug = "three-days-20260101-120000-ab12"
    library = tmp_path / "library"
    course = library / "courses" / slug
    course.mkdir(parents=True)
    playlist = ["#EXTM3U"]
    for number in (1, 2):
        name = f"0{number}-one-minute-break"
        for suffix in (".mp3", ".vtt", ".chapters.json", ".jpg"):
            source = served.library / f"{served.stem}{suffix}"
            (course / f"{name}{suffix}").write_bytes(source.read_bytes())
        playlist += [f"#EXTINF:60,Ana - Day {number}: {TITLE}", f"{name}.mp3"]
    (course / "playlist.m3u").write_text("\n".join(playlist) + "\n")
    (course / "index.md").write_text("# Three Days of Kindness\n\nA course.\n")
    tls = _tls()
    public = tmp_path / "public"
    out = public / "class"
    with _https(public, tls.context) as server:
        base = f"https://127.0.0.1:{server.server_address[1]}/class/"
        made = kindvoice(
            "site", str(out), "--library", str(library), "--course", slug, "--base-url", base
        )
        assert made.code == 0, made.stderr
        home = (out / "index.html").read_text()
        assert f'href="courses/{slug}/days/1/"' in home and "Keep the whole course offline" in home
        assert "Your sessions" not in home  # the course's copy holds no session list
        assert not (out / "sessions").exists()
        day = (out / f"courses/{slug}/days/2/index.html").read_text()
        assert 'src="../../02-one-minute-break.mp3"' in day and 'href="/' not in day
        assert (out / f"courses/{slug}/days/2/transcript.txt").is_file()
        assert (out / f"courses/{slug}/01-one-minute-break.mp3").read_bytes() == (
            course / "01-one-minute-break.mp3"
        ).read_bytes()
        feed = feedparser.parse((out / f"courses/{slug}/feed.xml").read_bytes())
        assert not feed.bozo and feed.feed.title == "Three Days of Kindness"
        for link in [feed.entries[0].enclosures[0].href, feed.feed.image.href]:
            assert link.startswith(f"{base}courses/{slug}/") and (out / link[len(base) :]).is_file()

        context = _https_phone(playwright, tmp_path / "profile", tls)
        try:
            page = context.new_page()
            page.goto(base)
            page.wait_for_selector("html[data-sw=controlled]")
            page.get_by_role("button", name="Keep the whole course offline").click()
            page.get_by_text("Kept on this phone: every day plays without a connection.").wait_for()
            _stop(server, base)

            page.reload()  # the course's page, from the phone
            assert page.locator("h1").inner_text() == "Three Days of Kindness"
            page.locator(".card .kept-mark").first.wait_for()
            page.get_by_role("link", name=f"Day 2: {TITLE}").click()
            page.wait_for_url(f"{base}courses/{slug}/days/2/")
            assert page.locator("h1").inner_text() == f"Day 2: {TITLE}"
            page.get_by_role("button", name="Remove the offline copy").wait_for()  # kept
            page.get_by_role("button", name="Naming it").click()
            playing(page, _chapter(served, "Naming it") + 0.5)
            page.goto(base + "history/nowhere/")  # never kept: the offline page lists what is
            assert page.locator("h1").inner_text() == "You are offline"
            assert page.get_by_role("link", name=f"Day 1: {TITLE}").is_visible()
        finally:
            context.close()

    wrong = kindvoice("site", str(tmp_path / "x"), "--library", str(library), "--course", "nope")
    assert wrong.code == 2 and f"Choose one of: {slug}." in wrong.stderr, wrong.stderr


def test_static_copy_replaces_its_own_folder_only(served: Served, tmp_path: Path) -> None:
    out = tmp_path / "copy"
    first = kindvoice("site", str(out), "--library", str(served.library))
    assert first.code == 0, first.stderr
    assert "No podcast feed: give --base-url" in first.stdout
    assert not (out / "files" / "feed.xml").exists()
    (out / "index.html").write_text("old")
    (out / "stale.html").write_text("from the old copy")
    (out / ".git").mkdir()  # a GitHub Pages repository: its hidden files stay
    (out / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    again = kindvoice("site", str(out), "--library", str(served.library))
    assert again.code == 0 and TITLE in (out / "index.html").read_text()
    assert not (out / "stale.html").exists()
    assert (out / ".git" / "HEAD").read_text() == "ref: refs/heads/main\n"
    fresh = tmp_path / "fresh"
    (fresh / ".git").mkdir(parents=True)  # a new, empty repository is fine too
    assert kindvoice("site", str(fresh), "--library", str(served.library)).code == 0
    assert (fresh / "index.html").is_file()
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "notes.txt").write_text("mine")
    refused = kindvoice("site", str(theirs), "--library", str(served.library))
    assert refused.code == 2 and "holds files kindvoice did not write" in refused.stderr
    assert [p.name for p in theirs.iterdir()] == ["notes.txt"]
