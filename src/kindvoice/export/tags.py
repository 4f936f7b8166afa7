"""Tags: what a phone shows about a session (title, artist, chapters, the words), and
``transcript``, the words as the tags and sidecars carry them.

MP3 (and WAV) get ID3v2.3, which every phone reads: TIT2/TPE1/TALB/TCON "Meditation",
COMM with the summary, USLT with the spoken text, and CTOC/CHAP chapters in milliseconds
from the ``##`` sections, APIC with the cover, TRCK for a course and
TXXX "kindvoice voice" naming the voice that spoke. FLAC, Opus and Ogg
Vorbis get Vorbis comments with the same facts, ``CHAPTERnnn``/``CHAPTERnnnNAME``
chapters and a picture block; M4A gets iTunes atoms (its chapters are written by the
encoder, ``ffmpeg_encode``, because mutagen cannot write MP4 chapters).
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mutagen import MutagenError
from mutagen.flac import FLAC, Picture
from mutagen.id3 import (
    APIC,
    CHAP,
    COMM,
    CTOC,
    ID3,
    TALB,
    TCON,
    TIT2,
    TLAN,
    TLEN,
    TPE1,
    TRCK,
    TXXX,
    USLT,
    CTOCFlags,
    PictureType,
)
from mutagen.mp4 import MP4, MP4Cover, MP4FreeForm
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE

from kindvoice.audio import SAMPLE_RATE
from kindvoice.durations import clock
from kindvoice.errors import AudioIOError
from kindvoice.export import formats

if TYPE_CHECKING:
    from kindvoice.mix.timeline import Timeline

CTOC_MAX = 255  # children of one ID3 table of contents (a one-byte count)


@dataclass(frozen=True)
class TagInfo:
    """The facts written into the file; chapter times are samples at the house rate."""

    title: str
    artist: str
    album: str
    summary: str
    transcript: str
    chapters: tuple[tuple[str, int, int], ...]
    total_samples: int
    language: str = "eng"  # ISO 639-2 (TLAN, COMM, USLT)
    practice_id: str = ""
    cover_jpeg: bytes | None = None  # front cover (APIC, covr, METADATA_BLOCK_PICTURE)
    track: tuple[int, int] | None = None  # (n, of N) in a course
    voice: str = ""  # who spoke: "kokoro voice heart at rate 0.9"


def _ms(samples: int) -> int:
    return round(samples * 1000 / SAMPLE_RATE)


def _id3_frames(info: TagInfo) -> list[object]:
    frames: list[object] = [
        TIT2(encoding=3, text=info.title),
        TPE1(encoding=3, text=info.artist),
        TALB(encoding=3, text=info.album),
        TCON(encoding=3, text="Meditation"),
        TLEN(encoding=3, text=str(_ms(info.total_samples))),
        TLAN(encoding=3, text=info.language),
        COMM(encoding=3, lang=info.language, desc="", text=info.summary),
        USLT(encoding=3, lang=info.language, desc="", text=info.transcript),
    ]
    if info.practice_id:
        frames.append(TXXX(encoding=3, desc="kindvoice practice", text=info.practice_id))
    if info.voice:
        frames.append(TXXX(encoding=3, desc="kindvoice voice", text=info.voice))
    if info.track is not None:
        frames.append(TRCK(encoding=3, text=f"{info.track[0]}/{info.track[1]}"))
    if info.cover_jpeg is not None:
        frames.append(
            APIC(
                encoding=3,
                mime="image/jpeg",
                type=PictureType.COVER_FRONT,
                desc="cover",
                data=info.cover_jpeg,
            )
        )
    ids = [f"chp{i}" for i in range(len(info.chapters))]
    # a CTOC lists at most 255 children (its count is one byte): more chapters go in
    # tables of contents of 255 each, under the top one
    groups = [ids[i : i + CTOC_MAX] for i in range(0, len(ids), CTOC_MAX)]
    if len(groups) > CTOC_MAX:
        raise ValueError(f"{len(ids)} chapters: ID3 holds at most {CTOC_MAX**2}")
    tops = ids if len(groups) == 1 else [f"toc{i}" for i in range(len(groups))]
    if ids:
        frames.append(
            CTOC(
                element_id="toc",
                flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
                child_element_ids=tops,
                sub_frames=[TIT2(encoding=3, text=info.title)],
            )
        )
    if len(groups) > 1:
        for toc, group in zip(tops, groups, strict=True):
            frames.append(CTOC(element_id=toc, flags=CTOCFlags.ORDERED, child_element_ids=group))
    for cid, (title, start, end) in zip(ids, info.chapters, strict=True):
        frames.append(
            CHAP(
                element_id=cid,
                start_time=_ms(start),
                end_time=_ms(end),
                start_offset=0xFFFFFFFF,
                end_offset=0xFFFFFFFF,
                sub_frames=[TIT2(encoding=3, text=title)],
            )
        )
    return frames


def write_tags(path: Path, fmt: str, info: TagInfo, output: Path | None = None) -> None:
    """Write the tags into a finished (temporary) audio file of format ``fmt``; the
    format table (``formats``) says which kind of tags it carries. A write that fails (the
    disk filling as the tags grow the file) is one AudioIOError naming ``output`` (the
    file the user asked for; default ``path``)."""
    try:
        _write_tags(path, fmt, info)
    except (OSError, MutagenError) as exc:
        cause: BaseException | None = exc
        while cause is not None and not (isinstance(cause, OSError) and cause.strerror):
            cause = cause.__cause__ or cause.__context__
        reason = cause.strerror if isinstance(cause, OSError) else str(exc)
        raise AudioIOError(
            f"Cannot write '{output or path}': {reason} (while writing its tags)."
        ) from exc


def _write_tags(path: Path, fmt: str, info: TagInfo) -> None:
    spec = formats.by_name(fmt)
    if spec.tags == "id3" and spec.container == "WAVE":
        wave = WAVE(path)
        if wave.tags is None:
            wave.add_tags()
        assert wave.tags is not None
        for frame in _id3_frames(info):
            wave.tags.add(frame)
        wave.tags.update_to_v23()
        wave.save(v2_version=3)
    elif spec.tags == "id3":
        tags = ID3()
        for frame in _id3_frames(info):
            tags.add(frame)
        tags.update_to_v23()
        tags.save(path, v2_version=3)
    elif spec.tags == "vorbis" and spec.container == "FLAC":
        flac = FLAC(path)
        _vorbis_comments(flac, info)
        if info.cover_jpeg is not None:
            flac.add_picture(_picture(info.cover_jpeg))
        flac.save()
    elif spec.tags == "vorbis":
        ogg = OggOpus(path) if spec.codec == "Opus" else OggVorbis(path)
        _vorbis_comments(ogg, info)
        if info.cover_jpeg is not None:
            # Ogg has no picture block: the FLAC one goes in a comment, base64-encoded
            data = _picture(info.cover_jpeg).write()
            ogg["METADATA_BLOCK_PICTURE"] = base64.b64encode(data).decode("ascii")
        ogg.save()
    else:
        _mp4_tags(path, info)


def _mp4_tags(path: Path, info: TagInfo) -> None:
    """iTunes atoms (M4A); the chapters were written by the encoder."""
    mp4 = MP4(path)
    if mp4.tags is None:
        mp4.add_tags()
    assert mp4.tags is not None
    mp4.tags["\xa9nam"] = [info.title]
    mp4.tags["\xa9ART"] = [info.artist]
    mp4.tags["\xa9alb"] = [info.album]
    mp4.tags["\xa9gen"] = ["Meditation"]
    mp4.tags["\xa9cmt"] = [info.summary]
    mp4.tags["\xa9lyr"] = [info.transcript]
    if info.practice_id:
        practice = MP4FreeForm(info.practice_id.encode("utf-8"))
        mp4.tags["----:org.kindvoice:practice"] = [practice]
    if info.voice:
        mp4.tags["----:org.kindvoice:voice"] = [MP4FreeForm(info.voice.encode("utf-8"))]
    if info.track is not None:
        mp4.tags["trkn"] = [info.track]
    if info.cover_jpeg is not None:
        mp4.tags["covr"] = [MP4Cover(info.cover_jpeg, imageformat=MP4Cover.FORMAT_JPEG)]
    mp4.save()


def _picture(jpeg: bytes) -> Picture:
    """A FLAC picture block holding the front cover."""
    from PIL import Image

    picture = Picture()
    picture.type = PictureType.COVER_FRONT
    picture.mime = "image/jpeg"
    picture.desc = "cover"
    with Image.open(io.BytesIO(jpeg)) as image:
        picture.width, picture.height = image.size
    picture.depth = 24
    picture.data = jpeg
    return picture


def _vorbis_comments(file: FLAC | OggOpus | OggVorbis, info: TagInfo) -> None:
    """The Vorbis-comment tags FLAC, Opus and Ogg Vorbis share, chapters included."""
    file["TITLE"] = info.title
    file["ARTIST"] = info.artist
    file["ALBUM"] = info.album
    file["GENRE"] = "Meditation"
    file["DESCRIPTION"] = info.summary
    file["LANGUAGE"] = info.language
    file["LYRICS"] = info.transcript
    if info.practice_id:
        file["KINDVOICE_PRACTICE"] = info.practice_id
    if info.voice:
        file["KINDVOICE_VOICE"] = info.voice
    if info.track is not None:
        file["TRACKNUMBER"] = str(info.track[0])
        file["TRACKTOTAL"] = str(info.track[1])
    for i, (title, start, _end) in enumerate(info.chapters, start=1):
        file[f"CHAPTER{i:03d}"] = clock(start, 3, hours="padded")  # hh:mm:ss.mmm
        file[f"CHAPTER{i:03d}NAME"] = title


def transcript(timeline: Timeline, voice: str = "") -> str:
    """The spoken text, one utterance per line, with a blank line between chapters; a
    recorded ``voice`` is named on the first line (whose voice the listener hears)."""
    lines: list[str] = [f"Voice: {voice}"] if voice.startswith("recorded voice") else []
    chapters = list(timeline.chapters)
    current = -1
    for event in timeline.speech:
        index = max(i for i, c in enumerate(chapters) if c.start <= event.start)
        if index != current:
            if lines:
                lines.append("")
            lines.append(f"## {chapters[index].title}")
            current = index
        lines.append(event.text)
    return "\n".join(lines)
