"""What the library holds, as pages and files: the session list (with both links' QR
codes for the teacher), the player, renaming and deleting a session ("render again" goes
to the Build form with its settings), the library's files and preview clips, the
uploaded templates' list, the courses' list, pages and files, and the library as a
podcast feed (``publish.feed``) at ``/feed/<token>/feed.xml``: a podcast app cannot keep
the page's cookie, so the feed and its files carry either link's token in their path
(the guard checks it, ``web.app.FEED_ENDPOINTS``). Names
from requests go through ``web.sessions.Library``, which never reaches outside it; audio
is served with its format's mime type (``export.formats``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Response,
    abort,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from werkzeug.wrappers import Response as BaseResponse

from kindvoice.errors import UsageError
from kindvoice.export import formats
from kindvoice.web.links import links, qr_svg
from kindvoice.web.sessions import NotInLibrary, Session, playlist_tracks
from kindvoice.web.state import MAX_VARIABLE_CHARS, NotFound, current, is_teacher

bp = Blueprint("sessions", __name__)


@contextmanager
def _found(message: str) -> Iterator[None]:
    """A name the library does not hold becomes the 404 page saying ``message``."""
    try:
        yield
    except NotInLibrary:
        raise NotFound(message) from None


def _send(path: Path, download: bool = False) -> Response:
    """The file, with byte ranges; audio with its format's mime type (the system's table
    may not know .opus or .m4a), anything else with the one Flask guesses."""
    mime = formats.mime_type(path) or None
    return send_file(path, mimetype=mime, as_attachment=download, conditional=True)


def again_url(session: Session) -> str:
    """The Build form filled with the session's settings (``static/app.js`` sets the
    fields the page does not read itself from the address)."""
    form = session.meta.get("form") or [
        ("practice", str(session.meta.get("practice_field") or session.meta.get("practice", "")))
    ]
    return f"{url_for('pages.build_page')}?{urlencode([(str(k), str(v)) for k, v in form])}"


def _phone_links() -> dict[str, Any]:
    """Both links on the address this page was opened at, with their QR codes."""
    state = current()
    both = links(request.host_url, state.token, state.listener_token)
    host = request.host.rsplit(":", 1)[0].strip("[]")
    return {
        "teacher": both.teacher,
        "listener": both.listener,
        "teacher_qr": qr_svg(both.teacher, "QR code of the teacher's link"),
        "listener_qr": qr_svg(both.listener, "QR code of the listener's link"),
        "local": host in ("127.0.0.1", "localhost", "::1"),
    }


def feed_url() -> str:
    """The library's feed, on the listener's token (a link to share)."""
    return f"{request.host_url}feed/{current().listener_token}/feed.xml"


@bp.get("/sessions")
def sessions_page() -> str:
    library = current().library
    teacher = is_teacher()
    return render_template(
        "sessions.html",
        nav="sessions",
        sessions=library.sessions(),
        feed=feed_url(),
        folder=library.root if teacher else None,  # never a server path for listeners
        phone=_phone_links() if teacher else None,
        again_url=again_url,
    )


@bp.get("/api/sessions")
def sessions_api() -> Response:
    return jsonify(
        [
            {"stem": s.stem, "title": s.title, "seconds": s.seconds, "files": s.files}
            for s in current().library.sessions()
        ]
    )


@bp.get("/sessions/<stem>")
def player_page(stem: str) -> str:
    library = current().library
    with _found(f"No session '{stem}' in the library."):
        session = library.session(stem)
    return render_template(
        "player.html",
        nav="sessions",
        session=session,
        cues=library.cues(session),
        sizes={kind: library.file(name).stat().st_size for kind, name in session.files.items()},
    )


@bp.post("/sessions/<stem>/delete")
def delete_session(stem: str) -> BaseResponse:
    with _found(f"No session '{stem}' in the library."):
        current().library.delete(stem)
    return redirect(url_for("sessions.sessions_page"), code=303)


@bp.post("/sessions/<stem>/rename")
def rename_session(stem: str) -> BaseResponse:
    title = " ".join(request.form.get("title", "").split())
    if not title or len(title) > MAX_VARIABLE_CHARS:
        raise UsageError(f"A session's name: 1 to {MAX_VARIABLE_CHARS} characters; got {title!r}.")
    with _found(f"No session '{stem}' in the library."):
        current().library.rename(stem, title)
    return redirect(url_for("sessions.sessions_page") + f"#session-{stem}", code=303)


@bp.get("/feed/<key>/feed.xml")
def feed(key: str) -> Response:
    """The library's sessions as a private podcast feed (written by ``publish.feed``)."""
    from kindvoice.publish.feed import write_feed

    library = current().library
    if not library.sessions():
        raise NotFound("No sessions in the library yet: the feed starts with the first one.")
    base = f"{request.host_url}feed/{key}/"
    path = write_feed(library.root, base, "kindvoice: your sessions", private=True)
    return send_file(path, mimetype="application/rss+xml", max_age=0)


@bp.get("/feed/<key>/<name>")
def feed_file(key: str, name: str) -> Response:
    """A file the feed links: an episode, its sidecars, or the channel's cover."""
    library = current().library
    try:
        path = library.root / "cover.jpg" if name == "cover.jpg" else library.file(name)
    except NotInLibrary:
        abort(404, "No such file in the library.")
    if not path.is_file():
        abort(404, "No such file in the library.")
    return _send(path)


@bp.get("/templates")
def templates_page() -> str:
    """The templates uploaded on the Write page, each with a link to render it."""
    db = current().db
    rows = db.templates() if db is not None else []
    return render_template("templates.html", nav="templates", templates=rows)


@bp.get("/courses")
def courses_page() -> str:
    """The courses built on the Course page."""
    db = current().db
    rows = db.courses() if db is not None else []
    return render_template("courses.html", nav="courses", courses=rows)


@bp.get("/files/<name>")
def library_file(name: str) -> Response:
    try:
        path = current().library.file(name)
    except NotInLibrary:
        abort(404, "No such file in the library.")
    return _send(path, bool(request.args.get("download")))


@bp.get("/previews/<name>")
def preview_file(name: str) -> Response:
    library = current().library
    try:
        path = library.file(name, library.previews)
    except NotInLibrary:
        abort(404, "No preview rendered yet.")
    return _send(path)


@bp.get("/courses/<slug>")
def course_result(slug: str) -> str:
    library = current().library
    with _found(f"No course '{slug}' in the library."):
        names = library.course_files(slug)
    tracks = playlist_tracks(library.course_folder(slug) / "playlist.m3u", names)
    return render_template(
        "course_result.html", nav="courses", slug=slug, tracks=tracks, names=names
    )


@bp.get("/courses/<slug>/<name>")
def course_file(slug: str, name: str) -> Response:
    try:
        path = current().library.course_file(slug, name)
    except NotInLibrary:
        abort(404, "No such file in that course.")
    return _send(path, bool(request.args.get("download")))
