"""The output formats: one table, the only place that lists them.

Each row says what a file with that extension is (container, codec), which encoder
writes it (lameenc, soundfile or the ffmpeg binary), which kind of tags it carries
(ID3, MP4 atoms or Vorbis comments), its mime type, and which front ends accept it
(``batch`` manifests, ``course`` plans and their podcast feed, the ``web`` page).
Encoders, taggers, the course and feed, the batch runner and the web page all read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from kindvoice.errors import UsageError

Encoder = Literal["lameenc", "soundfile", "ffmpeg"]
TagKind = Literal["id3", "mp4", "vorbis"]
FrontEnd = Literal["batch", "course", "web"]


@dataclass(frozen=True)
class OutputFormat:
    """One output format (a row of ``FORMATS``)."""

    name: str  # "mp3": what the code, a course plan and the web form call it
    extension: str  # ".mp3"
    container: str
    codec: str
    encoder: Encoder
    tags: TagKind
    mime: str
    batch: bool = True  # a batch manifest may name it
    course: bool = True  # a course plan may ask for it (and its podcast feed lists it)
    web: bool = True  # the web page offers it
    #: the encoder's own words for it: soundfile subtype, or (ffmpeg muxer, ffmpeg codec)
    soundfile_subtype: str = ""
    ffmpeg_muxer: str = ""
    ffmpeg_codec: str = ""

    def accepted_by(self, front_end: FrontEnd) -> bool:
        """Whether the front end ``front_end`` accepts this format."""
        return bool(getattr(self, front_end))


# fmt: off
FORMATS: tuple[OutputFormat, ...] = (
    OutputFormat("mp3", ".mp3", "MPEG audio", "MP3", "lameenc", "id3", "audio/mpeg"),
    OutputFormat("m4a", ".m4a", "MP4", "AAC", "ffmpeg", "mp4", "audio/x-m4a",
                 ffmpeg_muxer="ipod", ffmpeg_codec="aac"),
    OutputFormat("opus", ".opus", "Ogg", "Opus", "ffmpeg", "vorbis", "audio/ogg",
                 ffmpeg_muxer="opus", ffmpeg_codec="libopus"),
    OutputFormat("ogg", ".ogg", "Ogg", "Vorbis", "ffmpeg", "vorbis", "audio/ogg",
                 ffmpeg_muxer="ogg", ffmpeg_codec="libvorbis"),
    OutputFormat("flac", ".flac", "FLAC", "FLAC", "soundfile", "vorbis", "audio/flac",
                 soundfile_subtype="PCM_24"),
    # WAV: too large for a phone's podcast app, so a course and its feed leave it out
    OutputFormat("wav", ".wav", "WAVE", "PCM", "soundfile", "id3", "audio/wav",
                 course=False, soundfile_subtype="PCM_16"),
)
# fmt: on

_BY_NAME = {f.name: f for f in FORMATS}
_BY_EXTENSION = {f.extension: f for f in FORMATS}


def names(front_end: FrontEnd | None = None) -> tuple[str, ...]:
    """The format names, in table order; only those ``front_end`` accepts if given."""
    return tuple(f.name for f in FORMATS if front_end is None or f.accepted_by(front_end))


def extensions(front_end: FrontEnd | None = None) -> tuple[str, ...]:
    """The extensions (".mp3", ...), in table order; only those ``front_end`` accepts."""
    return tuple(f.extension for f in FORMATS if front_end is None or f.accepted_by(front_end))


def find(path: Path | str) -> OutputFormat | None:
    """The format of a file by its extension (any case), or None when it is not one of ours."""
    text = str(path)
    suffix = Path(text).suffix or (text if text.startswith(".") else "")  # ".mp3" alone
    return _BY_EXTENSION.get(suffix.lower())


def by_extension(path: Path | str) -> OutputFormat:
    """The format an output path asks for; a one-line error lists the extensions."""
    found = find(path)
    if found is None:
        shown = Path(path).suffix or Path(path).name
        raise UsageError(f"Unknown output format '{shown}'. Use one of: {', '.join(extensions())}")
    return found


def by_name(name: str, front_end: FrontEnd | None = None) -> OutputFormat:
    """The format called ``name`` ("mp3", ".mp3", "MP3" all work); a one-line error lists
    the names ``front_end`` accepts."""
    key = name.strip().lower().lstrip(".")
    found = _BY_NAME.get(key)
    if found is None or (front_end is not None and not found.accepted_by(front_end)):
        raise UsageError(f"Unknown format '{name}'. Choose one of: {', '.join(names(front_end))}")
    return found


def mime_type(path: Path | str) -> str:
    """The mime type of an audio file of ours, by its extension ("" when it is not one)."""
    found = find(path)
    return found.mime if found is not None else ""


def is_audio(path: Path | str, front_end: FrontEnd | None = None) -> bool:
    """Whether ``path`` has one of our audio extensions (that ``front_end`` accepts)."""
    found = find(path)
    return found is not None and (front_end is None or found.accepted_by(front_end))
