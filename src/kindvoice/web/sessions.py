"""The library folder the web page renders into: sessions, previews, uploaded templates.

Layout (``--library DIR``)::

    DIR/<stem>.mp3             a rendered session (or any format of ``export.formats``)
    DIR/<stem>.vtt .srt ...    its sidecars (``export.sidecars``)
    DIR/<stem>.session.json    what the page knows about it: title, settings, chapters, cues
    DIR/previews/<id>.mp3      short preview clips, rendered on first request
    DIR/templates/<hash>.md    templates pasted or uploaded on the "Write" page
    DIR/courses/<slug>/        a course from the "Course" page: 01-<practice>.mp3 ...,
                               playlist.m3u, index.html, index.md (``publish.course``)

With a ``web.db.Database`` the library also records there what it holds (sessions,
uploaded templates, courses): the lists come from the database, and sessions or courses
found on disk but not recorded (rendered before the database existed) are imported when
the library opens, so no render is lost.

Every name that comes from a request goes through ``Library.file()``, which accepts only
plain names of known kinds and checks that the resolved path is inside the folder, so no
request can read or delete anything else.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import json
import logging
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kindvoice.export import formats
from kindvoice.export.outputs import stamp_path
from kindvoice.export.sidecars import SUFFIXES
from kindvoice.files import write_atomic
from kindvoice.owners import left_over
from kindvoice.web.db import Database

log = logging.getLogger(__name__)

META_SUFFIX = ".session.json"
#: a session's audio: every format the web page renders (``export.formats``)
AUDIO_SUFFIXES = formats.extensions("web")
#: every file a session may have, by the suffix after its stem
SESSION_SUFFIXES = (*AUDIO_SUFFIXES, *SUFFIXES.values(), META_SUFFIX)
_STEM = re.compile(r"[a-z0-9][a-z0-9-]{0,120}")
_UPLOAD = re.compile(r"[0-9a-f]{16}")
#: the files of a course folder the page may serve (audio, sidecars, playlist, index pages)
COURSE_SUFFIXES = (*formats.extensions(), *SUFFIXES.values(), ".m3u", ".html")
#: a template's front-matter title, for the list of uploaded templates
_TITLE = re.compile(r"^title:[ \t]*(.+)$", re.MULTILINE)
_VTT_TIME = re.compile(r"(?:(\d+):)?(\d{2}):(\d{2})\.(\d{3})")


class NotInLibrary(LookupError):
    """A name that is not a file of the library (unknown, or reaching outside it)."""


def _plain(name: str) -> bool:
    """Whether ``name`` is a plain file name: no folder, not hidden, no NUL (which no file
    name holds, and which the system calls refuse with an error)."""
    return bool(name) and "\x00" not in name and name == Path(name).name and name[0] != "."


def default_library() -> Path:
    """The default folder (``settings.default_library``: ``$KINDVOICE_LIBRARY`` or the
    platformdirs user data dir / "library"), shared with the recorded voices."""
    from kindvoice.settings import default_library as library

    return library()


@dataclass(frozen=True)
class Cue:
    """One line of the transcript: seconds from the start of the audio."""

    start_s: float
    end_s: float
    text: str


@dataclass(frozen=True)
class Session:
    """A rendered session as the library page and the player show it."""

    stem: str
    meta: dict[str, Any]
    audio: str  # the audio file's name
    files: dict[str, str]  # "audio", "vtt", "srt", "lrc", "chapters", "cover" -> file name

    @property
    def title(self) -> str:
        return str(self.meta.get("title", self.stem))

    @property
    def seconds(self) -> float:
        return float(self.meta.get("seconds", 0.0))

    @property
    def chapters(self) -> list[dict[str, Any]]:
        return list(self.meta.get("chapters", []))


def stem_for(practice_id: str, seconds: float) -> str:
    """A new file stem: ``self-compassion-break-7m00s-20250101-120000-3f9a``.

    No dots (sidecars replace the suffix) and only ``[a-z0-9-]``, so it is safe anywhere."""
    slug = re.sub(r"[^a-z0-9]+", "-", practice_id.lower()).strip("-")[:60] or "session"
    whole = round(seconds)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return f"{slug}-{whole // 60}m{whole % 60:02d}s-{stamp}-{secrets.token_hex(2)}"


def parse_vtt(text: str) -> list[Cue]:
    """The cues of a WebVTT file (as ``export.sidecars`` writes it), markup unescaped."""
    cues: list[Cue] = []
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n")):
        lines = block.strip().split("\n")
        for i, line in enumerate(lines):
            if "-->" not in line:
                continue
            start, _, end = line.partition("-->")
            spoken = " ".join(html.unescape(part.strip()) for part in lines[i + 1 :])
            cues.append(Cue(_vtt_seconds(start), _vtt_seconds(end.split()[0]), spoken))
            break
    return cues


def _vtt_seconds(text: str) -> float:
    match = _VTT_TIME.search(text)
    if match is None:
        raise ValueError(f"not a WebVTT time: {text!r}")
    h, m, s, ms = (int(g or 0) for g in match.groups())
    return h * 3600 + m * 60 + s + ms / 1000.0


def playlist_tracks(path: Path, names: list[str]) -> list[dict[str, Any]]:
    """The course's tracks from its M3U playlist: title, seconds and file, in order."""
    tracks: list[dict[str, Any]] = []
    info: tuple[float, str] | None = None
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
    for line in lines:
        if line.startswith("#EXTINF:"):
            seconds, _, title = line[len("#EXTINF:") :].partition(",")
            info = (float(seconds or 0), title)
        elif line and not line.startswith("#") and line in names:
            seconds_, title = info or (0.0, line)
            tracks.append({"title": title, "seconds": seconds_, "file": line})
            info = None
    return tracks


class Library:
    """The library folder; created on first use."""

    def __init__(self, root: Path, db: Database | None = None) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.db = db
        self.root = root.resolve()
        self.previews = self.root / "previews"
        self.templates = self.root / "templates"
        self.courses = self.root / "courses"
        # renders cut short (the server was stopped) leave their temporary files behind;
        # only those whose writer is gone go (another process may be writing the rest)
        for folder in (self.root, self.previews, self.templates):
            for stale in folder.glob(".*.part"):
                if left_over(stale):
                    with contextlib.suppress(OSError):
                        stale.unlink()
        if db is not None:
            self._import(db)

    def _import(self, db: Database) -> None:
        """Record the sessions and courses on disk that the database does not know."""
        known = db.stems()
        imported = 0
        for session in self._sessions_on_disk():
            if session.stem not in known:
                db.put_session(session.stem, session.meta)
                imported += 1
        known_courses = {row["slug"] for row in db.courses()}
        if self.courses.is_dir():
            for folder in sorted(self.courses.iterdir()):
                if folder.is_dir() and folder.name not in known_courses:
                    with contextlib.suppress(NotInLibrary):
                        self.course_folder(folder.name)
                        title = folder.name.rsplit("-", 3)[0].replace("-", " ").capitalize()
                        db.put_course(folder.name, title, folder.stat().st_mtime)
                        imported += 1
        if imported:
            log.info("imported %d session(s) and course(s) into the database", imported)

    # ------------------------------------------------------------ safe names

    def file(self, name: str, folder: Path | None = None) -> Path:
        """The path of library file ``name`` (a plain name in the root or ``folder``).

        Raises ``NotInLibrary`` for anything else: separators, ``..``, unknown kinds,
        symlinks that lead out, missing files."""
        base = (folder or self.root).resolve()
        if not _plain(name):
            raise NotInLibrary(name)
        if not name.endswith(SESSION_SUFFIXES):
            raise NotInLibrary(name)
        path = (base / name).resolve()
        if not path.is_relative_to(self.root) or path.parent != base or not path.is_file():
            raise NotInLibrary(name)
        return path

    def upload_path(self, digest: str) -> Path:
        """Where the uploaded template with this digest is kept (checked: 16 hex digits)."""
        if not _UPLOAD.fullmatch(digest):
            raise NotInLibrary(digest)
        return self.templates / f"{digest}.md"

    def save_upload(self, text: str, name: str = "") -> str:
        """Keep a validated template as data (``name``: its title, for the list);
        returns its digest (its name)."""
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
        self.templates.mkdir(exist_ok=True)
        path = self.upload_path(digest)
        if not path.exists():
            write_atomic(path, text)
        if self.db is not None:
            found = _TITLE.search(text)
            title = name or (found.group(1).strip().strip("'\"") if found else "")
            self.db.put_template(digest, title or f"Template {digest[:6]}", text)
        return digest

    def new_course_folder(self, title: str) -> Path:
        """A fresh folder for a course, ``courses/<slug>`` (created here)."""
        words = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60] or "course"
        slug = f"{words}-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"
        folder = self.course_folder(slug)
        folder.mkdir(parents=True)
        if self.db is not None:
            self.db.put_course(slug, title)
        return folder

    def course_folder(self, slug: str) -> Path:
        """The folder of course ``slug``; ``NotInLibrary`` for a bad name (checked like a
        session stem, and resolved inside ``courses/``)."""
        if not _STEM.fullmatch(slug):
            raise NotInLibrary(slug)
        folder = (self.courses / slug).resolve()
        if folder.parent != self.courses.resolve() or not folder.is_relative_to(self.root):
            raise NotInLibrary(slug)
        return folder

    def course_files(self, slug: str) -> list[str]:
        """The names of the servable files of course ``slug``, sorted."""
        folder = self.course_folder(slug)
        if not folder.is_dir():
            raise NotInLibrary(slug)
        return sorted(
            p.name
            for p in folder.iterdir()
            if p.is_file() and not p.name.startswith(".") and p.name.endswith(COURSE_SUFFIXES)
        )

    def course_file(self, slug: str, name: str) -> Path:
        """The path of file ``name`` of course ``slug``: only a plain name of a servable
        kind that resolves inside the course's folder; ``NotInLibrary`` otherwise."""
        folder = self.course_folder(slug)
        if not _plain(name):
            raise NotInLibrary(name)
        if not name.endswith(COURSE_SUFFIXES):
            raise NotInLibrary(name)
        path = (folder / name).resolve()
        if path.parent != folder or not path.is_file():
            raise NotInLibrary(name)
        return path

    # ------------------------------------------------------------ sessions

    def save_meta(self, stem: str, meta: dict[str, Any]) -> Path:
        path = write_atomic(self.root / f"{stem}{META_SUFFIX}", json.dumps(meta, indent=2) + "\n")
        if self.db is not None:
            self.db.put_session(stem, meta)
        return path

    def rename(self, stem: str, title: str) -> Session:
        """Give session ``stem`` a new title (its meta file and the database)."""
        session = self.session(stem)
        # "name": the title the teacher chose, which "render again" keeps
        self.save_meta(stem, {**session.meta, "title": title, "name": title})
        return self.session(stem)

    def session(self, stem: str) -> Session:
        """The session called ``stem``; ``NotInLibrary`` when there is none."""
        if not _STEM.fullmatch(stem):
            raise NotInLibrary(stem)
        meta_path = self.file(f"{stem}{META_SUFFIX}")
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise NotInLibrary(stem) from exc
        files = {
            kind: f"{stem}{suffix}"
            for kind, suffix in SUFFIXES.items()
            if (self.root / f"{stem}{suffix}").is_file()
        }
        audio = str(meta.get("audio", ""))
        self.file(audio)  # the audio must be there (and be a plain library name)
        files = {"audio": audio, **files}
        return Session(stem, meta, audio, files)

    def sessions(self) -> list[Session]:
        """Every session, newest first (as the database lists them, when there is one);
        broken ones and ones whose files are gone are skipped."""
        if self.db is None:
            return self._sessions_on_disk()
        found: list[Session] = []
        for row in self.db.sessions():
            with contextlib.suppress(NotInLibrary):
                found.append(self.session(row["stem"]))
        return found

    def _sessions_on_disk(self) -> list[Session]:
        found: list[Session] = []
        for path in self.root.glob(f"*{META_SUFFIX}"):
            with contextlib.suppress(NotInLibrary):
                found.append(self.session(path.name[: -len(META_SUFFIX)]))
        return sorted(found, key=lambda s: float(s.meta.get("created", 0)), reverse=True)

    def cues(self, session: Session) -> list[Cue]:
        """The transcript: from the .vtt sidecar if present, else the cues kept in the meta."""
        if "vtt" in session.files:
            try:
                text = self.file(session.files["vtt"]).read_text(encoding="utf-8")
                return parse_vtt(text)
            except (OSError, ValueError, NotInLibrary):
                log.warning("cannot read %s; using the kept timeline", session.files["vtt"])
        return [Cue(c["start"], c["end"], c["text"]) for c in session.meta.get("cues", [])]

    def delete(self, stem: str) -> list[str]:
        """Delete every file of session ``stem``; returns the names removed."""
        session = self.session(stem)
        removed = []
        for suffix in SESSION_SUFFIXES:
            with contextlib.suppress(NotInLibrary, FileNotFoundError):
                self.file(f"{session.stem}{suffix}").unlink()
                removed.append(f"{session.stem}{suffix}")
        stamp_path(self.root / session.audio).unlink(missing_ok=True)  # kindvoice's own note
        if self.db is not None:
            self.db.delete_session(session.stem)
        log.info("deleted %s", ", ".join(removed))
        return removed
