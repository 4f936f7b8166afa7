"""A course's days as the listener plays them: each day in the session player
(``routes.sessions.player``: transcript, chapters, resume, Keep offline, history,
lock-screen metadata and artwork), its transcript as text, and the course's files as the
podcast feed links them (``/feed/<token>/courses/<slug>/<name>``, the token checked by
the guard like the feed's own, ``web.app.FEED_ENDPOINTS``). The course page itself and
its files are ``routes.sessions``' (``course_result``, ``course_file``)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, url_for

from kindvoice.web.courses import Course, Day, course_title, day_cues, day_session, load_course
from kindvoice.web.routes.sessions import player, send_path, transcript_response
from kindvoice.web.sessions import NotInLibrary
from kindvoice.web.state import NotFound, current

bp = Blueprint("courses", __name__)


def _day(slug: str, number: int) -> tuple[Course, Day]:
    """Course ``slug`` and its day ``number``; the 404 page when either is missing."""
    library = current().library
    try:
        course = load_course(library, slug, course_title(library, slug))
        return course, course.day(number)
    except NotInLibrary:
        raise NotFound(f"No day {number} in a course '{slug}' of the library.") from None


@bp.get("/courses/<slug>/days/<int:number>")
def day_page(slug: str, number: int) -> str:
    course, day = _day(slug, number)
    session = day_session(current().library, course, day)

    def file_url(name: str, download: int = 0) -> str:
        if download:
            return url_for("sessions.course_file", slug=slug, name=name, download=1)
        return url_for("sessions.course_file", slug=slug, name=name)

    return player(
        session,
        day_cues(course, session),
        course.folder,
        nav="courses",
        course=course,
        day=day,
        file_url=file_url,
        page_url=url_for("courses.day_page", slug=slug, number=number),
        transcript_url=url_for("courses.day_transcript", slug=slug, number=number),
    )


@bp.get("/courses/<slug>/days/<int:number>/transcript.txt")
def day_transcript(slug: str, number: int) -> Response:
    course, day = _day(slug, number)
    session = day_session(current().library, course, day)
    return transcript_response(session.title, day_cues(course, session), session.stem)


@bp.get("/feed/<key>/courses/<slug>/<name>")
def feed_file(key: str, slug: str, name: str) -> Response:
    """A course's file as the feed links it: an episode or one of its sidecars."""
    try:
        path = current().library.course_file(slug, name)
    except NotInLibrary:
        abort(404, "No such file in that course.")
    return send_path(path)
