"""Tags: what a phone shows about a session (title, artist, chapters, the words).

MP3 (and WAV) get ID3v2.3, which every phone reads: TIT2/TPE1/TALB/TCON "Meditation",
COMM with the summary, USLT with the spoken text, and CTOC/CHAP chapters in milliseconds
from the ``##`` sections. FLAC gets Vorbis comments with the same facts and
``CHAPTERnnn``/``CHAPTERnnnNAME`` chapters.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mutagen.flac import FLAC
from mutagen.id3 import CHAP, COMM, CTOC, ID3, TALB, TCON, TIT2, TLEN, TPE1, TXXX, USLT, CTOCFlags
from mutagen.wave import WAVE

from kindvoice.audio import SAMPLE_RATE


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
    language: str = "eng"
    practice_id: str = ""


def _ms(samples: int) -> int:
    return round(samples * 1000 / SAMPLE_RATE)


def _id3_frames(info: TagInfo) -> list[object]:
    frames: list[object] = [
        TIT2(encoding=3, text=info.title),
        TPE1(encoding=3, text=info.artist),
        TALB(encoding=3, text=info.album),
        TCON(encoding=3, text="Meditation"),
        TLEN(encoding=3, text=str(_ms(info.total_samples))),
        COMM(encoding=3, lang=info.language, desc="", text=info.summary),
        USLT(encoding=3, lang=info.language, desc="", text=info.transcript),
    ]
    if info.practice_id:
        frames.append(TXXX(encoding=3, desc="kindvoice practice", text=info.practice_id))
    ids = [f"chp{i}" for i in range(len(info.chapters))]
    if ids:
        frames.append(
            CTOC(
                element_id="toc",
                flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
                child_element_ids=ids,
                sub_frames=[TIT2(encoding=3, text=info.title)],
            )
        )
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


def write_tags(path: Path, fmt: str, info: TagInfo) -> None:
    """Write the tags into a finished (temporary) audio file of format ``fmt``."""
    if fmt == "mp3":
        tags = ID3()
        for frame in _id3_frames(info):
            tags.add(frame)
        tags.update_to_v23()
        tags.save(path, v2_version=3)
    elif fmt == "wav":
        wave = WAVE(path)
        if wave.tags is None:
            wave.add_tags()
        assert wave.tags is not None
        for frame in _id3_frames(info):
            wave.tags.add(frame)
        wave.tags.update_to_v23()
        wave.save(v2_version=3)
    elif fmt == "flac":
        flac = FLAC(path)
        flac["TITLE"] = info.title
        flac["ARTIST"] = info.artist
        flac["ALBUM"] = info.album
        flac["GENRE"] = "Meditation"
        flac["DESCRIPTION"] = info.summary
        flac["LYRICS"] = info.transcript
        for i, (title, start, _end) in enumerate(info.chapters, start=1):
            ms = _ms(start)
            h, m, sec = ms // 3_600_000, ms // 60_000 % 60, ms // 1000 % 60
            stamp = f"{h:02d}:{m:02d}:{sec:02d}.{ms % 1000:03d}"
            flac[f"CHAPTER{i:03d}"] = stamp
            flac[f"CHAPTER{i:03d}NAME"] = title
        flac.save()
