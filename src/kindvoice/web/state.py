"""What every route of the web app shares: the ``State`` (library, job queue, database,
the teacher's and the listener's tokens, caches) of the running app, ``is_teacher()``
(whether this request came with the teacher's rights), ``current()`` to reach it inside
a request, the ``NotFound`` error (a 404 page), and the limits the forms and guards
enforce.

The bottom of the web package: it imports nothing else of ``kindvoice.web`` but the
library folder and the job queue, so every area (pages, jobs, sessions, forms, voices)
can use it without importing each other.
"""

from __future__ import annotations

import importlib.util
import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import g

from kindvoice.errors import NotFound as NotFound  # lives in errors.py; web code imports it here
from kindvoice.errors import UsageError
from kindvoice.web.db import Database
from kindvoice.web.jobs import JobQueue
from kindvoice.web.renders import RangeCache
from kindvoice.web.sessions import Library

MAX_UPLOAD_BYTES = 1024 * 1024
#: a form's free text (a variable, a course title, a timer's welcome), in characters
MAX_VARIABLE_CHARS = 300
#: the practice field's prefix for a template uploaded on the Write page
UPLOAD_PREFIX = "upload:"
#: a title shown in lists (a session's or a template's name), in characters
MAX_TITLE_CHARS = 120
#: how much of a user's input an error message may repeat, in characters
MAX_ECHO_CHARS = 200
#: characters that turn the text around them (bidirectional embeddings, overrides and
#: isolates): "\u202eevil" shows as "live" and can make a name pose as another
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True)
class StaticCopy:
    """The app asked by ``kindvoice site`` for its static copy (``web.site``): every
    request is a listener's without a token; ``feed``: the copy's feed address (empty:
    no feed); ``nav``: the menu's entries that the copy holds (``base.html``'s keys)."""

    feed: str = ""
    nav: frozenset[str] = frozenset({"sessions", "history"})


@dataclass
class State:
    """What the routes share: the library, the queue, the tokens and caches. ``token`` is
    the teacher's (everything), ``listener_token`` the listener's (read and play only)."""

    library: Library
    jobs: JobQueue
    token: str
    require_token: bool
    templates_dir: Path | None
    ranges: RangeCache
    listener_token: str = ""
    db: Database | None = None
    cards: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    #: set when the app makes the static copy (``kindvoice site``), None when it serves
    static_copy: StaticCopy | None = None


def checked_title(text: str, what: str = "A name") -> str:
    """A title for a list (runs of white space made one space): 1 to ``MAX_TITLE_CHARS``
    characters, with no control, format-override or unassigned characters; UsageError
    naming ``what`` otherwise."""
    title = " ".join(text.split())
    if not title:
        raise UsageError(f"{what} cannot be empty.")
    if len(title) > MAX_TITLE_CHARS:
        raise UsageError(
            f"{what} is too long: {len(title):,} characters (at most {MAX_TITLE_CHARS})."
        )
    for char in title:
        if _BIDI_CONTROLS.match(char) or unicodedata.category(char) in ("Cc", "Cs", "Cn"):
            raise UsageError(
                f"{what} holds a character that is not text (U+{ord(char):04X}): remove it."
            )
    return title


def current() -> State:
    """The state of the app serving this request (set by the app's guard)."""
    state: State = g.kindvoice
    return state


def is_teacher() -> bool:
    """Whether this request has the teacher's rights (the guard sets ``g.role``)."""
    return bool(g.get("role") == "teacher")


def speech_workers() -> int:
    """Speech processes per render: the cores shared among the renders that may run at once."""
    return max(1, (os.cpu_count() or 1) // current().jobs.workers)


def course_available() -> bool:
    """Whether the course builder (``publish.course``) is installed."""
    try:
        return importlib.util.find_spec("kindvoice.publish.course") is not None
    except ModuleNotFoundError:
        return False
