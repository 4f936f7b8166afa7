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

import contextlib
import functools
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

from kindvoice.audio import s_to_samples
from kindvoice.durations import clock
from kindvoice.errors import NotFound
from kindvoice.export import formats
from kindvoice.web.links import links, qr_svg
from kindvoice.web.sessions import Cue, Library, NotInLibrary, Session
from kindvoice.web.state import checked_title, current, is_teacher

bp = Blueprint("sessions", __name__)


@contextmanager
def _found(message: str) -> Iterator[None]:
    """A name the library does not hold becomes the 404 page saying ``message``."""
    try:
        yield
    except NotInLibrary:
        raise NotFound(message) from None


def send_path(path: Path, download: bool = False) -> Response:
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
    pairs = [(str(k), str(v)) for k, v in form if k != "title"]
    if session.meta.get("name"):  # a session renamed (or named) keeps its name
        pairs.append(("title", str(session.meta["name"])))
    return f"{url_for('pages.build_page')}?{urlencode(pairs)}"


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
        # phones keep offline copies only from an https address (a secure context)
        "secure": request.is_secure,
    }


def feed_url() -> str:
    """The library's feed, on the listener's token (a link to share); in a static copy,
    the copy's own feed (empty when it has none)."""
    state = current()
    if state.static_copy is not None:
        return state.static_copy.feed
    return f"{request.host_url}feed/{state.listener_token}/feed.xml"


def subscribe() -> dict[str, str] | None:
    """How a phone subscribes to the feed: the ``podcast://`` address that opens the
    phone's podcast app, the feed's address to copy, and its QR code (None: no feed)."""
    url = feed_url()
    if not url:
        return None
    return {
        "url": url,
        "app": "podcast://" + url.split("://", 1)[1],
        "qr": qr_svg(url, "QR code of the podcast feed"),
    }


@bp.get("/sessions")
def sessions_page() -> str:
    library = current().library
    teacher = is_teacher()
    return render_template(
        "sessions.html",
        nav="sessions",
        sessions=library.sessions(),
        feed=subscribe(),
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


def player(session: Session, cues: list[Cue], folder: Path, **context: Any) -> str:
    """The player page of ``session`` (whose files are in ``folder``): ``context`` gives
    ``file_url(name, download=0)``, ``page_url`` and ``transcript_url`` (and, for a
    course's day, ``course`` and ``day``)."""
    sizes = {kind: (folder / name).stat().st_size for kind, name in session.files.items()}
    return render_template(
        "player.html",
        session=session,
        cues=cues,
        sizes=sizes,
        **{"nav": "sessions", "course": None, **context},
    )


def transcript_response(title: str, cues: list[Cue], name: str) -> Response:
    """The words as plain text, one line each with its time: the transcript a listener
    keeps (the timed caption files are the teacher's downloads)."""
    lines = [title, ""] + [f"{clock(s_to_samples(cue.start_s))}  {cue.text}" for cue in cues]
    response = Response("\n".join(lines) + "\n", mimetype="text/plain")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.txt"'
    return response


@bp.get("/sessions/<stem>")
def player_page(stem: str) -> str:
    library = current().library
    with _found(f"No session '{stem}' in the library."):
        session = library.session(stem)

    def file_url(name: str, download: int = 0) -> str:
        if download:
            return url_for("sessions.library_file", name=name, download=1)
        return url_for("sessions.library_file", name=name)

    return player(
        session,
        library.cues(session),
        library.root,
        file_url=file_url,
        page_url=url_for("sessions.player_page", stem=stem),
        transcript_url=url_for("sessions.transcript_text", stem=stem),
    )


@bp.get("/sessions/<stem>/transcript.txt")
def transcript_text(stem: str) -> Response:
    library = current().library
    with _found(f"No session '{stem}' in the library."):
        session = library.session(stem)
    return transcript_response(session.title, library.cues(session), stem)


@bp.post("/sessions/<stem>/delete")
def delete_session(stem: str) -> BaseResponse:
    with _found(f"No session '{stem}' in the library."):
        current().library.delete(stem)
    return redirect(url_for("sessions.sessions_page"), code=303)


@bp.post("/sessions/<stem>/rename")
def rename_session(stem: str) -> BaseResponse:
    title = checked_title(request.form.get("title", ""), "A session's name")
    with _found(f"No session '{stem}' in the library."):
        current().library.rename(stem, title)
    return redirect(url_for("sessions.sessions_page") + f"#session-{stem}", code=303)


#: the library feed's title
FEED_TITLE = "kindvoice: your sessions"


def library_feed(library: Library, base_url: str) -> bytes:
    """The library's sessions as a private podcast feed, built for this request in
    memory (``publish.feed.feed_xml``): each session under its name in the library, dated
    when it was rendered, in its own language, and every course's days in order
    (``web.courses.episodes``). No sessions: a valid feed with no episode (a class can
    subscribe before the first session)."""
    from datetime import datetime, timezone

    from kindvoice.publish.feed import MIME_TYPES, Episode, feed_xml
    from kindvoice.web.courses import course_episodes

    episodes = []
    for session in library.sessions():
        path = library.root / session.audio
        if path.suffix.lower() not in MIME_TYPES:
            continue
        with contextlib.suppress(OSError):
            meta = session.meta
            created = float(meta.get("created", 0.0) or path.stat().st_mtime)
            episode = Episode(
                path=path,
                title=session.title,
                summary=str(meta.get("summary", "") or ""),
                seconds=session.seconds,
                practice_id=str(meta.get("practice", "") or ""),
                track=None,
                size_bytes=path.stat().st_size,
                published=datetime.fromtimestamp(created, timezone.utc),
                language=str(meta.get("language", "") or "") or None,
            )
            episodes.append(episode)
    episodes += course_episodes(library)
    spoken = {e.language or "en" for e in episodes}
    language = spoken.pop() if len(spoken) == 1 else "en"
    return feed_xml(episodes, base_url, FEED_TITLE, private=True, language=language)


@bp.get("/feed/<key>/feed.xml")
def feed(key: str) -> Response:
    """The library as a private podcast feed. Its links carry the listener's token
    whoever asks (a feed passed on never gives the teacher's rights)."""
    state = current()
    base = f"{request.host_url}feed/{state.listener_token}/"
    body = library_feed(state.library, base)
    response = Response(body, mimetype="application/rss+xml")
    response.cache_control.max_age = 0
    return response


@bp.get("/feed/<key>/<name>")
def feed_file(key: str, name: str) -> Response:
    """A file the feed links: an episode, its sidecars, or the channel's cover (the
    library's own ``cover.jpg`` when there is one, else made in memory)."""
    library = current().library
    if name == "cover.jpg" and not (library.root / name).is_file():
        return Response(_generated_cover(len(library.sessions())), mimetype="image/jpeg")
    try:
        path = library.root / "cover.jpg" if name == "cover.jpg" else library.file(name)
    except NotInLibrary:
        abort(404, "No such file in the library.")
    if not path.is_file():
        abort(404, "No such file in the library.")
    return send_path(path)


@functools.lru_cache(maxsize=4)
def _generated_cover(count: int) -> bytes:
    from kindvoice.publish.feed import channel_cover

    return channel_cover(FEED_TITLE, count)


@bp.get("/templates")
def templates_page() -> str:
    """The templates uploaded on the Write page, each with a link to render it."""
    db = current().db
    rows = db.templates() if db is not None else []
    return render_template("templates.html", nav="templates", templates=rows)


def _template(digest: str) -> dict[str, Any]:
    """The uploaded template ``digest`` as listed; the 404 page when there is none."""
    db = current().db
    row = db.template(digest) if db is not None else None
    if row is None:
        raise NotFound("No such template in your templates (deleted?).")
    return row


@bp.post("/templates/<digest>/rename")
def rename_template(digest: str) -> BaseResponse:
    _template(digest)
    title = checked_title(request.form.get("title", ""), "A template's name")
    current().db.rename_template(digest, title)  # type: ignore[union-attr]
    return redirect(url_for("sessions.templates_page") + f"#template-{digest}", code=303)


@bp.post("/templates/<digest>/delete")
def delete_template(digest: str) -> BaseResponse:
    """Forget an uploaded template and delete its file (its sessions stay)."""
    _template(digest)
    state = current()
    state.db.delete_template(digest)  # type: ignore[union-attr]
    with contextlib.suppress(NotInLibrary):
        state.library.upload_path(digest).unlink(missing_ok=True)
    return redirect(url_for("sessions.templates_page"), code=303)


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
    return send_path(path, bool(request.args.get("download")))


@bp.get("/previews/<name>")
def preview_file(name: str) -> Response:
    library = current().library
    try:
        path = library.file(name, library.previews)
    except NotInLibrary:
        abort(404, "No preview rendered yet.")
    return send_path(path)


@bp.get("/courses/<slug>")
def course_result(slug: str) -> str:
    """A course: its days in order, each opening the player, the whole course to keep
    offline in one tap (its size said first), and where its days are in the feed."""
    from kindvoice.web.courses import (
        course_title,
        kept_names,
        load_course,
        size_bytes,
        size_text,
    )

    library = current().library
    with _found(f"No course '{slug}' in the library."):
        course = load_course(library, slug, course_title(library, slug))
        names = library.course_files(slug)
    files = [url_for("sessions.course_result", slug=slug)]
    kept: list[str] = []
    for day in course.days:
        files.append(url_for("courses.day_page", slug=slug, number=day.number))
        kept += kept_names(library, course, day)
    files += [url_for("sessions.course_file", slug=slug, name=name) for name in kept]
    size = size_bytes(course, kept)
    return render_template(
        "course_result.html",
        nav="courses",
        course=course,
        names=names,
        offline={"files": files, "bytes": size, "size": size_text(size)},
        feed=subscribe(),
    )


@bp.get("/courses/<slug>/<name>")
def course_file(slug: str, name: str) -> Response:
    try:
        path = current().library.course_file(slug, name)
    except NotInLibrary:
        abort(404, "No such file in that course.")
    return send_path(path, bool(request.args.get("download")))
