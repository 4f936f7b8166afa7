"""Sidecars and cover art: cue splitting and formats in isolation, then a real render whose
VTT, SRT, LRC, chapters JSON and APIC are read back with real parsers and checked
against the timeline the pipeline lays out for the same request."""

from __future__ import annotations

import html
import io
import itertools
import json
import re
from pathlib import Path

import jsonschema
import pytest
import webvtt
from mutagen.id3 import ID3
from PIL import Image

from kindvoice.audio import SAMPLE_RATE
from kindvoice.errors import AudioIOError
from kindvoice.export.cover import generate_cover, load_cover
from kindvoice.export.sidecars import (
    MAX_LINE_CHARS,
    MAX_LINES,
    chapters_json,
    split_utterance,
    timeline_cues,
    vtt_text,
)
from kindvoice.mix.timeline import Chapter, Event, Timeline
from kindvoice.pipeline import prepare
from kindvoice.settings import MixSettings, RenderRequest

from kv_testing import kindvoice

# Podcasting 2.0 JSON chapters, written from the spec
# (github.com/Podcastindex-org/podcast-namespace, chapters/jsonChapters.md)
CHAPTERS_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["version", "chapters"],
    "properties": {
        "version": {"type": "string", "pattern": r"^\d+\.\d+\.\d+$"},
        "author": {"type": "string"},
        "title": {"type": "string"},
        "podcastName": {"type": "string"},
        "description": {"type": "string"},
        "fileName": {"type": "string"},
        "waypoints": {"type": "boolean"},
        "chapters": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["startTime"],
                "additionalProperties": False,
                "properties": {
                    "startTime": {"type": "number", "minimum": 0},
                    "endTime": {"type": "number", "minimum": 0},
                    "title": {"type": "string"},
                    "img": {"type": "string"},
                    "url": {"type": "string"},
                    "toc": {"type": "boolean"},
                    "location": {
                        "type": "object",
                        "required": ["name", "geo"],
                        "properties": {"name": {"type": "string"}, "geo": {"type": "string"}},
                    },
                },
            },
        },
    },
}

LONG = (
    "Now bring to mind a situation in your life that is hard right now, something mild, "
    "not the hardest thing you carry, and let yourself feel it in the body for a moment, "
    "noticing where it sits, whether it is tight or heavy or restless, and simply allowing "
    "it to be here for now."
)


def to_samples(stamp: str) -> int:
    """hh:mm:ss.mmm (or hh:mm:ss,mmm) to samples."""
    h, m, s = stamp.replace(",", ".").split(":")
    ms = round((int(h) * 3600 + int(m) * 60 + float(s)) * 1000)
    return ms * SAMPLE_RATE // 1000


# --------------------------------------------------------------------------- units


def test_long_utterance_splits_into_short_cues_inside_its_span() -> None:
    start, end = 48_000, 48_000 * 15
    cues = split_utterance(LONG, start, end)
    assert len(cues) > 1
    assert cues[0].start == start and cues[-1].end == end
    for a, b in itertools.pairwise(cues):
        assert a.end == b.start  # contiguous, no overlap
    for cue in cues:
        assert 1 <= len(cue.lines) <= MAX_LINES
        assert all(len(line) <= MAX_LINE_CHARS for line in cue.lines)
    assert " ".join(c.text for c in cues) == LONG
    # time shared in proportion to characters
    shares = [(c.end - c.start) / (end - start) for c in cues]
    chars = [len(c.text) / len(LONG) for c in cues]
    assert shares == pytest.approx(chars, abs=0.02)


def test_preview_span_shifts_and_clips_cues() -> None:
    events = (
        Event(1000, 48_000, "speech", "First words.", text="First words."),
        Event(96_000, 96_000, "speech", "Second words.", text="Second words."),
        Event(300_000, 48_000, "speech", "Third words.", text="Third words."),
    )
    timeline = Timeline(400_000, events, (), (Chapter("One", 0, 400_000),))
    cues = timeline_cues(timeline, (120_000, 310_000))
    assert [c.text for c in cues] == ["Second words.", "Third words."]
    assert cues[0].start == 0 and cues[0].end == 192_000 - 120_000
    assert cues[1].start == 300_000 - 120_000 and cues[1].end == 310_000 - 120_000


def test_vtt_escapes_markup_and_parses() -> None:
    cues = split_utterance("Breathe <in> & out --> slowly.", 0, 48_000)
    text = vtt_text(cues)
    assert "&lt;in&gt; &amp; out --&gt;" in text
    parsed = webvtt.from_string(text)  # an unescaped "-->" would break the cue apart
    assert len(parsed.captions) == 1
    assert html.unescape(parsed.captions[0].text) == "Breathe <in> & out --> slowly."


def test_chapters_json_matches_the_schema() -> None:
    doc = json.loads(chapters_json([Chapter("Arriving", 0, 480_000)], "T"))
    jsonschema.validate(doc, CHAPTERS_SCHEMA)
    assert doc["chapters"] == [{"startTime": 0.0, "endTime": 10.0, "title": "Arriving"}]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"version": "1.2.0", "chapters": [{"title": "x"}]}, CHAPTERS_SCHEMA)


def test_generated_covers_are_small_square_jpegs_that_differ_per_practice() -> None:
    a = generate_cover("The Self-Compassion Break", "3 minutes", "self-compassion-break")
    b = generate_cover("The Self-Compassion Break", "3 minutes", "soothing-touch")
    assert a == generate_cover("The Self-Compassion Break", "3 minutes", "self-compassion-break")
    assert a != b
    for data in (a, b):
        image = Image.open(io.BytesIO(data))
        assert image.format == "JPEG" and image.size == (1400, 1400)
        assert len(data) < 500_000
    # the dominant colours differ, not just a few pixels
    mean_a = Image.open(io.BytesIO(a)).resize((1, 1)).getpixel((0, 0))
    mean_b = Image.open(io.BytesIO(b)).resize((1, 1)).getpixel((0, 0))
    assert mean_a != mean_b


def test_user_cover_is_cropped_square_and_bad_files_are_named(tmp_path: Path) -> None:
    wide = tmp_path / "wide.png"
    Image.new("RGB", (900, 500), (200, 120, 80)).save(wide)
    image = Image.open(io.BytesIO(load_cover(wide)))
    assert image.format == "JPEG" and image.size == (1400, 1400)
    text = tmp_path / "notes.jpg"
    text.write_text("not a picture")
    with pytest.raises(AudioIOError, match=r"notes\.jpg"):
        load_cover(text)
    with pytest.raises(AudioIOError, match=r"missing\.png"):
        load_cover(tmp_path / "missing.png")


# --------------------------------------------------------------------------- a real render


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sidecars") / "scb.mp3"
    run = kindvoice(
        "build", "self-compassion-break", "--minutes", "3", "--background", "none", "-o", str(out)
    )
    assert run.code == 0, run.stderr
    return out


@pytest.fixture(scope="module")
def timeline(rendered: Path) -> Timeline:
    """The same request laid out again in this process (the phrase cache is warm)."""
    request = RenderRequest(
        "self-compassion-break", Path("x.mp3"), 180_000, mix=MixSettings(background="none")
    )
    return prepare(request).timeline


@pytest.mark.slow
def test_render_writes_every_sidecar(rendered: Path) -> None:
    names = sorted(p.name for p in rendered.parent.iterdir())
    assert names == [
        ".scb.mp3.kindvoice.json",  # the stamp: which files kindvoice wrote
        "scb.chapters.json",
        "scb.jpg",
        "scb.lrc",
        "scb.mp3",
        "scb.srt",
        "scb.vtt",
    ]


@pytest.mark.slow
def test_vtt_and_srt_cues_follow_the_timeline(rendered: Path, timeline: Timeline) -> None:
    for captions in (
        webvtt.read(str(rendered.with_suffix(".vtt"))).captions,
        webvtt.from_srt(str(rendered.with_suffix(".srt"))).captions,
    ):
        cues = [
            (to_samples(c.start), to_samples(c.end), html.unescape(c.text).replace("\n", " "))
            for c in captions
        ]
        for cue in cues:
            assert len(cue[2]) <= MAX_LINE_CHARS * MAX_LINES + 1
        # every utterance begins a cue at its exact start and its last cue ends at its end
        # (to the millisecond the formats carry)
        for event in timeline.speech:
            mine = [c for c in cues if event.start - 48 <= c[0] and c[1] <= event.end + 48]
            assert mine, event.text
            assert mine[0][0] == pytest.approx(event.start, abs=48)
            assert mine[-1][1] == pytest.approx(event.end, abs=48)
            assert " ".join(c[2] for c in mine) == " ".join(event.text.split())
        assert len(cues) >= len(timeline.speech)


@pytest.mark.slow
def test_lrc_lines_are_timed_from_the_timeline(rendered: Path, timeline: Timeline) -> None:
    lines = rendered.with_suffix(".lrc").read_text(encoding="utf-8").splitlines()
    assert "[ti:The Self-Compassion Break]" in lines
    timed = [re.fullmatch(r"\[(\d\d):(\d\d)\.(\d\d)\](.*)", line) for line in lines]
    spoken = [(int(m[1]) * 60 + int(m[2]) + int(m[3]) / 100, m[4]) for m in timed if m and m[4]]
    first = timeline.speech[0]
    assert spoken[0][1].startswith(first.text[:20])
    assert spoken[0][0] == pytest.approx(first.start / SAMPLE_RATE, abs=0.006)
    assert [t for t, _ in spoken] == sorted(t for t, _ in spoken)


@pytest.mark.slow
def test_chapters_json_and_id3_chapters_agree(rendered: Path, timeline: Timeline) -> None:
    doc = json.loads(rendered.with_name("scb.chapters.json").read_text(encoding="utf-8"))
    jsonschema.validate(doc, CHAPTERS_SCHEMA)
    assert [c["title"] for c in doc["chapters"]] == [c.title for c in timeline.chapters]
    for mine, chapter in zip(doc["chapters"], timeline.chapters, strict=True):
        assert mine["startTime"] == pytest.approx(chapter.start / SAMPLE_RATE, abs=0.001)
    chap = sorted(ID3(rendered).getall("CHAP"), key=lambda c: c.start_time)
    assert [c.start_time for c in chap] == [round(c["startTime"] * 1000) for c in doc["chapters"]]


@pytest.mark.slow
def test_apic_is_the_cover_sidecar(rendered: Path) -> None:
    apic = ID3(rendered).getall("APIC")
    assert len(apic) == 1 and apic[0].mime == "image/jpeg" and apic[0].type == 3
    image = Image.open(io.BytesIO(apic[0].data))
    assert image.format == "JPEG" and image.size == (1400, 1400)
    assert len(apic[0].data) < 500_000
    assert rendered.with_suffix(".jpg").read_bytes() == apic[0].data


@pytest.mark.slow
def test_own_cover_and_no_sidecars(tmp_path: Path) -> None:
    photo = tmp_path / "photo.png"
    Image.new("RGB", (600, 800), (30, 90, 160)).save(photo)
    out = tmp_path / "mine.mp3"
    run = kindvoice(
        "build",
        "soothing-touch",
        "--minutes",
        "3",
        "--background",
        "none",
        "--cover",
        str(photo),
        "--no-sidecars",
        "-o",
        str(out),
    )
    assert run.code == 0, run.stderr
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [".mine.mp3.kindvoice.json", "mine.mp3", "photo.png"]
    image = Image.open(io.BytesIO(ID3(out).getall("APIC")[0].data))
    assert image.size == (1400, 1400)
    assert image.resize((1, 1)).getpixel((0, 0)) == pytest.approx((30, 90, 160), abs=4)


def test_unreadable_cover_fails_before_rendering(tmp_path: Path) -> None:
    bad = tmp_path / "cover.jpg"
    bad.write_text("hello")
    out = tmp_path / "x.mp3"
    run = kindvoice("build", "soothing-touch", "--cover", str(bad), "-o", str(out))
    assert run.code == 7
    assert str(bad) in run.stderr and "Traceback" not in run.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cover.jpg"]
