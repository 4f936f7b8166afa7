"""The web application (``kindvoice serve``): pages, the small JSON API, and the guards.

Server-rendered pages (Jinja templates in ``templates/``) with one small script
(``static/app.js``) for the live parts: the length slider's range, job progress, previews
and the player's chapters and transcript. ``create_app`` builds one app around a
library folder, a job queue and an access token.

Guards, all in ``_guard``:
- bound to loopback (no token required), the Host header must name the loopback, so a
  web page elsewhere cannot reach the app through DNS rebinding;
- bound beyond loopback, every request needs the token: ``?token=...`` once (it becomes
  a SameSite=Strict, HttpOnly cookie), then the cookie; anything else gets 403;
- every POST carries the token in a form field or the ``X-Kindvoice-Token`` header, which
  another site cannot read, so cross-site form posts fail (CSRF);
- request bodies are limited to ``MAX_UPLOAD_BYTES`` (413 beyond); uploaded templates are
  only parsed (YAML safe_load) and stored as data; file names are checked by ``Library``.
"""

from __future__ import annotations

import hmac
import importlib.util
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import (
    Flask,
    Response,
    abort,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from kindvoice.errors import (
    KindvoiceError,
    NotTranslatedError,
    TemplateError,
    UnknownNameError,
    UsageError,
)
from kindvoice.settings import (
    ExportSettings,
    MixSettings,
    RenderRequest,
    VoiceSettings,
    default_engine,
)
from kindvoice.web import pwa, renders, translations, voices
from kindvoice.web.jobs import JobQueue, Progress, QueueFull
from kindvoice.web.sessions import Library, NotInLibrary, playlist_tracks

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 1024 * 1024
COOKIE = "kindvoice_token"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
BITRATES_KBPS = (64, 96, 128, 160, 192, 256)
MAX_VARIABLE_CHARS = 300
UPLOAD_PREFIX = "upload:"
#: the Course form's upper bounds: days, minutes per session, practices to cycle
COURSE_LIMITS = {"days": 60, "minutes": 120, "practices": 20}


@dataclass
class State:
    """What the routes share: the library, the queue, the token and caches."""

    library: Library
    jobs: JobQueue
    token: str
    require_token: bool
    templates_dir: Path | None
    ranges: renders.RangeCache
    cards: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)


def _state() -> State:
    state: State = g.kindvoice
    return state


def create_app(
    library_dir: Path,
    *,
    require_token: bool = False,
    token: str | None = None,
    workers: int | None = None,
    queue_limit: int = 8,
    templates_dir: Path | None = None,
) -> Flask:
    """The app for one library folder. ``require_token``: refuse every request without the
    token (use it whenever the server listens beyond loopback)."""
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_UPLOAD_BYTES
    app.json.sort_keys = False  # type: ignore[attr-defined]
    jobs = JobQueue(workers, queue_limit)
    state = State(
        library=Library(library_dir),
        jobs=jobs,
        token=token or secrets.token_urlsafe(18),
        require_token=require_token,
        templates_dir=templates_dir,
        ranges=renders.RangeCache(templates_dir),
    )
    app.extensions["kindvoice"] = state

    @app.before_request
    def load_state() -> BaseResponse | None:
        g.kindvoice = state
        return _guard(state)

    @app.after_request
    def headers(response: Response) -> Response:
        if g.get("set_cookie"):
            response.set_cookie(
                COOKIE, state.token, httponly=True, samesite="Strict", max_age=30 * 24 * 3600
            )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"  # the token never leaks onwards
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data:; media-src 'self'; "
            "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
        )
        return response

    @app.context_processor
    def common() -> dict[str, Any]:
        return {
            # only pages for requests that passed the guard carry the token (a 403 page never)
            "token": state.token if g.get("authorised") else "",
            "course_available": _course_available(),
            "clock": clock_s,
        }

    @app.template_filter("clock")
    def clock_filter(seconds: float) -> str:
        return clock_s(seconds)

    _register_errors(app)
    _register_pages(app)
    _register_api(app)
    app.register_blueprint(voices.bp)
    app.register_blueprint(pwa.bp)
    return app


def clock_s(seconds: float) -> str:
    """m:ss (or h:mm:ss) for the page."""
    total = round(seconds)
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _course_available() -> bool:
    try:  # the publish package is another engineer's, and may not be there yet
        return importlib.util.find_spec("kindvoice.publish.course") is not None
    except ModuleNotFoundError:
        return False


# --------------------------------------------------------------------------- guards


def _guard(state: State) -> BaseResponse | None:
    host = (request.host or "").rsplit(":", 1)[0].strip("[]")
    if not state.require_token and host not in LOOPBACK_HOSTS:
        abort(403, "This kindvoice only answers on this computer (open it at 127.0.0.1).")
    supplied = request.args.get("token")
    has_cookie = hmac.compare_digest(request.cookies.get(COOKIE, ""), state.token)
    if state.require_token and not has_cookie:
        if supplied is None or not hmac.compare_digest(supplied, state.token):
            abort(
                403,
                "This page needs its access link: open the address with ?token=... "
                "that kindvoice printed when it started.",
            )
        g.set_cookie = True
        if request.method == "GET":  # keep the token out of the address bar and history
            args = {k: v for k, v in request.args.items(multi=True) if k != "token"}
            target = request.path + (f"?{urlencode(args)}" if args else "")
            return redirect(target, code=303)
    if request.method == "POST":
        sent = request.headers.get("X-Kindvoice-Token") or request.form.get("token", "")
        if not hmac.compare_digest(sent, state.token):
            abort(403, "This form has expired (the server restarted?): reload the page.")
    g.authorised = True
    return None


# --------------------------------------------------------------------------- errors


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _register_errors(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[Any, int]:
        code = exc.code or 500
        if code == 413:
            message = f"That is too large: uploads are limited to {MAX_UPLOAD_BYTES // 1024} KB."
        else:
            message = exc.description or exc.name
        if _wants_json():
            return jsonify(error=message), code
        return render_template("error.html", code=code, name=exc.name, message=message), code

    @app.errorhandler(KindvoiceError)
    def kindvoice_error(exc: KindvoiceError) -> tuple[Any, int]:
        code = 429 if isinstance(exc, QueueFull) else 404 if isinstance(exc, NotFound) else 400
        if _wants_json():
            return jsonify(error=exc.format_message()), code
        return render_template(
            "error.html", code=code, name="Cannot do that", message=exc.format_message()
        ), code

    @app.errorhandler(Exception)
    def internal_error(exc: Exception) -> tuple[Any, int]:
        log.exception("internal error on %s", request.path)
        message = f"Internal error: {type(exc).__name__}: {exc}"
        if _wants_json():
            return jsonify(error=message), 500
        return render_template("error.html", code=500, name="Internal error", message=message), 500


class NotFound(KindvoiceError):
    """A session, job or practice the page asked for that does not exist."""

    exit_code = 4


# --------------------------------------------------------------------------- helpers


def _practice(value: str, language: str | None = None) -> tuple[str, Path]:
    """A practice field -> (its value, its template file in ``language``, None: English).
    Only bundled or user practices by id, or templates uploaded to the library: never a
    path from the request."""
    state = _state()
    if value.startswith(UPLOAD_PREFIX):
        if language:
            raise UsageError("Your own template has no translations: choose English.")
        try:
            path = state.library.upload_path(value[len(UPLOAD_PREFIX) :])
        except NotInLibrary:
            raise NotFound(f"No uploaded template '{value}'.") from None
        if not path.is_file():
            raise NotFound(f"No uploaded template '{value}': paste it again on the Write page.")
        return value, path
    return value, translations.practice_file(value, language, state.templates_dir)


def _card(practice: str, path: Path) -> dict[str, Any]:
    """What a practice card and the build form show, cached per file version."""
    from kindvoice.template.parse import load_template

    state = _state()
    key = (str(path), path.stat().st_mtime_ns)
    if key not in state.cards:
        try:
            script = load_template(path)
        except KindvoiceError as exc:
            return {"id": practice, "title": practice, "broken": exc.format_message()}
        meta = script.meta
        state.cards[key] = {
            "id": practice,
            "meta_id": meta.id,
            "title": meta.title,
            "summary": meta.summary,
            "minutes": meta.minutes,
            "rate": meta.voice_rate or 1.0,
            "background": meta.background or "drone",
            "variables": meta.variables,
            "sections": [s.title for s in script.sections],
            "tags": meta.tags,
            "voice_engine": meta.voice_engine,
            "voice_name": meta.voice_name,
            "language": meta.language,
            "broken": None,
        }
    return state.cards[key]


def _cards() -> list[dict[str, Any]]:
    from kindvoice.template.library import list_practices

    return [_card(ref.id, ref.path) for ref in list_practices(_state().templates_dir)]


def _number(form: MultiDict[str, str], name: str, label: str, low: float, high: float) -> float:
    text = form.get(name, "").strip()
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"{label}: '{text}' is not a number.") from None
    if not low <= value <= high:
        raise UsageError(f"{label} must be between {low:g} and {high:g}; got {value:g}.")
    return value


def _choice(form: MultiDict[str, str], name: str, label: str, choices: list[str]) -> str:
    value = form.get(name, "").strip()
    if value not in choices:
        raise UnknownNameError(label, value, choices)
    return value


def _engines() -> list[dict[str, Any]]:
    from kindvoice.speech.base import engine_names

    labels = {
        "kokoro": "Kokoro: natural, warm (the default; slower)",
        "piper": "Piper: neural, fast",
        "pyttsx3": "espeak-ng: robotic, instant (drafts)",
    }
    installed = {"piper": importlib.util.find_spec("piper") is not None}
    return [
        {
            "name": name,
            "label": labels.get(name, name),
            "installed": installed.get(name, True),
            "default": name == default_engine(),
        }
        for name in sorted(engine_names(), key=lambda n: n != default_engine())
    ]


def _backgrounds() -> dict[str, str]:
    from kindvoice.sound.beds import background_descriptions

    return background_descriptions()


def _background_spec(form: MultiDict[str, str]) -> str | None:
    """Ticked layers with their levels -> ``"rain@-3+drone@-8"``; None: the practice's."""
    layers = []
    for name in _backgrounds():
        if form.get(f"bg_{name}"):
            level = _number(form, f"bg_{name}_db", f"The level of {name}", -30.0, 6.0)
            layers.append(name if level == 0 else f"{name}@{level:g}")
    if len(layers) > 1:
        layers = [layer for layer in layers if not layer.startswith("none")]
    return "+".join(layers) or None


def _formats() -> list[str]:
    from kindvoice.export.encode import FORMATS

    return list(FORMATS.values())


def _export(form: MultiDict[str, str]) -> tuple[str, ExportSettings]:
    """(format, export settings) from the format and quality fields."""
    fmt = _choice(form, "format", "format", _formats())
    mono = form.get("channels", "stereo") == "mono"
    bitrate = form.get("bitrate", "").strip()
    bitrate_kbps = None
    if fmt == "mp3" and bitrate:
        bitrate_kbps = int(_choice(form, "bitrate", "bitrate", [str(b) for b in BITRATES_KBPS]))
    return fmt, ExportSettings(mono=mono, bitrate_kbps=bitrate_kbps)


def _voice(form: MultiDict[str, str], card: dict[str, Any] | None = None) -> VoiceSettings:
    """Engine, voice (one the page offers: ``voices.checked``) and pace from a form."""
    engine = _choice(form, "engine", "engine", [e["name"] for e in _engines()])
    voice = voices.checked(engine, form.get("voice", "").strip()[:100], card)
    rate = _number(form, "rate", "The speaking pace", 0.5, 2.0)
    return VoiceSettings(engine=engine, voice=voice, rate=rate)


def _submit(kind: str, title: str, work: Callable[[Progress], str]) -> BaseResponse:
    job = _state().jobs.submit(kind, title, work)
    return redirect(url_for("job_page", job_id=job.id), code=303)


# --------------------------------------------------------------------------- pages


def _register_pages(app: Flask) -> None:
    @app.get("/")
    def index() -> str:
        languages = translations.practice_languages(_state().templates_dir)
        return render_template("index.html", cards=_cards(), languages=languages, nav="practices")

    @app.get("/build")
    def build_page() -> tuple[str, int]:
        cards = _cards()
        practice = request.args.get("practice") or "self-compassion-break"
        language, missing = translations.language_code(request.args.get("language")), None
        try:
            value, path = _practice(practice, language)
        except NotTranslatedError as exc:  # the English page, the message by the field: 400
            language, missing = None, exc.format_message()
            value, path = _practice(practice)
        card = _card(value, path)
        if card["broken"]:
            raise UsageError(card["broken"])
        engines = _engines()
        engine = voices.engine_choice(engines, request.args.get("engine", ""))
        return render_template(
            "build.html",
            nav="build",
            cards=cards,
            card=card,
            engines=engines,
            engine=engine,
            voices=voices.listing(engine, card),
            backgrounds=_backgrounds(),
            formats=_formats(),
            bitrates=BITRATES_KBPS,
            language=translations.field(value, language, _state().templates_dir, missing),
            error=None,
        ), (400 if missing else 200)

    @app.post("/build")
    def build_submit() -> BaseResponse:
        form = request.form
        language = translations.language_code(form.get("language"))
        value, path = _practice(form.get("practice", ""), language)
        card = _card(value, path)
        minutes = _number(form, "minutes", "The length in minutes", 0.5, 600.0)
        fmt, export = _export(form)
        variables = {}
        for var in card.get("variables", ()):
            text = " ".join(form.get(f"var_{var.name}", "").split())
            if len(text) > MAX_VARIABLE_CHARS:
                raise UsageError(f"'{var.name}' is too long (at most {MAX_VARIABLE_CHARS}).")
            if text:
                variables[var.name] = text
        voice = _voice(form, card)
        background = _background_spec(form)
        request_ = RenderRequest(
            practice=str(path),
            output=Path(f"session.{fmt}"),
            minutes=minutes,
            variables=variables,
            voice=voice,
            mix=MixSettings(background=background),
            export=export,
            workers=_speech_workers(),
            templates_dir=_state().templates_dir,
            language=language,
        )
        info = {
            "practice_field": value,
            "minutes": minutes,
            "engine": voice.engine,
            "rate": voice.rate,
            "format": fmt,
            "mono": export.mono,
            "bitrate_kbps": export.bitrate if fmt == "mp3" else None,
        }
        title = f"{card['title']}, {clock_s(minutes * 60)}"
        work = renders.session_work(
            _state().library, request_, str(card.get("meta_id", value)), info
        )
        return _submit("session", title, work)

    @app.get("/jobs/<job_id>")
    def job_page(job_id: str) -> str:
        job = _state().jobs.get(job_id)
        if job is None:
            raise NotFound(f"No render '{job_id}' (the server may have restarted).")
        return render_template("job.html", job=job, state=_state().jobs.state(job), nav="")

    @app.get("/write")
    def write_page() -> str:
        return render_template("write.html", nav="write", text="", error=None, ok=None)

    @app.post("/write")
    def write_submit() -> tuple[str, int]:
        from kindvoice.template.parse import parse_template

        upload = request.files.get("file")
        data = upload.read() if upload is not None and upload.filename else None
        if data is None:
            data = request.form.get("text", "").encode("utf-8")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            return _write_error("", TemplateError("template.md", 1, 1, f"Not UTF-8 text: {exc}"))
        if not text.strip():
            return _write_error(text, TemplateError("template.md", 1, 1, "The template is empty."))
        try:
            script = parse_template(text, "template.md")
        except TemplateError as exc:
            return _write_error(text, exc)
        digest = _state().library.save_upload(text)
        ok = {
            "title": script.meta.title,
            "summary": script.meta.summary,
            "minutes": script.meta.minutes,
            "sections": [s.title for s in script.sections],
            "practice": f"{UPLOAD_PREFIX}{digest}",
        }
        return render_template("write.html", nav="write", text=text, error=None, ok=ok), 200

    @app.get("/timer")
    def timer_page() -> str:
        from kindvoice.sound.bells import bell_descriptions

        engines = _engines()
        engine = voices.engine_choice(engines, request.args.get("engine", ""))
        return render_template(
            "timer.html",
            nav="timer",
            bells=bell_descriptions(),
            backgrounds=_backgrounds(),
            formats=_formats(),
            engines=engines,
            engine=engine,
            voices=voices.listing(engine),
        )

    @app.post("/timer")
    def timer_submit() -> BaseResponse:
        from kindvoice.sound.bells import bell_names
        from kindvoice.timer import TimerSpec, interval_offsets_ms, parse_duration_ms, timer_meta

        form = request.form
        minutes = _number(form, "minutes", "The sitting time in minutes", 1.0, 180.0)
        interval = form.get("interval", "").strip()
        at_text = form.get("at", "").strip()
        spec = TimerSpec(
            minutes=minutes,
            warmup_ms=parse_duration_ms(form.get("warmup", "").strip() or "0s", "warm-up"),
            interval_ms=parse_duration_ms(interval, "interval") if interval else None,
            at_ms=tuple(parse_duration_ms(t, "bell time") for t in at_text.split(",") if t.strip()),
            bell=_choice(form, "bell", "bell", bell_names()),
            welcome=" ".join(form.get("welcome", "").split())[:MAX_VARIABLE_CHARS],
        )
        interval_offsets_ms(spec, timer_meta())  # a bad schedule fails here, not in the queue
        background = form.get("background", "none")
        _choice(form, "background", "background", list(_backgrounds()))
        fmt, export = _export(form)
        engine = _choice(form, "engine", "engine", [e["name"] for e in _engines()])
        request_ = RenderRequest(
            practice="timer",
            output=Path(f"timer.{fmt}"),
            voice=VoiceSettings(
                engine=engine, voice=voices.checked(engine, form.get("voice", "").strip()[:100])
            ),
            mix=MixSettings(background=background),
            export=export,
            workers=_speech_workers(),
            templates_dir=_state().templates_dir,
        )
        info = {"minutes": minutes, "format": fmt, "bell": spec.bell, "mono": export.mono}
        work = renders.timer_work(_state().library, spec, request_, info)
        return _submit("timer", f"Timer, {clock_s(minutes * 60)}", work)

    @app.get("/course")
    def course_page() -> str:
        engines = _engines()
        engine = voices.engine_choice(engines, request.args.get("engine", ""))
        return render_template(
            "course.html",
            nav="course",
            available=_course_available(),
            cards=[c for c in _cards() if not c["broken"]],
            languages=translations.all_options(),
            practice_languages=translations.practice_languages(_state().templates_dir),
            backgrounds=_backgrounds(),
            engines=engines,
            engine=engine,
            voices=voices.listing(engine),
            limits=COURSE_LIMITS,
        )

    @app.post("/course")
    def course_submit() -> BaseResponse:
        if not _course_available():
            raise UsageError("The course builder is not part of this installation.")
        from kindvoice.publish.course import CoursePlan

        form = request.form
        title = " ".join(form.get("title", "").split())
        teacher = " ".join(form.get("teacher", "").split()) or "kindvoice"
        if not title or len(title) > MAX_VARIABLE_CHARS or len(teacher) > MAX_VARIABLE_CHARS:
            raise UsageError(f"Give the course a title (at most {MAX_VARIABLE_CHARS} characters).")
        days = _number(form, "days", "The number of days", 1, COURSE_LIMITS["days"])
        if days != int(days):
            raise UsageError(f"The number of days must be a whole number; got {days:g}.")
        top = COURSE_LIMITS["minutes"]
        start = _number(form, "start_minutes", "The first day's minutes", 1, top)
        end = _number(form, "end_minutes", "The last day's minutes", 1, top)
        chosen = form.getlist("practices")
        if not chosen or len(chosen) > COURSE_LIMITS["practices"]:
            raise UsageError("Choose at least one practice to cycle through.")
        if any(value.startswith(UPLOAD_PREFIX) for value in chosen):
            raise UsageError("A course cycles installed practices; choose them from the list.")
        # bundled or user practices by id only; the plan gets their template files
        language = translations.language_code(form.get("language"))
        practices = tuple(str(_practice(value, language)[1]) for value in chosen)
        engine = _choice(form, "engine", "engine", [e["name"] for e in _engines()])
        voice = voices.checked(engine, form.get("voice", "").strip()[:100])
        if voice == voices.default_voice(engine):
            voice = None  # each practice's own voice: its language's, for another language
        plan = CoursePlan(
            title=title,
            practices=practices,
            count=int(days),
            start_minutes=start,
            end_minutes=end,
            teacher=teacher,
            background=_choice(form, "background", "background", list(_backgrounds())),
            engine=engine,
            voice=voice,
            language=language,
        )
        state = _state()
        work = renders.course_work(state.library, plan, state.templates_dir, _speech_workers())
        return _submit("course", f"Course: {title}, {int(days)} days", work)

    @app.get("/courses/<slug>")
    def course_result(slug: str) -> str:
        library = _state().library
        try:
            names = library.course_files(slug)
        except NotInLibrary:
            raise NotFound(f"No course '{slug}' in the library.") from None
        tracks = playlist_tracks(library.course_folder(slug) / "playlist.m3u", names)
        return render_template(
            "course_result.html", nav="course", slug=slug, tracks=tracks, names=names
        )

    @app.get("/courses/<slug>/<name>")
    def course_file(slug: str, name: str) -> Response:
        try:
            path = _state().library.course_file(slug, name)
        except NotInLibrary:
            abort(404, "No such file in that course.")
        return send_file(path, as_attachment=bool(request.args.get("download")), conditional=True)

    @app.get("/sessions")
    def sessions_page() -> str:
        return render_template(
            "sessions.html",
            nav="sessions",
            sessions=_state().library.sessions(),
            folder=_state().library.root,
        )

    @app.get("/sessions/<stem>")
    def player_page(stem: str) -> str:
        library = _state().library
        try:
            session = library.session(stem)
        except NotInLibrary:
            raise NotFound(f"No session '{stem}' in the library.") from None
        return render_template(
            "player.html",
            nav="sessions",
            session=session,
            cues=library.cues(session),
            sizes={kind: library.file(name).stat().st_size for kind, name in session.files.items()},
        )

    @app.post("/sessions/<stem>/delete")
    def delete_session(stem: str) -> BaseResponse:
        try:
            _state().library.delete(stem)
        except NotInLibrary:
            raise NotFound(f"No session '{stem}' in the library.") from None
        return redirect(url_for("sessions_page"), code=303)

    @app.get("/files/<name>")
    def library_file(name: str) -> Response:
        try:
            path = _state().library.file(name)
        except NotInLibrary:
            abort(404, "No such file in the library.")
        return send_file(path, as_attachment=bool(request.args.get("download")), conditional=True)

    @app.get("/previews/<name>")
    def preview_file(name: str) -> Response:
        library = _state().library
        try:
            path = library.file(name, library.previews)
        except NotInLibrary:
            abort(404, "No preview rendered yet.")
        return send_file(path, conditional=True)


def _write_error(text: str, exc: TemplateError) -> tuple[str, int]:
    """The Write page with the error at its line, and the lines around it."""
    lines = text.splitlines()
    first = max(1, exc.line - 3)
    around = [(n, lines[n - 1]) for n in range(first, min(len(lines), exc.line + 3) + 1)]
    error = {"line": exc.line, "col": exc.col, "reason": exc.reason, "around": around}
    return render_template("write.html", nav="write", text=text, error=error, ok=None), 422


def _speech_workers() -> int:
    """Speech processes per render: the cores shared among the renders that may run at once."""
    import os

    return max(1, (os.cpu_count() or 1) // _state().jobs.workers)


# --------------------------------------------------------------------------- API


def _register_api(app: Flask) -> None:
    @app.get("/api/jobs/<job_id>")
    def job_state(job_id: str) -> Response:
        jobs = _state().jobs
        job = jobs.get(job_id)
        if job is None:
            raise NotFound(f"No render '{job_id}'.")
        body = jobs.state(job)
        if job.status == "done" and job.kind in ("session", "timer"):
            body["url"] = url_for("player_page", stem=job.result)
        elif job.status == "done" and job.kind == "course":
            body["url"] = url_for("course_result", slug=job.result)
        elif job.status == "done" and job.kind == "preview":
            body["url"] = url_for("preview_file", name=job.result)
        return jsonify(body)

    @app.get("/api/range")
    def feasible_range() -> Response:
        args = request.args
        value, path = _practice(
            args.get("practice", ""), translations.language_code(args.get("language"))
        )
        voice = _voice(args, _card(value, path))
        engine = voice.engine or default_engine()
        answer = _state().ranges.get(path, engine, voice.voice, voice.rate or 1.0)
        return jsonify(answer)

    @app.post("/api/previews/<practice>")
    def preview(practice: str) -> Response:
        state = _state()
        value, path = _practice(practice)
        target = state.library.preview_path(value)
        if target.is_file():
            return jsonify(url=url_for("preview_file", name=target.name))
        work = renders.preview_work(state.library, value, path, state.templates_dir)
        job = state.jobs.submit("preview", f"Preview of {value}", work)
        return jsonify(job=job.id, poll=url_for("job_state", job_id=job.id))

    @app.get("/api/sessions")
    def sessions_api() -> Response:
        return jsonify(
            [
                {"stem": s.stem, "title": s.title, "seconds": s.seconds, "files": s.files}
                for s in _state().library.sessions()
            ]
        )
