"""A course folder of the library as the listener's pages show it: the course (title,
teacher, description, language) and its days in order, each day a ``web.sessions.Session``
so it opens in the session player (transcript, chapters, resume, Keep offline, history,
lock-screen metadata and artwork), the files that keep it offline with their sizes, and
its episodes for the library's podcast feed.

A course describes itself in ``course.json`` (``publish.course_pages``); a course built
before that file existed is read from its playlist (``playlist.m3u``). A day's chapters
come from its ``NAME.chapters.json`` sidecar, its words from ``NAME.vtt``, its cover from
``NAME.jpg``; the names all pass ``Library.course_file``, which never leaves the folder.
"""

from __future__ import annotations

import contextlib
import json
import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kindvoice.export.sidecars import SUFFIXES
from kindvoice.publish.course_model import MANIFEST
from kindvoice.publish.course_pages import MANIFEST_VERSION
from kindvoice.web.sessions import Cue, Library, NotInLibrary, Session, parse_vtt, playlist_tracks

if TYPE_CHECKING:
    from kindvoice.publish.feed import Episode

log = logging.getLogger(__name__)

#: the files of a day that the player uses and "Keep offline" keeps (the page aside)
KEPT_KINDS = ("audio", "vtt", "chapters", "cover")


@dataclass(frozen=True)
class Day:
    """One day (or session) of a course."""

    number: int
    title: str
    summary: str
    seconds: float
    audio: str  # the audio file's name in the course folder
    practice: str = ""


@dataclass(frozen=True)
class Course:
    slug: str
    title: str
    teacher: str
    description: str
    language: str
    days: tuple[Day, ...]
    folder: Path
    unit: str = "Day"  # "Day", or "Session" for a plan of sessions

    def day(self, number: int) -> Day:
        """Day ``number`` (from 1); ``NotInLibrary`` when the course has no such day."""
        for day in self.days:
            if day.number == number:
                return day
        raise NotInLibrary(f"{self.slug}/{number}")


def _manifest(folder: Path) -> dict[str, Any] | None:
    """The course's own description, or None (none yet, unreadable or of a later shape)."""
    path = folder / MANIFEST
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.warning("cannot read %s (%s): using the playlist", path, exc)
        return None
    ok = isinstance(doc, dict) and doc.get("version") == MANIFEST_VERSION
    return doc if ok and isinstance(doc.get("sessions"), list) else None


def load_course(library: Library, slug: str, title: str | None = None) -> Course:
    """Course ``slug`` of the library; ``NotInLibrary`` when there is none. ``title`` (the
    database's) names a course whose folder does not say."""
    names = set(library.course_files(slug))
    folder = library.course_folder(slug)
    doc = _manifest(folder)
    days: list[Day] = []
    if doc is not None:
        for entry in doc["sessions"]:
            with contextlib.suppress(KeyError, TypeError, ValueError):
                if str(entry["file"]) in names:
                    days.append(
                        Day(
                            number=int(entry["number"]),
                            title=str(entry["title"]),
                            summary=str(entry.get("summary", "")),
                            seconds=float(entry["seconds"]),
                            audio=str(entry["file"]),
                            practice=str(entry.get("practice", "")),
                        )
                    )
        info = {k: str(doc.get(k, "") or "") for k in ("title", "teacher", "description", "unit")}
        language = str(doc.get("language") or "en")
        days = [_in_language(day, info["unit"] or "Day", language) for day in days]
    else:  # built before course.json: the playlist's lines ("teacher - Day 1: ...")
        tracks = playlist_tracks(folder / "playlist.m3u", sorted(names))
        for number, track in enumerate(tracks, 1):
            teacher, _, rest = str(track["title"]).partition(" - ")
            days.append(
                Day(number, rest or teacher, "", float(track["seconds"]), str(track["file"]))
            )
        info = {"title": "", "teacher": "", "description": "", "unit": ""}
        language = "en"
    return Course(
        slug=slug,
        title=info["title"] or title or slug,
        teacher=info["teacher"],
        description=info["description"],
        language=language,
        days=tuple(sorted(days, key=lambda d: d.number)),
        folder=folder,
        unit=info["unit"] or "Day",
    )


def _in_language(day: Day, unit: str, language: str) -> Day:
    """``day`` titled in the course's language: a course built before the tracks said
    "Día 3" in a Spanish course says "Day 3: ..." in its course.json."""
    from kindvoice.errors import UnknownNameError
    from kindvoice.languages import LANGUAGES, find_language

    english = LANGUAGES["en"].unit_words(unit, day.number) + ": "
    try:
        own = find_language(language).unit_words(unit, day.number) + ": "
    except UnknownNameError:
        return day
    if own == english or not day.title.startswith(english):
        return day
    return replace(day, title=own + day.title.removeprefix(english))


def day_files(library: Library, course: Course, day: Day) -> dict[str, str]:
    """The day's files by kind ("audio", "vtt", "srt", "lrc", "chapters", "cover")."""
    stem = day.audio.rsplit(".", 1)[0]
    files = {"audio": day.audio}
    for kind, suffix in SUFFIXES.items():
        with contextlib.suppress(NotInLibrary):
            library.course_file(course.slug, f"{stem}{suffix}")
            files[kind] = f"{stem}{suffix}"
    return files


def _chapters(path: Path) -> list[dict[str, Any]]:
    """A Podcasting 2.0 chapters file as the player's chapters (title, start, end)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        return [
            {"title": str(c["title"]), "start": float(c["startTime"]), "end": float(c["endTime"])}
            for c in doc["chapters"]
        ]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("cannot read the chapters %s (%s)", path, exc)
        return []


def day_session(library: Library, course: Course, day: Day) -> Session:
    """The day as a session of the player: its own stem (for resume and history), its
    title, length, chapters and files (names inside the course folder)."""
    files = day_files(library, course, day)
    chapters = _chapters(course.folder / files["chapters"]) if "chapters" in files else []
    meta = {
        "title": day.title,
        "seconds": day.seconds,
        "chapters": chapters,
        "summary": day.summary,
        "practice": day.practice,
        "language": course.language,
    }
    return Session(f"course-{course.slug}-{day.number}", meta, day.audio, files)


def day_cues(course: Course, session: Session) -> list[Cue]:
    """The day's words, from its WebVTT sidecar (none without one)."""
    if "vtt" not in session.files:
        return []
    try:
        return parse_vtt((course.folder / session.files["vtt"]).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("cannot read %s (%s)", session.files["vtt"], exc)
        return []


def kept_names(library: Library, course: Course, day: Day) -> list[str]:
    """The names of the day's files that "Keep offline" keeps (``KEPT_KINDS``)."""
    files = day_files(library, course, day)
    return [files[kind] for kind in KEPT_KINDS if kind in files]


def course_title(library: Library, slug: str) -> str | None:
    """The title the database gives course ``slug``, else the first heading of its
    ``index.md`` (a static copy, ``web.site``, has no database); None without either."""
    rows = library.db.courses() if library.db is not None else []
    title = next((str(row["title"]) for row in rows if row["slug"] == slug), None)
    if title is None:
        with contextlib.suppress(NotInLibrary):
            title = _index_heading(library.course_folder(slug) / "index.md")
    return title


def _index_heading(index: Path) -> str | None:
    with contextlib.suppress(OSError, UnicodeDecodeError):
        for line in index.read_text(encoding="utf-8").splitlines():
            if line.startswith("# "):
                return line[2:].strip() or None
    return None


def library_courses(library: Library) -> list[tuple[str, str, float]]:
    """Every course of the library as (slug, title, built when), oldest first."""
    if library.db is not None:
        rows = [
            (str(r["slug"]), str(r["title"]), float(r["created"])) for r in library.db.courses()
        ]
    elif library.courses.is_dir():
        rows = [
            (p.name, _index_heading(p / "index.md") or p.name, p.stat().st_mtime)
            for p in library.courses.iterdir()
            if p.is_dir()
        ]
    else:
        rows = []
    return sorted(rows, key=lambda row: row[2])


def size_bytes(course: Course, names: list[str]) -> int:
    """The bytes of ``names`` in the course folder (a file gone counts nothing)."""
    total = 0
    for name in names:
        with contextlib.suppress(OSError):
            total += (course.folder / name).stat().st_size
    return total


def size_text(size: int) -> str:
    """Bytes as a phone's storage settings say them: "2.9 MB", "840 KB"."""
    if size >= 1_000_000:
        return f"{size / 1e6:.1f} MB"
    return f"{max(1, round(size / 1000))} KB"


def course_episodes(library: Library) -> list[Episode]:
    """Every course's days as podcast episodes (``episodes``)."""
    found: list[Episode] = []
    for slug, title, created in library_courses(library):
        with contextlib.suppress(NotInLibrary):
            found += episodes(load_course(library, slug, title), created)
    return found


def episodes(course: Course, created: float) -> list[Episode]:
    """The course's days as podcast episodes, in order: numbered, named "course · day",
    dated a second apart from when the course was built (an app lists day 1 first)."""
    from datetime import datetime, timezone

    from kindvoice.publish.feed import MIME_TYPES, Episode

    found = []
    for day in course.days:
        path = course.folder / day.audio
        if path.suffix.lower() not in MIME_TYPES:
            continue
        with contextlib.suppress(OSError):
            found.append(
                Episode(
                    path=path,
                    title=f"{course.title} · {day.title}",
                    summary=day.summary,
                    seconds=day.seconds,
                    practice_id=day.practice,
                    track=day.number,
                    size_bytes=path.stat().st_size,
                    published=datetime.fromtimestamp(created + day.number, timezone.utc),
                    language=course.language,
                    folder=f"courses/{course.slug}/",
                )
            )
    return found
