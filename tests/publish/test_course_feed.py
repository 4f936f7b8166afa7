"""A small real course (3 days, 3 to 5 minutes) rendered with one command into a folder of
tagged, numbered MP3s with sidecars, a playlist, index pages and a feed; the feed read by
feedparser and checked against the files; a re-run after adding a session keeps the
earlier episodes' guids and dates."""

from __future__ import annotations

import itertools
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import feedparser
import pytest
from mutagen.id3 import ID3

from kindvoice.publish.plan import course_lengths

from kv_testing import decode, kindvoice

BASE = "https://example.org/kind courses"  # a space, so URLs must be quoted
PLAN = """\
title: Three Days of Kindness & Care
teacher: Sam Rivera
days: 3
start_minutes: 3
end_minutes: 5
practices: [self-compassion-break, soothing-touch, morning-intention]
background: none
"""


def test_lengths_grow_gradually() -> None:
    assert course_lengths(3, 3, 5) == [3, 4, 5]
    lengths = course_lengths(21, 3, 15)
    assert lengths[0] == 3 and lengths[-1] == 15
    assert all(0 <= b - a <= 1 for a, b in itertools.pairwise(lengths))
    assert course_lengths(1, 7, 20) == [7]


def test_plan_errors_name_the_key(tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN.replace("start_minutes", "start_minuts"), encoding="utf-8")
    run = kindvoice("course", str(plan))
    assert run.code == 2
    assert "unknown key 'start_minuts'" in run.stderr and "start_minutes" in run.stderr


def seconds(duration: str) -> int:
    total = 0
    for part in duration.split(":"):
        total = total * 60 + int(part)
    return total


def check_feed(folder: Path) -> feedparser.FeedParserDict:
    feed = feedparser.parse(str(folder / "feed.xml"))
    assert feed.bozo == 0, feed.get("bozo_exception")
    for entry in feed.entries:
        (enclosure,) = entry.enclosures
        name = enclosure.href.rsplit("/", 1)[1].replace("%20", " ")
        audio = folder / name
        assert int(enclosure.length) == audio.stat().st_size
        assert enclosure.type == "audio/mpeg"
        decoded_s = len(decode(audio)) / 48_000
        assert seconds(entry.itunes_duration) == pytest.approx(decoded_s, abs=0.5)
        assert entry.guidislink is False
    assert len({e.id for e in feed.entries}) == len(feed.entries)
    return feed


@pytest.mark.slow
def test_course_renders_a_tagged_series_with_playlist_index_and_feed(tmp_path: Path) -> None:
    plan = tmp_path / "kindness.yaml"
    plan.write_text(PLAN, encoding="utf-8")
    run = kindvoice("course", str(plan), "--base-url", BASE)
    assert run.code == 0, run.stderr
    folder = tmp_path / "kindness"
    names = ["01-self-compassion-break", "02-soothing-touch", "03-morning-intention"]

    # numbered MP3s of growing length, tagged as one album, each with its sidecars
    for n, (name, minutes) in enumerate(zip(names, [3, 4, 5], strict=True), start=1):
        audio = folder / f"{name}.mp3"
        assert len(decode(audio)) == minutes * 60 * 48_000
        tags = ID3(audio)
        assert str(tags["TALB"]) == "Three Days of Kindness & Care"
        assert str(tags["TPE1"]) == "Sam Rivera"
        assert str(tags["TRCK"]) == f"{n}/3"
        assert str(tags["TIT2"]).startswith(f"Day {n}: ")
        assert len(tags.getall("APIC")) == 1 and len(tags.getall("CHAP")) >= 3
        for suffix in (".vtt", ".srt", ".lrc", ".chapters.json", ".jpg"):
            assert (folder / f"{name}{suffix}").is_file()

    playlist = (folder / "playlist.m3u").read_text(encoding="utf-8").splitlines()
    assert playlist[0] == "#EXTM3U"
    assert [line for line in playlist if not line.startswith("#")] == [f"{n}.mp3" for n in names]
    assert "#EXTINF:240,Sam Rivera - Day 2: " in "\n".join(playlist)
    index = (folder / "index.html").read_text(encoding="utf-8")
    assert "Three Days of Kindness &amp; Care" in index
    assert all(f"{n}.mp3" in index for n in names)
    assert "| 3 | Day 3: " in (folder / "index.md").read_text(encoding="utf-8")

    # the feed: clean, one episode per file, sidecars linked, category and image set
    feed = check_feed(folder)
    assert feed.feed.title == "Three Days of Kindness & Care"
    assert len(feed.entries) == 3
    assert feed.feed.image.href == "https://example.org/kind%20courses/cover.jpg"
    assert (folder / "cover.jpg").is_file()
    root = ET.parse(folder / "feed.xml").getroot()
    itunes = "{http://www.itunes.com/dtds/podcast-1.0.dtd}"
    podcast = "{https://podcastindex.org/namespace/1.0}"
    category = root.find(f"channel/{itunes}category")
    assert category is not None and category.get("text") == "Health & Fitness"
    for item in root.iter("item"):
        chapters = item.find(f"{podcast}chapters")
        transcript = item.find(f"{podcast}transcript")
        assert chapters is not None and transcript is not None
        assert chapters.get("type") == "application/json+chapters"
        assert transcript.get("type") == "text/vtt"
        for link in (chapters.get("url"), transcript.get("url")):
            assert link is not None and link.startswith("https://example.org/kind%20courses/")
            assert (folder / link.rsplit("/", 1)[1]).is_file()
    assert root.find(f"channel/{itunes}block") is None
    before = {e.id: e.published for e in feed.entries}

    # a second run renders nothing and changes no episode
    again = kindvoice("course", str(plan), "--base-url", BASE)
    assert again.code == 0, again.stderr
    assert "0 rendered, 3 skipped, 0 failed" in again.stdout
    assert {e.id: e.published for e in check_feed(folder).entries} == before

    # a session added by hand joins the feed; the earlier ones keep their guid and date
    time.sleep(1.1)  # so a new date could not equal an old one by chance
    extra = kindvoice(
        "build",
        "soothing-touch",
        "--minutes",
        "3",
        "--background",
        "none",
        "-o",
        str(folder / "extra session.mp3"),
    )
    assert extra.code == 0, extra.stderr
    republish = kindvoice(
        "feed", str(folder), "--base-url", BASE, "--title", "Kindness", "--private"
    )
    assert republish.code == 0, republish.stderr
    feed = check_feed(folder)
    assert len(feed.entries) == 4
    now = {e.id: e.published for e in feed.entries}
    assert {k: now[k] for k in before} == before
    (new_id,) = set(now) - set(before)
    newest = feed.entries[0]
    assert newest.id == new_id and newest.title == "Hand on Heart"
    assert "extra%20session.mp3" in newest.enclosures[0].href
    root = ET.parse(folder / "feed.xml").getroot()
    assert root.findtext(f"channel/{itunes}block") == "Yes"
    assert root.findtext(f"channel/{podcast}block") == "yes"
