"""The web application (``kindvoice serve``): ``create_app`` builds one app around a
library folder, a job queue and an access token, puts the guards and the error pages in
front, and registers the areas' blueprints (``BLUEPRINTS``):

- ``routes.pages``: the pages with forms (practices, Build, Write, Timer, Course);
- ``routes.jobs``: renders through the queue, the job page and its state;
- ``routes.sessions``: the library (session list, player, files, courses);
- ``routes.courses``: a course's days in the player, and its files in the feed;
- ``routes.recording``: the teacher's own voice, recorded phrase by phrase;
- ``voices``: the voice field's list and samples; ``pwa``: the phone app.

The forms are read and checked in ``forms``, the practices in ``practices``; what the
routes share is ``state``. Server-rendered pages (Jinja templates in ``templates/``) with
one small script (``static/app.js``) for the live parts.

The state that survives a restart (sessions, uploaded templates, courses, the job
queue) is in ``web.db``'s SQLite file in ``data_dir``, with the two tokens
(``tokens.json``, mode 0600): the teacher's link renders, uploads and deletes; the
listener's link lists, plays, downloads and previews, and nothing else.

Guards, all in ``_guard``:
- bound to loopback (no token required), the Host header must name the loopback, so a
  web page elsewhere cannot reach the app through DNS rebinding; a visitor without a
  token there is the teacher;
- bound beyond loopback, every request needs a token: ``?token=...`` once (it becomes
  a SameSite=Strict, HttpOnly cookie), then the cookie; anything else gets 403 (a page
  saying how to get the current link);
- the listener's token gets 403 on every route that writes or renders (every POST but
  ``LISTENER_POSTS``, and the forms' pages ``TEACHER_PAGES``);
- every POST carries its token in a form field or the ``X-Kindvoice-Token`` header, which
  another site cannot read, so cross-site form posts fail (CSRF);
- request bodies are limited to ``MAX_UPLOAD_BYTES`` (``BODY_LIMITS`` for a route that takes
  more; 413 beyond, saying that route's limit); uploaded templates are
  only parsed (YAML safe_load) and stored as data; file names are checked by ``Library``.
"""

from __future__ import annotations

import hmac
import logging
import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, abort, g, jsonify, redirect, render_template, request
from flask_babel import gettext
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from kindvoice import errors
from kindvoice.audio import s_to_samples
from kindvoice.durations import clock
from kindvoice.errors import KindvoiceError
from kindvoice.publish.index_style import CSP_SOURCE as INDEX_STYLE
from kindvoice.web import i18n, lock, plain, pwa, recordings, shipped, voices
from kindvoice.web.db import DB_NAME, Database, load_tokens
from kindvoice.web.jobs import JobQueue
from kindvoice.web.renders import RangeCache
from kindvoice.web.routes import courses, jobs, pages, recording, sessions
from kindvoice.web.sessions import Library
from kindvoice.web.state import (
    MAX_ECHO_CHARS,
    MAX_UPLOAD_BYTES,
    State,
    StaticCopy,
    course_available,
)

log = logging.getLogger(__name__)

COOKIE = "kindvoice_token"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
#: the areas of the app, one blueprint each (``web.routes``, the voice field, the phone app)
BLUEPRINTS = (
    pages.bp,
    jobs.bp,
    sessions.bp,
    courses.bp,
    recording.bp,
    voices.bp,
    pwa.bp,
    shipped.bp,
)
#: the only posts a listener may make: a practice's preview clip (rendered once, kept)
LISTENER_POSTS = frozenset({"jobs.preview", "jobs.leave_job"})
#: the forms' pages (the Build slider's range costs CPU to measure) and the list of the
#: teacher's uploaded templates: the teacher's only
TEACHER_PAGES = frozenset(
    {"pages.build_page", "pages.write_page", "pages.timer_page", "pages.course_page"}
    | {"pages.feasible_range", "pages.write_starter", "pages.write_format"}
    | {"sessions.templates_page", "recording.record_page", "recording.progress"}
    | {"recording.take_audio"}
)
#: routes whose requests may be larger than ``MAX_UPLOAD_BYTES`` (set before the guard
#: reads a form's token; the 413 page says the limit of the route that refused)
BODY_LIMITS = {"recording.take": recordings.MAX_TAKE_BYTES}
#: the podcast feed and its files: the token is in their path (an app keeps no cookie)
FEED_ENDPOINTS = frozenset({"sessions.feed", "sessions.feed_file", "courses.feed_file"})
LISTENER_REFUSED = i18n.N_(
    "This is a listener's link: it plays, downloads and subscribes, but cannot render, "
    "upload, rename or delete. Ask the teacher for the teacher's link to do that."
)
EXPIRED = i18n.N_(
    "This access link is old or incomplete: ask your teacher for the current link, or scan "
    "its QR code again."
)
#: what anyone may open without a token: the page's style, scripts and icons (no data),
#: the practice history (its data never leaves the phone) and the language switch (a
#: cookie); shown without the menu
PUBLIC_ENDPOINTS = frozenset({"static", "pwa.history_page", "i18n.switch"})
#: the error pages' titles in plain words (others: the HTTP name)
ERROR_TITLES = {
    400: i18n.N_("That did not work"),
    404: i18n.N_("Not found"),
    405: i18n.N_("That is not possible here"),
    413: i18n.N_("That is too large"),
    429: i18n.N_("Too busy right now"),
    500: i18n.N_("Something went wrong"),
}


def create_app(
    library_dir: Path,
    *,
    require_token: bool = False,
    token: str | None = None,
    workers: int | None = None,
    queue_limit: int = 8,
    templates_dir: Path | None = None,
    data_dir: Path | None = None,
    new_token: bool = False,
    static_copy: StaticCopy | None = None,
) -> Flask:
    """The app for one library folder. ``require_token``: refuse every request without a
    token (use it whenever the server listens beyond loopback). ``data_dir`` (default: the
    library folder) keeps the database and the tokens; ``token`` sets the teacher's token,
    ``new_token`` makes new tokens for both links. ``static_copy``: the app that
    ``kindvoice site`` (``web.site``) asks for the listener's pages: it reads the library's
    files only (no lock, no database, no tokens), and every request is a listener's."""
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_UPLOAD_BYTES
    app.json.sort_keys = False  # type: ignore[attr-defined]
    if static_copy is not None:
        state = State(
            library=Library(library_dir),
            jobs=JobQueue(1, 1),
            token="",
            require_token=True,
            templates_dir=templates_dir,
            ranges=RangeCache(templates_dir),
            static_copy=static_copy,
        )
        return _finish(app, state)
    folder = data_dir or library_dir
    # one server per library: a second one (started by mistake) touches nothing
    held = lock.hold(library_dir, folder)
    try:
        db = Database(folder / DB_NAME)
    except BaseException:
        held.release()
        raise
    db.interrupt_unfinished()  # renders a previous server left behind (it is gone)
    db.forget_jobs()
    tokens = load_tokens(folder, token, rotate=new_token)
    jobs = JobQueue(workers, queue_limit, db)
    state = State(
        library=Library(library_dir, db),
        jobs=jobs,
        token=tokens.teacher,
        require_token=require_token,
        templates_dir=templates_dir,
        ranges=RangeCache(templates_dir),
        listener_token=tokens.listener,
        db=db,
    )
    app.extensions["kindvoice.lock"] = held
    return _finish(app, state)


def _finish(app: Flask, state: State) -> Flask:
    """The guards, headers, template helpers, error pages and blueprints around ``state``."""
    app.extensions["kindvoice"] = state
    i18n.init_app(app)
    app.jinja_env.globals.update(
        voice_words=plain.voice_words,
        background_words=plain.background_words,
        language_name=plain.language_name,
        language_label=plain.language_label,
        tag_words=plain.tag_words,
    )

    @app.before_request
    def load_state() -> BaseResponse | None:
        g.kindvoice = state
        if request.endpoint in BODY_LIMITS:
            request.max_content_length = BODY_LIMITS[request.endpoint]
        return _guard(state)

    @app.after_request
    def headers(response: Response) -> Response:
        if g.get("set_cookie"):
            response.set_cookie(
                COOKIE, g.set_cookie, httponly=True, samesite="Strict", max_age=365 * 24 * 3600
            )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"  # the token never leaks onwards
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data:; media-src 'self' blob:; "  # blob: a take
            f"style-src 'self' {INDEX_STYLE}; "  # a course's index.html: its own style only
            "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
        )
        return response

    @app.context_processor
    def common() -> dict[str, Any]:
        return {
            # only pages for requests that passed the guard carry the token (a 403 page never)
            "token": _role_token(state) if g.get("authorised") else "",
            "teacher": g.get("authorised", False) and g.get("role") == "teacher",
            # a visitor without a working link: no menu nor links that would refuse again
            "bare": not g.get("authorised", False),
            "course_available": course_available(),
            "static_copy": state.static_copy,  # kindvoice site: what the copy holds
        }

    @app.template_filter("clock")
    def clock_filter(seconds: float) -> str:
        """m:ss (h:mm:ss from an hour on) for the page."""
        return clock(s_to_samples(seconds))

    @app.template_filter("when")
    def when_filter(seconds: float, pattern: str = "%Y-%m-%d %H:%M") -> str:
        """A time stamp (seconds since the epoch) as this computer's local time."""
        return time.strftime(pattern, time.localtime(float(seconds)))

    _register_errors(app)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    return app


# --------------------------------------------------------------------------- guards


def _role_of(state: State, token: str) -> str | None:
    """ "teacher", "listener" or None for a token (compared in constant time)."""
    teacher = hmac.compare_digest(token.encode(), state.token.encode())
    listener = hmac.compare_digest(token.encode(), state.listener_token.encode())
    return "teacher" if teacher else "listener" if listener and token else None


def _role_token(state: State) -> str:
    return state.token if g.get("role") == "teacher" else state.listener_token


def _guard(state: State) -> BaseResponse | None:
    if state.static_copy is not None:  # kindvoice site: a listener, reading only
        g.role = "listener"
        if request.method != "GET" or request.endpoint in TEACHER_PAGES:
            abort(403, gettext(LISTENER_REFUSED))
        g.authorised = True
        return None
    host = (request.host or "").rsplit(":", 1)[0].strip("[]")
    if not state.require_token and host not in LOOPBACK_HOSTS:
        abort(403, gettext("This kindvoice only answers on this computer (open it at 127.0.0.1)."))
    if request.endpoint in FEED_ENDPOINTS:
        g.role = _role_of(state, str((request.view_args or {}).get("key", "")))
        if g.role is None or request.method not in ("GET", "HEAD"):
            abort(403, gettext(EXPIRED))
        g.authorised = True
        return None
    supplied = request.args.get("token")
    if supplied is not None:
        g.role = _role_of(state, supplied)
        if g.role is None:
            abort(403, gettext(EXPIRED))
        g.set_cookie = supplied
        if request.method == "GET":  # keep the token out of the address bar and history
            args = {k: v for k, v in request.args.items(multi=True) if k != "token"}
            path = request.path
            if g.role == "listener" and request.endpoint in TEACHER_PAGES | {"pages.index"}:
                path = "/sessions"  # a listener's link opens the library
            target = path + (f"?{urlencode(args)}" if args else "")
            return redirect(target, code=303)
    else:
        g.role = _role_of(state, request.cookies.get(COOKIE, ""))
        if g.role is None:
            if state.require_token and request.endpoint in PUBLIC_ENDPOINTS:
                return None  # served, but not authorised: a page without the menu
            if state.require_token:
                abort(403, gettext(EXPIRED))
            g.role = "teacher"  # on this computer only (loopback): its user
    if g.role == "listener":
        writes = request.method not in ("GET", "HEAD", "OPTIONS")
        if (writes and request.endpoint not in LISTENER_POSTS) or (
            request.endpoint in TEACHER_PAGES
        ):
            abort(403, gettext(LISTENER_REFUSED))
    if request.method == "POST":
        sent = request.headers.get("X-Kindvoice-Token") or request.form.get("token", "")
        if not hmac.compare_digest(sent.encode(), _role_token(state).encode()):
            abort(403, gettext("This form has expired (the server restarted?): reload the page."))
    g.authorised = True
    return None


# --------------------------------------------------------------------------- errors


def _wants_json() -> bool:
    return request.path.startswith("/api/")


_LONG_RUN = re.compile(rf"\S{{{MAX_ECHO_CHARS + 1},}}")


def _short(message: str) -> str:
    """An error message as a page shows it: a run of input longer than
    ``MAX_ECHO_CHARS`` is cut to that (a 900 KB name is never sent back), and the whole
    message to a few lines."""
    cut = _LONG_RUN.sub(lambda m: f"{m.group()[:MAX_ECHO_CHARS]}…", message)
    return cut if len(cut) <= 4 * MAX_ECHO_CHARS else f"{cut[: 4 * MAX_ECHO_CHARS]}…"


def _register_errors(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[Any, int]:
        code = exc.code or 500
        if code == 413:  # the limit of the route that refused
            limit = request.max_content_length or MAX_UPLOAD_BYTES
            size = f"{limit // 1024} KB" if limit < 2 * 2**20 else f"{limit // 2**20} MB"
            message = gettext("That is too large: this page takes at most %(size)s.", size=size)
        else:
            message = _short(exc.description or exc.name)
        if _wants_json():
            return jsonify(error=message), code
        title = ERROR_TITLES.get(code)
        name = gettext("This link cannot open this page") if code == 403 else exc.name
        name = gettext(title) if title else name
        return render_template("error.html", code=code, name=name, message=message), code

    @app.errorhandler(KindvoiceError)
    def kindvoice_error(exc: KindvoiceError) -> tuple[Any, int]:
        code = exc.http_status
        field = getattr(exc, "field", None)  # forms.FieldError: the page shows it by the field
        message = _short(exc.format_message())
        if _wants_json() or (field and request.accept_mimetypes.best == "application/json"):
            return jsonify(error=message, field=field), code
        page = render_template(
            "error.html", code=code, name=gettext("Cannot do that"), message=message
        )
        return page, code

    @app.errorhandler(Exception)
    def internal_error(exc: Exception) -> tuple[Any, int]:
        if (full := errors.disk_full(exc)) is not None:
            log.error("%s (on %s)", full.message, request.path)
            return kindvoice_error(full)
        log.exception("internal error on %s", request.path)
        message = _short(errors.internal_error(exc))
        if _wants_json():
            return jsonify(error=message), 500
        name = gettext("Something went wrong")
        return render_template("error.html", code=500, name=name, message=message), 500
