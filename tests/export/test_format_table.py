"""The table of output formats: every row round-trips (extension -> format -> extension,
name lookup, mime type), and a short file written through the real encoders and taggers
for each row is what the row says (codec read back by ffmpeg, tags by mutagen)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import mutagen
import numpy as np
import pytest

from kindvoice.errors import UsageError
from kindvoice.export import formats
from kindvoice.export.encode import Writer, format_for
from kindvoice.export.tags import TagInfo, write_tags
from kindvoice.publish import feed, plan

from kv_testing import ffmpeg_exe

ROWS = [pytest.param(f, id=f.name) for f in formats.FORMATS]

#: what ffmpeg calls each codec of the table
FFMPEG_CODEC = {"MP3": "mp3", "AAC": "aac", "Opus": "opus", "Vorbis": "vorbis", "FLAC": "flac"}


@pytest.mark.parametrize("spec", ROWS)
def test_every_row_round_trips_by_extension_name_and_mime(spec: formats.OutputFormat) -> None:
    assert formats.by_extension(f"talk{spec.extension}") is spec
    assert formats.by_extension(Path(f"a/b/TALK{spec.extension.upper()}")) is spec
    assert formats.by_extension(spec.extension) is spec
    assert formats.by_name(spec.name) is spec
    assert formats.by_name(spec.extension.upper()) is spec
    assert formats.mime_type(f"x{spec.extension}") == spec.mime
    assert spec.mime.startswith("audio/")
    assert format_for(Path(f"x{spec.extension}")) == spec.name
    assert spec.name in formats.names() and spec.extension in formats.extensions()


def test_names_and_extensions_are_unique() -> None:
    assert len(set(formats.names())) == len(formats.FORMATS)
    assert len(set(formats.extensions())) == len(formats.FORMATS)


def test_the_course_the_feed_and_batch_read_the_table() -> None:
    assert formats.names("course") == plan.FORMATS
    assert "wav" not in plan.FORMATS and "m4a" in plan.FORMATS
    assert {ext: spec.mime for ext, spec in ((f.extension, f) for f in formats.FORMATS)} == {
        **feed.MIME_TYPES,
        ".wav": "audio/wav",
    }
    assert formats.names("batch") == formats.names()


def test_unknown_extension_and_name_are_one_line_listing_the_choices() -> None:
    with pytest.raises(UsageError) as found:
        formats.by_extension("talk.aiff")
    message = found.value.format_message()
    assert "'.aiff'" in message and "\n" not in message
    assert all(ext in message for ext in formats.extensions())
    with pytest.raises(UsageError, match=r"Unknown format 'wav'. Choose one of: mp3, m4a"):
        formats.by_name("wav", "course")
    assert formats.find("notes.txt") is None and formats.mime_type("notes.txt") == ""
    assert not formats.is_audio("x.wav", "course") and formats.is_audio("x.WAV", "web")


def ffmpeg_codec(path: Path) -> str:
    err = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-i", str(path)], capture_output=True, text=True
    ).stderr
    found = re.search(r"Audio: (\w+)", err)
    assert found, err
    return found.group(1)


@pytest.mark.parametrize("spec", ROWS)
def test_a_file_of_every_row_is_what_the_row_says(
    spec: formats.OutputFormat, tmp_path: Path
) -> None:
    out = tmp_path / f"tone{spec.extension}"
    writer = Writer(out, channels=2)
    t = np.arange(48_000 // 2) / 48_000
    tone = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    writer.write(np.stack([tone, tone], axis=1))
    info = TagInfo("A title", "kindvoice", "An album", "summary", "words", (), len(tone))
    write_tags(writer.finish(), spec.name, info)
    writer.commit()
    codec = ffmpeg_codec(out)
    if spec.codec == "PCM":
        assert codec.startswith("pcm_")
    else:
        assert codec == FFMPEG_CODEC[spec.codec]
    read = mutagen.File(out)
    assert read is not None and read.tags is not None
    title_key = {"id3": "TIT2", "mp4": "\xa9nam", "vorbis": "title"}[spec.tags]
    assert str(read.tags[title_key][0]) == "A title"
