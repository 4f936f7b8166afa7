"""The listener's side as the class meets it (issue 23 §1 and §5, issue 24 class I):
previews shared and kept apart from the teacher's renders, and the podcast feed built for
each request from the library (its names, dates and languages), answering HEAD and an
empty library, writing nothing into the library.

Real servers and real concurrent requests; the feed tests use fake sessions (the feed
reads the library's records, not the audio)."""

from __future__ import annotations

import html
import json
import re
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import feedparser
from PIL import Image

from kindvoice.web import create_app

PODCAST = "{https://podcastindex.org/namespace/1.0}"


def _listener(site: Any) -> dict[str, str]:
    """A listener's request headers (the cookie of the listener's link, its token)."""
    key = site.state.listener_token
    return {"Cookie": f"kindvoice_token={key}", "X-Kindvoice-Token": key}


def test_a_class_tapping_previews_never_blocks_the_teacher(start_site) -> None:
    """Ten listeners tapping one preview share one job; a third practice's preview waits
    for a free place; the teacher's renders are accepted and go first."""
    site = start_site(workers=1, queue_limit=3, require_token=True)
    teacher = {"Cookie": f"kindvoice_token={site.token}", "X-Kindvoice-Token": site.token}
    release = threading.Event()
    hold = site.state.jobs.submit("session", "the teacher's render", lambda _: release.wait(60))
    try:
        while site.state.jobs.get(hold.id).status != "running":
            time.sleep(0.02)

        def tap(_: int) -> Any:
            return site.request("/api/previews/soothing-touch", b"", headers=_listener(site))

        with ThreadPoolExecutor(10) as pool:
            taps = list(pool.map(tap, range(10)))
        assert [t.status for t in taps] == [200] * 10, [t.text for t in taps]
        assert len({t.json()["job"] for t in taps}) == 1  # one job, whoever asked
        # the teacher's own tap of the same card joins it too
        again = site.request("/api/previews/soothing-touch", b"", headers=teacher).json()
        assert again["job"] == taps[0].json()["job"]

        second = site.request("/api/previews/one-minute-break", b"", headers=_listener(site))
        assert second.status == 200
        third = site.request("/api/previews/morning-intention", b"", headers=_listener(site))
        assert third.status == 429 and "previews" in third.json()["error"]

        # the teacher: two more renders accepted (the limit is 3 with the one running)
        fields = {"token": site.token, "practice": "one-minute-break", "minutes": "1"}
        fields |= {"engine": "pyttsx3", "voice": "en-us", "rate": "1", "format": "mp3"}
        builds = [
            site.request("/build", fields, headers={"Cookie": teacher["Cookie"]}) for _ in (1, 2)
        ]
        assert [b.status for b in builds] == [303, 303], [b.text for b in builds]
        ids = [b.headers["Location"].rsplit("/", 1)[1] for b in builds]
        states = [site.request(f"/api/jobs/{i}", headers=teacher).json() for i in ids]
        assert [s["ahead"] for s in states] == [0, 1]  # before the previews waiting
        preview = site.request(f"/api/jobs/{again['job']}", headers=teacher).json()
        assert preview["ahead"] == 2  # the previews wait behind the teacher's renders
    finally:
        site.state.jobs.shutdown()  # nothing waiting starts: only the held job ends
        release.set()


# --------------------------------------------------------------------------- the feed


def _session(library: Path, stem: str, title: str, created: float, language: str) -> None:
    """A session's files as a render leaves them: audio, transcript, the page's record."""
    library.mkdir(parents=True, exist_ok=True)
    (library / f"{stem}.mp3").write_bytes(_silent_mp3())
    (library / f"{stem}.vtt").write_text("WEBVTT\n\n00:00.000 --> 00:01.000\nHola.\n")
    meta = {
        "title": title,
        "audio": f"{stem}.mp3",
        "seconds": 1.0,
        "created": created,
        "language": language,
        "practice": stem.rsplit("-", 1)[0],
        "form": [("practice", "one-minute-break"), ("minutes", "1")],
    }
    (library / f"{stem}.session.json").write_text(json.dumps(meta), encoding="utf-8")


def _silent_mp3() -> bytes:
    """One second of silence as a real MP3 (LAME)."""
    import lameenc

    encoder = lameenc.Encoder()
    encoder.set_bit_rate(64)
    encoder.set_in_sample_rate(44_100)
    encoder.set_channels(1)
    return bytes(encoder.encode(bytes(2 * 44_100)) + encoder.flush())


def _urls(feed: str) -> list[str]:
    return re.findall(r'(?:url|href)="([^"]+)"', feed) + re.findall(r"<link>([^<]+)<", feed)


def test_concurrent_feed_fetches_each_get_their_own_answer(start_site, tmp_path: Path) -> None:
    """100 fetches at once by both links' tokens and two host names: every answer names
    its own host, none carries the teacher's token, and nothing is written to the library
    (issue 24 class I: one shared feed.xml handed listeners the teacher's link)."""
    site = start_site()
    library = site.library
    _session(library, "one-minute-break-1m00s-20260101-090000-aaaa", "Monday", 1.767e9, "en")
    site.state.library._import(site.state.db)  # as a restart would find it
    teacher, listener = site.token, site.state.listener_token
    port = site.base.rsplit(":", 1)[1]
    before = sorted(p.name for p in library.iterdir())

    def fetch(i: int) -> tuple[str, str, int, str]:
        key = teacher if i % 2 else listener
        host = "localhost" if i % 4 < 2 else "127.0.0.1"
        reply = site.request(f"/feed/{key}/feed.xml", headers={"Host": f"{host}:{port}"})
        return key, host, reply.status, reply.text

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(fetch, range(100)))
    for _, host, status, text in answers:
        assert status == 200, text[:300]
        assert teacher not in text  # whoever asked: the listener's token only
        urls = _urls(text)
        assert urls and all(u.startswith(f"http://{host}:{port}/feed/{listener}/") for u in urls)
    assert sorted(p.name for p in library.iterdir()) == before  # no feed.xml, no cover.jpg


def test_feed_answers_head_and_an_empty_library(tmp_path: Path) -> None:
    app = create_app(tmp_path / "library")
    key = app.extensions["kindvoice"].listener_token
    podcast = app.test_client()  # an app: no cookie
    empty = podcast.get(f"/feed/{key}/feed.xml")
    assert empty.status_code == 200 and empty.mimetype == "application/rss+xml"
    parsed = feedparser.parse(empty.data)
    assert parsed.bozo == 0 and parsed.feed.title and parsed.entries == []
    cover = podcast.get(f"/feed/{key}/cover.jpg")
    assert cover.status_code == 200 and cover.data[:2] == b"\xff\xd8"

    stem = "one-minute-break-1m00s-20260101-090000-aaaa"
    _session(tmp_path / "library", stem, "Monday", 1.767e9, "en")
    app = create_app(tmp_path / "library")
    podcast = app.test_client()
    for path in ("feed.xml", f"{stem}.mp3", f"{stem}.vtt", "cover.jpg"):
        get, head = podcast.get(f"/feed/{key}/{path}"), podcast.head(f"/feed/{key}/{path}")
        assert (head.status_code, head.mimetype) == (200, get.mimetype), path
        assert head.data == b"" and get.data, path
        assert int(head.headers["Content-Length"]) == len(get.data), path
    assert podcast.head("/feed/not-a-token-at-all/feed.xml").status_code == 403
    assert not (tmp_path / "library" / "feed.xml").exists()
    assert not (tmp_path / "library" / "cover.jpg").exists()


def test_feed_says_the_sessions_names_dates_and_languages(tmp_path: Path) -> None:
    library = tmp_path / "library"
    spanish = "self-compassion-break-es-3m00s-20260102-080000-bbbb"
    english = "one-minute-break-1m00s-20260101-090000-aaaa"
    # the Spanish session rendered first, its files named later in the alphabet
    _session(library, spanish, "La pausa", 1_767_000_000.0, "es")
    _session(library, english, "Monday", 1_767_300_000.0, "en")
    app = create_app(library)
    state = app.extensions["kindvoice"]
    teacher = app.test_client()
    renamed = teacher.post(
        f"/sessions/{english}/rename", data={"token": state.token, "title": "Class 1 – Tuesday"}
    )
    assert renamed.status_code == 303

    feed = teacher.get(f"/feed/{state.listener_token}/feed.xml")
    parsed = feedparser.parse(feed.data)
    assert parsed.bozo == 0
    by_title = {e.title: e for e in parsed.entries}
    assert set(by_title) == {"Class 1 – Tuesday", "La pausa"}  # the new name
    assert [e.title for e in parsed.entries] == ["Class 1 – Tuesday", "La pausa"]  # newest
    assert time.mktime(by_title["La pausa"].published_parsed) - time.timezone == 1_767_000_000
    assert time.mktime(by_title["Class 1 – Tuesday"].published_parsed) - time.timezone == (
        1_767_300_000
    )
    root = ET.fromstring(feed.data)
    lang = "{http://www.w3.org/XML/1998/namespace}lang"
    items = {i.findtext("title"): i for i in root.iter("item")}
    assert items["La pausa"].get(lang) == "es"
    assert items["Class 1 – Tuesday"].get(lang) == "en"
    [transcript] = items["La pausa"].findall(f"{PODCAST}transcript")
    assert transcript.get("language") == "es"

    # "render again" keeps the new name: the Build form opens with it
    listing = html.unescape(teacher.get("/sessions").text)
    again = re.search(
        r'href="(/build\?[^"]+)" data-again>[^<]*<span class="sr"> \(Class 1', listing
    )
    assert again, listing
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(again.group(1)).query)
    assert query["title"] == ["Class 1 – Tuesday"]
    page = teacher.get(again.group(1)).text
    assert 'value="Class 1 – Tuesday"' in html.unescape(page)


def test_a_feed_and_cover_of_the_users_own_are_never_replaced(tmp_path: Path) -> None:
    """``kindvoice feed`` writes feed.xml and cover.jpg only over files it wrote; the web
    page writes neither and serves the library's own cover.jpg as the feed's."""
    from kindvoice.errors import UsageError
    from kindvoice.publish.feed import write_feed

    folder = tmp_path / "talks"
    folder.mkdir()
    (folder / "talk.mp3").write_bytes(_silent_mp3())
    (folder / "feed.xml").write_text("<rss>my own feed</rss>\n")
    (folder / "cover.jpg").write_bytes(b"my own cover")
    base = "https://example.org/talks"
    try:
        write_feed(folder, base, "Talks")
        raise AssertionError("the user's feed.xml was replaced")
    except UsageError as exc:
        assert "feed.xml" in exc.format_message() and "--force" in exc.format_message()
    assert (folder / "feed.xml").read_text() == "<rss>my own feed</rss>\n"
    (folder / "feed.xml").unlink()
    write_feed(folder, base, "Talks")  # the user's cover stays the channel's
    assert (folder / "cover.jpg").read_bytes() == b"my own cover"
    other = tmp_path / "other.png"
    Image.new("RGB", (1400, 1400), (40, 90, 80)).save(other)
    try:
        write_feed(folder, base, "Talks", image=other)
        raise AssertionError("the user's cover.jpg was replaced")
    except UsageError as exc:
        assert "cover.jpg" in exc.format_message()
    assert (folder / "cover.jpg").read_bytes() == b"my own cover"
    write_feed(folder, base, "Talks")  # its own feed.xml is replaced on the next run
    assert feedparser.parse(str(folder / "feed.xml")).entries[0].title == "talk"

    library = tmp_path / "library"
    _session(library, "one-minute-break-1m00s-20260101-090000-aaaa", "Monday", 1.767e9, "en")
    (library / "cover.jpg").write_bytes(b"\xff\xd8 the teacher's picture")
    app = create_app(library)
    key = app.extensions["kindvoice"].listener_token
    client = app.test_client()
    assert client.get(f"/feed/{key}/feed.xml").status_code == 200
    assert client.get(f"/feed/{key}/cover.jpg").data == b"\xff\xd8 the teacher's picture"
    assert not (library / "feed.xml").exists()
