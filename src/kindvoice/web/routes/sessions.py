"""What the library holds, as pages and files: the session list, the player, deleting a
session, the library's files and preview clips, and a course's page and files. Names
from requests go through ``web.sessions.Library``, which never reaches outside it; audio
is served with its format's mime type (``export.formats``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

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

from kindvoice.export import formats
from kindvoice.web.sessions import NotInLibrary, playlist_tracks
from kindvoice.web.state import NotFound, current

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


@bp.get("/sessions")
def sessions_page() -> str:
    library = current().library
    return render_template(
        "sessions.html", nav="sessions", sessions=library.sessions(), folder=library.root
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
        "course_result.html", nav="course", slug=slug, tracks=tracks, names=names
    )


@bp.get("/courses/<slug>/<name>")
def course_file(slug: str, name: str) -> Response:
    try:
        path = current().library.course_file(slug, name)
    except NotInLibrary:
        abort(404, "No such file in that course.")
    return _send(path, bool(request.args.get("download")))
