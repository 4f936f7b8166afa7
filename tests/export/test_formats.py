"""One session exported as mp3, m4a, opus and ogg: the same decoded length and the same
chapters in every format, read back with ffmpeg (an independent decoder) and mutagen;
the quality presets; tags in m4a."""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path

import mutagen
import pytest
from mutagen.id3 import ID3
from mutagen.mp4 import MP4
from PIL import Image

from kv_testing import decode, ffmpeg_exe, kindvoice

pytestmark = pytest.mark.slow

EXPECTED_SAMPLES = 3 * 60 * 48_000


def ffmpeg_chapters(path: Path) -> list[tuple[int, str]]:
    """(start in ms, title) of every chapter as ffmpeg reads it, in time order."""
    err = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-i", str(path)], capture_output=True, text=True
    ).stderr
    found = re.findall(
        r"Chapter #\d+:\d+: start (\d+\.\d+), end [\d.]+\s+Metadata:\s+title\s+: (.*)", err
    )
    return sorted((round(float(start) * 1000), title.strip()) for start, title in found)


def same_chapters(found: list[tuple[int, str]], reference: list[tuple[int, str]]) -> bool:
    """Same titles in the same order, starts within a millisecond (a start that falls on
    half a millisecond may round either way once printed in seconds)."""
    return [t for _, t in found] == [t for _, t in reference] and all(
        abs(a - b) <= 1 for (a, _), (b, _) in zip(found, reference, strict=True)
    )


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("formats")
    paths: dict[str, Path] = {}
    for suffix, extra in (
        (".mp3", ()),
        (".m4a", ()),
        (".opus", ()),
        (".ogg", ("--quality", "music")),
    ):
        out = folder / f"scb{suffix}"
        run = kindvoice(
            "build",
            "self-compassion-break",
            "--minutes",
            "3",
            "--background",
            "none",
            "--no-sidecars",
            *extra,
            "-o",
            str(out),
        )
        assert run.code == 0, run.stderr
        paths[suffix] = out
    return paths


def test_every_format_decodes_to_the_exact_length(exports: dict[str, Path]) -> None:
    lengths = {suffix: len(decode(path)) for suffix, path in exports.items()}
    # AAC and Opus carry their encoder delay (edit list, pre-skip), so nothing is added
    assert lengths == {suffix: EXPECTED_SAMPLES for suffix in exports}


def test_every_format_has_the_same_chapters(exports: dict[str, Path]) -> None:
    reference = sorted(
        (c.start_time, str(c.sub_frames["TIT2"])) for c in ID3(exports[".mp3"]).getall("CHAP")
    )
    assert len(reference) >= 4
    for path in exports.values():
        assert same_chapters(ffmpeg_chapters(path), reference), path.name
    # and as each format's own tag reader sees them
    mp4 = MP4(exports[".m4a"])
    assert mp4.chapters is not None
    assert same_chapters([(round(c.start * 1000), c.title) for c in mp4.chapters], reference)
    for suffix in (".opus", ".ogg"):
        tags = mutagen.File(exports[suffix]).tags
        assert tags["CHAPTER001NAME"] == [reference[0][1]]
        assert tags["CHAPTER002"] == [
            f"00:00:{reference[1][0] // 1000:02d}.{reference[1][0] % 1000:03d}"
        ]


def test_m4a_tags(exports: dict[str, Path]) -> None:
    tags = MP4(exports[".m4a"]).tags
    assert tags is not None
    assert tags["\xa9nam"] == ["The Self-Compassion Break"]
    assert tags["\xa9ART"] == ["kindvoice"]
    assert tags["\xa9gen"] == ["Meditation"]
    assert tags["\xa9alb"] == ["kindvoice meditations"]
    assert tags["\xa9cmt"][0].startswith("Three short steps for a hard moment")
    assert "This is a moment of suffering." in tags["\xa9lyr"][0]
    cover = Image.open(io.BytesIO(bytes(tags["covr"][0])))
    assert cover.format == "JPEG" and cover.size == (1400, 1400)


def test_opus_cover_and_quality_presets(exports: dict[str, Path]) -> None:
    opus = mutagen.File(exports[".opus"])
    assert "METADATA_BLOCK_PICTURE" in opus.tags
    assert opus.info.channels == 2
    ogg = mutagen.File(exports[".ogg"])  # --quality music: stereo 160 kbps
    assert ogg.info.channels == 2
    assert ogg.info.bitrate == 160_000


def test_voice_quality_is_mono_64k(tmp_path: Path) -> None:
    out = tmp_path / "voice.mp3"
    run = kindvoice(
        "build",
        "soothing-touch",
        "--minutes",
        "3",
        "--background",
        "none",
        "--quality",
        "voice",
        "--no-sidecars",
        "-o",
        str(out),
    )
    assert run.code == 0, run.stderr
    info = mutagen.File(out).info
    assert info.channels == 1 and info.bitrate == 64_000
    assert len(decode(out, channels=1)) == EXPECTED_SAMPLES


def test_voice_quality_refuses_binaural(tmp_path: Path) -> None:
    out = tmp_path / "x.m4a"
    run = kindvoice(
        "build",
        "soothing-touch",
        "--quality",
        "voice",
        "--background",
        "binaural-theta",
        "-o",
        str(out),
    )
    assert run.code == 2
    assert "stereo" in run.stderr and "Traceback" not in run.stderr
    assert list(tmp_path.iterdir()) == []


def test_unknown_extension_lists_the_new_formats(tmp_path: Path) -> None:
    run = kindvoice("build", "soothing-touch", "-o", str(tmp_path / "x.aiff"))
    assert run.code == 2
    for suffix in (".m4a", ".opus", ".ogg"):
        assert suffix in run.stderr
