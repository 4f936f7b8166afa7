"""Sidecar files beside the audio: the words and the chapters, timed from the timeline.

``NAME.vtt`` and ``NAME.srt`` (captions: one cue per utterance, long utterances split
into cues of at most two lines of about 65 characters), ``NAME.lrc`` (lyrics for music
players) and ``NAME.chapters.json`` (Podcasting 2.0 chapters). Every time is read from
the mixer's timeline in samples and divided by the sample rate; nothing is estimated
except where one utterance is split into several cues, and then only inside that
utterance's exact span (in proportion to characters).

Every file here is written whole or not at all (``files.write_atomic``).
"""

from __future__ import annotations

import json
import logging
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from kindvoice.audio import SAMPLE_RATE
from kindvoice.durations import clock
from kindvoice.mix.timeline import Chapter, Timeline

log = logging.getLogger(__name__)

MAX_LINE_CHARS = 65
MAX_LINES = 2
CHAPTERS_VERSION = "1.2.0"  # Podcasting 2.0 JSON chapters format version
#: sidecar kind -> file name suffix that replaces the audio's extension
SUFFIXES = {
    "vtt": ".vtt",
    "srt": ".srt",
    "lrc": ".lrc",
    "chapters": ".chapters.json",
    "cover": ".jpg",
}


@dataclass(frozen=True)
class Cue:
    """One caption: its lines and its span in samples (relative to the file's start)."""

    start: int
    end: int
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        return " ".join(self.lines)


def sidecar_paths(audio: Path) -> dict[str, Path]:
    """Where each sidecar of ``audio`` goes: ``NAME.vtt``, ``NAME.chapters.json`` ..."""
    return {kind: audio.with_suffix(suffix) for kind, suffix in SUFFIXES.items()}


# --------------------------------------------------------------------------- cues


def split_utterance(text: str, start: int, end: int) -> list[Cue]:
    """One utterance as cues of at most ``MAX_LINES`` lines of ``MAX_LINE_CHARS``.

    A short utterance is one cue over its whole span. A long one is wrapped at word
    boundaries and its span shared out in proportion to each cue's characters; the last
    cue ends exactly where the utterance does."""
    lines = textwrap.wrap(" ".join(text.split()), MAX_LINE_CHARS, break_on_hyphens=False)
    if not lines:
        return []
    groups = [tuple(lines[i : i + MAX_LINES]) for i in range(0, len(lines), MAX_LINES)]
    weights = [sum(len(line) for line in group) + len(group) - 1 for group in groups]
    total = sum(weights)
    cues: list[Cue] = []
    done = 0
    begin = start
    for group, weight in zip(groups, weights, strict=True):
        done += weight
        stop = start + round((end - start) * done / total)
        cues.append(Cue(begin, stop, group))
        begin = stop
    return cues


def timeline_cues(timeline: Timeline, span: tuple[int, int] | None = None) -> list[Cue]:
    """Every utterance on the timeline as cues; with ``span`` (a preview's start and stop
    samples) only what falls inside it, clipped and shifted so times start at zero."""
    start, stop = span if span is not None else (0, timeline.total)
    cues: list[Cue] = []
    for event in timeline.speech:
        for cue in split_utterance(event.text, event.start, event.end):
            if cue.end <= start or cue.start >= stop:
                continue
            cues.append(Cue(max(cue.start, start) - start, min(cue.end, stop) - start, cue.lines))
    return cues


def clip_chapters(
    chapters: Sequence[Chapter], span: tuple[int, int] | None = None
) -> list[Chapter]:
    """The chapters inside ``span`` (start, stop samples), shifted to start at zero."""
    if span is None:
        return list(chapters)
    start, stop = span
    return [
        Chapter(c.title, max(c.start, start) - start, min(c.end, stop) - start)
        for c in chapters
        if c.end > start and c.start < stop
    ]


# --------------------------------------------------------------------------- formats


def _clock(samples: int, separator: str) -> str:
    """hh:mm:ss.mmm (VTT, separator '.') or hh:mm:ss,mmm (SRT, ',')."""
    return clock(samples, 3, hours="padded", separator=separator)


def _vtt_escape(line: str) -> str:
    # '&' and '<' start markup in WebVTT; escaping '>' as well keeps "-->" out of a cue
    return line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def vtt_text(cues: Sequence[Cue], language: str | None = None) -> str:
    """A WebVTT file, cues numbered from 1; ``language`` (BCP 47) as a header line."""
    out = ["WEBVTT", *([f"Language: {language}"] if language else []), ""]
    for i, cue in enumerate(cues, start=1):
        out.append(str(i))
        out.append(f"{_clock(cue.start, '.')} --> {_clock(cue.end, '.')}")
        out.extend(_vtt_escape(line) for line in cue.lines)
        out.append("")
    return "\n".join(out)


def srt_text(cues: Sequence[Cue]) -> str:
    """A SubRip file, cues numbered from 1."""
    out: list[str] = []
    for i, cue in enumerate(cues, start=1):
        out.append(str(i))
        out.append(f"{_clock(cue.start, ',')} --> {_clock(cue.end, ',')}")
        out.extend(cue.lines)
        out.append("")
    return "\n".join(out)


def _lrc_stamp(samples: int) -> str:
    centis = round(samples * 100 / SAMPLE_RATE)
    m, rest = divmod(centis, 6000)
    s, cs = divmod(rest, 100)
    return f"[{m:02d}:{s:02d}.{cs:02d}]"


def lrc_text(cues: Sequence[Cue], title: str, artist: str, total_samples: int) -> str:
    """Simple LRC: one timed line per cue, and an empty timed line where a silence of
    more than a second follows, so players clear the words during the pause."""
    total_s = round(total_samples / SAMPLE_RATE)
    out = [f"[ti:{title}]", f"[ar:{artist}]", f"[length:{total_s // 60:02d}:{total_s % 60:02d}]"]
    for i, cue in enumerate(cues):
        out.append(f"{_lrc_stamp(cue.start)}{cue.text}")
        following = cues[i + 1].start if i + 1 < len(cues) else total_samples
        if following - cue.end > SAMPLE_RATE:
            out.append(_lrc_stamp(cue.end))
    return "\n".join(out) + "\n"


def _seconds(samples: int) -> float:
    """Seconds rounded to the millisecond the way the ID3 chapters round, so the two agree."""
    return round(samples * 1000 / SAMPLE_RATE) / 1000


def chapters_json(chapters: Sequence[Chapter], title: str) -> str:
    """Podcasting 2.0 JSON chapters (``version``, ``chapters`` with ``startTime`` and
    ``endTime`` in seconds, ``title``)."""
    doc = {
        "version": CHAPTERS_VERSION,
        "title": title,
        "chapters": [
            {"startTime": _seconds(c.start), "endTime": _seconds(c.end), "title": c.title}
            for c in chapters
        ],
    }
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def sidecar_files(
    audio: Path,
    timeline: Timeline,
    *,
    title: str,
    artist: str,
    span: tuple[int, int] | None = None,
    cover_jpeg: bytes | None = None,
    language: str | None = None,
) -> dict[Path, bytes | str]:
    """The VTT, SRT, LRC and chapters JSON (and the cover, when given) of ``audio``, by
    path; ``span`` limits them to a preview's stretch."""
    paths = sidecar_paths(audio)
    start, stop = span if span is not None else (0, timeline.total)
    cues = timeline_cues(timeline, span)
    files: dict[Path, bytes | str] = {
        paths["vtt"]: vtt_text(cues, language),
        paths["srt"]: srt_text(cues),
        paths["lrc"]: lrc_text(cues, title, artist, stop - start),
        paths["chapters"]: chapters_json(clip_chapters(timeline.chapters, span), title),
    }
    if cover_jpeg is not None:
        files[paths["cover"]] = cover_jpeg
    return files
