"""The pages a course folder carries beside its audio: the M3U playlist, the index page
(``index.md``, and ``index.html`` from the Jinja template ``templates/course_index.html``,
every value escaped by Jinja's autoescape) and ``course.json``, the course as data (its
title, teacher, language and each session's title, summary, length and file), which the
web page reads to play each day like a session (``web.courses``)."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from typing import Any

from kindvoice.languages import find_language
from kindvoice.publish.course_model import PLAYLIST, CoursePlan, Session

#: bump when ``course.json`` changes shape (a reader ignores versions it does not know)
MANIFEST_VERSION = 1


@functools.cache
def _environment() -> Any:
    import jinja2

    loader = jinja2.PackageLoader("kindvoice.publish", "templates")
    return jinja2.Environment(loader=loader, autoescape=True, keep_trailing_newline=True)


def playlist_text(plan: CoursePlan, sessions: Sequence[Session], seconds: Sequence[int]) -> str:
    """An extended M3U playlist (UTF-8) of the sessions, by relative file name. Titles
    are folded to one line (str.split breaks at every Unicode line break): a line break
    in one would add an entry to the playlist."""
    out = ["#EXTM3U", "#PLAYLIST:" + " ".join(plan.title.split())]
    for session, length in zip(sessions, seconds, strict=True):
        out.append(f"#EXTINF:{length}," + " ".join(f"{plan.teacher} - {session.title}".split()))
        out.append(session.file_name)
    return "\n".join(out) + "\n"


def index_markdown(plan: CoursePlan, sessions: Sequence[Session], feed: str | None) -> str:
    """A README-style page listing the sessions."""
    span = f"{sessions[0].minutes} to {sessions[-1].minutes} minutes"
    out = [f"# {plan.title}", "", f"A course by {plan.teacher}: {len(sessions)} sessions, {span}."]
    if plan.description:
        out += ["", plan.description]
    if feed:
        out += ["", f"Subscribe in a podcast app: <{feed}>"]
    out += ["", "| # | Session | Length | File |", "| --- | --- | --- | --- |"]
    for s in sessions:
        name = s.title.replace("|", "\\|")
        out.append(f"| {s.number} | {name} | {s.minutes} min | [{s.file_name}]({s.file_name}) |")
    out += ["", f"Playlist: [{PLAYLIST}]({PLAYLIST}). Stop whenever you need to."]
    return "\n".join(out) + "\n"


def index_html(plan: CoursePlan, sessions: Sequence[Session], feed: str | None) -> str:
    """The same page as HTML (``templates/course_index.html``), with its style inline so
    the folder works anywhere (``publish.index_style``)."""
    from kindvoice.publish.index_style import INDEX_CSS

    page: str = (
        _environment()
        .get_template("course_index.html")
        .render(
            plan=plan,
            sessions=sessions,
            feed=feed,
            css=INDEX_CSS,
            playlist=PLAYLIST,
            language=find_language(plan.language).code,
        )
    )
    return page


def manifest_json(plan: CoursePlan, sessions: Sequence[Session], seconds: Sequence[int]) -> str:
    """``course.json``: the course as the web page shows it, sessions in order."""
    doc = {
        "version": MANIFEST_VERSION,
        "title": plan.title,
        "teacher": plan.teacher,
        "description": plan.description,
        "unit": plan.unit,
        "language": find_language(plan.language).code,
        "sessions": [
            {
                "number": s.number,
                "title": s.title,
                "summary": s.summary,
                "minutes": s.minutes,
                "seconds": length,
                "file": s.file_name,
                "practice": s.practice_id,
            }
            for s, length in zip(sessions, seconds, strict=True)
        ],
    }
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
