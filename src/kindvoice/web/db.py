"""The state of the web app that survives a restart: one SQLite file (standard library
``sqlite3``) in the data folder, and the two access tokens beside it.

``Database`` holds the sessions (title, practice, length, voice, background, variables,
language, created time, file and the form that made them), the templates uploaded on
the Write page, the courses and the job queue. The schema is versioned with
``PRAGMA user_version``: ``MIGRATIONS[n]`` takes a database from version ``n`` to
``n + 1``, each in one transaction, so an older file is brought up to date when opened
and nothing in it is lost.

``load_tokens`` keeps the teacher's and the listener's tokens in ``tokens.json`` (mode
0600): the links printed by ``kindvoice serve`` keep working after a restart until they
are rotated (``--new-token``) or set (``--token``).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kindvoice.errors import UsageError

log = logging.getLogger(__name__)

DB_NAME = "kindvoice.sqlite3"
TOKENS_NAME = "tokens.json"

#: ``MIGRATIONS[n]`` brings a database from ``user_version`` n to n + 1
MIGRATIONS: tuple[str, ...] = (
    # 1: the library's sessions and the uploaded templates
    """
    CREATE TABLE sessions (
        stem TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        practice TEXT NOT NULL DEFAULT '',
        seconds REAL NOT NULL DEFAULT 0,
        voice TEXT NOT NULL DEFAULT '',
        background TEXT NOT NULL DEFAULT '',
        variables TEXT NOT NULL DEFAULT '{}',
        language TEXT NOT NULL DEFAULT '',
        created REAL NOT NULL,
        file TEXT NOT NULL
    );
    CREATE TABLE templates (
        digest TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        text TEXT NOT NULL,
        created REAL NOT NULL
    );
    """,
    # 2: courses, the job queue, and the form each session came from (render again)
    """
    CREATE TABLE courses (
        slug TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        created REAL NOT NULL
    );
    CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        title TEXT NOT NULL,
        status TEXT NOT NULL,
        message TEXT NOT NULL DEFAULT '',
        result TEXT,
        created REAL NOT NULL,
        seconds REAL,
        form TEXT NOT NULL DEFAULT '[]'
    );
    ALTER TABLE sessions ADD COLUMN form TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE sessions ADD COLUMN format TEXT NOT NULL DEFAULT '';
    """,
)
VERSION = len(MIGRATIONS)
#: job states that a restart cuts short
UNFINISHED = ("waiting", "running")


def migrate(connection: sqlite3.Connection) -> int:
    """Apply the migrations the database lacks; returns the version it was at."""
    found = int(connection.execute("PRAGMA user_version").fetchone()[0])
    if found > VERSION:
        raise UsageError(
            f"The database is from a newer kindvoice (schema {found}, this one knows "
            f"{VERSION}): upgrade kindvoice."
        )
    for version in range(found, VERSION):
        with connection:  # one transaction per step (executescript commits first)
            connection.executescript(
                f"BEGIN; {MIGRATIONS[version]}; PRAGMA user_version = {version + 1}; COMMIT;"
            )
        log.info("database migrated to schema %d", version + 1)
    return found


def _check_usable(connection: sqlite3.Connection) -> None:
    """Raise sqlite3.DatabaseError unless the database reads whole and can be written:
    found at start-up, not as a 500 on the listener's page or a failed render later."""
    result = connection.execute("PRAGMA quick_check").fetchone()[0]
    if result != "ok":
        raise sqlite3.DatabaseError(f"database disk image is malformed ({result})")
    with connection:  # a write that changes nothing: a read-only file or folder fails here
        connection.execute("PRAGMA user_version = " + str(VERSION))


class Database:
    """The app's SQLite file; one connection shared by the request and job threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(
                f"Cannot make the data folder {path.parent}: {exc.strerror or exc}. Choose "
                "a folder you can write with --library."
            ) from None
        if path.is_dir():
            raise UsageError(
                f"The database {path} is a folder: move it away to start a new database."
            )
        fresh = not path.exists()
        try:
            self._db = sqlite3.connect(path, check_same_thread=False, timeout=30)
        except sqlite3.Error as exc:
            raise UsageError(
                f"Cannot open the database {path}: {exc}. Check that its folder can be "
                "written, or choose another with --library."
            ) from None
        self._db.row_factory = sqlite3.Row
        try:
            if fresh:
                os.chmod(path, 0o600)
            self.found_version = migrate(self._db)
            _check_usable(self._db)
        except (sqlite3.DatabaseError, OSError) as exc:
            self._db.close()
            if isinstance(exc, (sqlite3.OperationalError, OSError)):
                # a read-only file or folder, a full disk: the file itself may be fine
                raise UsageError(
                    f"Cannot write the database {path}: {exc}. Check that it and its "
                    "folder can be written, or choose another folder with --library."
                ) from None
            raise UsageError(
                f"Cannot open the database {path}: {exc}. Move the file away to start a new "
                "one (the sessions on disk are imported again)."
            ) from None

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _run(self, sql: str, args: tuple[Any, ...] = ()) -> int:
        with self._lock, self._db:
            return self._db.execute(sql, args).rowcount

    def _all(self, sql: str, args: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(row) for row in self._db.execute(sql, args).fetchall()]

    # ------------------------------------------------------------ sessions

    def put_session(self, stem: str, meta: dict[str, Any]) -> None:
        """Record (or update) session ``stem`` from its meta (``web.renders``' fields)."""
        self._run(
            "INSERT OR REPLACE INTO sessions (stem, title, practice, seconds, voice, "
            "background, variables, language, created, file, form, format) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                stem,
                str(meta.get("title", stem)),
                str(meta.get("practice", "")),
                float(meta.get("seconds", 0.0)),
                str(meta.get("voice", "") or ""),
                str(meta.get("background", "") or "none"),
                json.dumps(meta.get("variables", {}) or {}),
                str(meta.get("language", "") or ""),
                float(meta.get("created", 0.0) or time.time()),
                str(meta.get("audio", "")),
                json.dumps(meta.get("form", []) or []),
                str(meta.get("format", "") or ""),
            ),
        )

    def sessions(self) -> list[dict[str, Any]]:
        """Every session recorded, newest first (``variables`` and ``form`` decoded)."""
        return [_decoded(row) for row in self._all("SELECT * FROM sessions ORDER BY created DESC")]

    def session(self, stem: str) -> dict[str, Any] | None:
        rows = self._all("SELECT * FROM sessions WHERE stem = ?", (stem,))
        return _decoded(rows[0]) if rows else None

    def stems(self) -> set[str]:
        return {row["stem"] for row in self._all("SELECT stem FROM sessions")}

    def rename_session(self, stem: str, title: str) -> bool:
        return self._run("UPDATE sessions SET title = ? WHERE stem = ?", (title, stem)) > 0

    def delete_session(self, stem: str) -> None:
        self._run("DELETE FROM sessions WHERE stem = ?", (stem,))

    # ------------------------------------------------------------ templates, courses

    def put_template(self, digest: str, name: str, text: str) -> None:
        self._run(
            "INSERT OR IGNORE INTO templates (digest, name, text, created) VALUES (?, ?, ?, ?)",
            (digest, name, text, time.time()),
        )

    def templates(self) -> list[dict[str, Any]]:
        return self._all("SELECT digest, name, created FROM templates ORDER BY created DESC")

    def template(self, digest: str) -> dict[str, Any] | None:
        rows = self._all("SELECT * FROM templates WHERE digest = ?", (digest,))
        return rows[0] if rows else None

    def rename_template(self, digest: str, name: str) -> bool:
        return self._run("UPDATE templates SET name = ? WHERE digest = ?", (name, digest)) > 0

    def delete_template(self, digest: str) -> bool:
        return self._run("DELETE FROM templates WHERE digest = ?", (digest,)) > 0

    def put_course(self, slug: str, title: str, created: float | None = None) -> None:
        self._run(
            "INSERT OR IGNORE INTO courses (slug, title, created) VALUES (?, ?, ?)",
            (slug, title, created or time.time()),
        )

    def courses(self) -> list[dict[str, Any]]:
        return self._all("SELECT slug, title, created FROM courses ORDER BY created DESC")

    # ------------------------------------------------------------ jobs

    def put_job(self, row: dict[str, Any]) -> None:
        """Record a new job (``id kind title status message result created seconds form``)."""
        self._run(
            "INSERT OR REPLACE INTO jobs (id, kind, title, status, message, result, created, "
            "seconds, form) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                row["id"],
                row["kind"],
                row["title"],
                row["status"],
                row.get("message", ""),
                row.get("result"),
                row["created"],
                row.get("seconds"),
                json.dumps(row.get("form", [])),
            ),
        )

    def update_job(
        self, job_id: str, status: str, message: str, result: str | None, seconds: float | None
    ) -> None:
        """A job's new state; a job another server start declared interrupted stays so."""
        self._run(
            "UPDATE jobs SET status = ?, message = ?, result = ?, seconds = ? "
            "WHERE id = ? AND status != 'interrupted'",
            (status, message, result, seconds, job_id),
        )

    def job(self, job_id: str) -> dict[str, Any] | None:
        rows = self._all("SELECT * FROM jobs WHERE id = ?", (job_id,))
        if not rows:
            return None
        row = rows[0]
        row["form"] = json.loads(row["form"])
        return row

    def forget_jobs(self, days: float = 30.0) -> int:
        """Forget the finished jobs older than ``days`` (their sessions stay)."""
        return self._run(
            "DELETE FROM jobs WHERE created < ? AND status NOT IN (?, ?)",
            (time.time() - days * 86400.0, *UNFINISHED),
        )

    def interrupt_unfinished(self) -> int:
        """Mark the jobs a stopped server left waiting or running as interrupted."""
        count = self._run(
            "UPDATE jobs SET status = 'interrupted', message = ? WHERE status IN (?, ?)",
            ("The server stopped before this render finished.", *UNFINISHED),
        )
        if count:
            log.info("%d render(s) were interrupted by a restart", count)
        return count


def _decoded(row: dict[str, Any]) -> dict[str, Any]:
    row["variables"] = json.loads(row["variables"])
    row["form"] = json.loads(row["form"])
    return row


# --------------------------------------------------------------------------- tokens


@dataclass(frozen=True)
class Tokens:
    """The two access tokens: the teacher's (everything) and the listener's (read only)."""

    teacher: str
    listener: str


def load_tokens(folder: Path, teacher: str | None = None, rotate: bool = False) -> Tokens:
    """The tokens kept in ``folder/tokens.json`` (created, mode 0600, when missing).

    ``teacher``: use this teacher token from now on; ``rotate``: new tokens for both."""
    path = folder / TOKENS_NAME
    kept: dict[str, Any] = {}
    if path.is_file() and not rotate:
        try:
            kept = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            log.warning("cannot read %s; making new tokens", path)
        if not isinstance(kept, dict):
            log.warning("%s holds no tokens (not a mapping); making new tokens", path)
            kept = {}
        for role in ("teacher", "listener"):
            if kept.get(role) is not None and not valid_token(kept[role]):
                raise UsageError(
                    f"The {role}'s token in {path} must be {TOKEN_RULE}: fix it, or "
                    "start with --new-token for new links."
                )
    tokens = Tokens(
        teacher=teacher or str(kept.get("teacher") or secrets.token_urlsafe(18)),
        listener=str(kept.get("listener") or secrets.token_urlsafe(18)),
    )
    if tokens.teacher == tokens.listener:
        tokens = Tokens(tokens.teacher, secrets.token_urlsafe(18))
    try:
        if kept != {"teacher": tokens.teacher, "listener": tokens.listener}:
            folder.mkdir(parents=True, exist_ok=True)
            part = folder / f".{TOKENS_NAME}.part"
            fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump({"teacher": tokens.teacher, "listener": tokens.listener}, out)
            os.replace(part, path)
        os.chmod(path, 0o600)
    except OSError as exc:
        raise UsageError(
            f"Cannot write {path}: {exc.strerror or exc}. Check that the folder can be "
            "written, or choose another with --library."
        ) from None
    return tokens


#: what a token must be (``--token`` and tokens.json): long enough not to be guessed
TOKEN_RULE = "at least 16 letters, digits, '-' or '_'"


def valid_token(token: object) -> bool:
    """Whether ``token`` is a string of at least 16 letters, digits, '-' or '_'."""
    return (
        isinstance(token, str)
        and len(token) >= 16
        and token.replace("-", "").replace("_", "").isascii()
        and token.replace("-", "").replace("_", "").isalnum()
    )
