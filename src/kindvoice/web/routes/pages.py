"""The pages with forms: the practices, Build, Write your own, Timer and Course, and the
Build form's feasible length range (``GET /api/range``). Posting a render form is the
``jobs`` area's; reading the fields is ``web.forms``'."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, render_template, request

from kindvoice.errors import NotTranslatedError, TemplateError, UsageError
from kindvoice.settings import default_engine
from kindvoice.web import forms, translations, voices
from kindvoice.web.practices import card, cards, practice
from kindvoice.web.state import UPLOAD_PREFIX, course_available, current

bp = Blueprint("pages", __name__)


def _voice_fields(shown: dict[str, Any] | None = None) -> dict[str, Any]:
    """What the engine and voice fields show: the engines, the one chosen (``?engine=``
    when installed) and its voices, with the practice's own voice preselected."""
    engines = voices.engines()
    engine = voices.engine_choice(engines, request.args.get("engine", ""))
    return {"engines": engines, "engine": engine, "voices": voices.listing(engine, shown)}


@bp.get("/")
def index() -> str:
    languages = translations.practice_languages(current().templates_dir)
    return render_template("index.html", cards=cards(), languages=languages, nav="practices")


@bp.get("/build")
def build_page() -> tuple[str, int]:
    every = cards()
    asked = request.args.get("practice") or "self-compassion-break"
    language, missing = translations.language_code(request.args.get("language")), None
    try:
        value, path = practice(asked, language)
    except NotTranslatedError as exc:  # the English page, the message by the field: 400
        language, missing = None, exc.format_message()
        value, path = practice(asked)
    shown = card(value, path)
    if shown["broken"]:
        raise UsageError(shown["broken"])
    return render_template(
        "build.html",
        nav="build",
        cards=every,
        card=shown,
        **_voice_fields(shown),
        backgrounds=forms.backgrounds(),
        formats=forms.formats(),
        bitrates=forms.BITRATES_KBPS,
        language=translations.field(value, language, current().templates_dir, missing),
        error=None,
    ), (400 if missing else 200)


@bp.get("/api/range")
def feasible_range() -> Response:
    args = request.args
    value, path = practice(
        args.get("practice", ""), translations.language_code(args.get("language"))
    )
    voice = forms.voice(args, card(value, path))
    engine = voice.engine or default_engine()
    answer = current().ranges.get(path, engine, voice.voice, voice.rate or 1.0)
    return jsonify(answer)


@bp.get("/write")
def write_page() -> str:
    return render_template("write.html", nav="write", text="", error=None, ok=None)


@bp.post("/write")
def write_submit() -> tuple[str, int]:
    """A pasted or uploaded template, parsed (never run) and kept as data when valid."""
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
    digest = current().library.save_upload(text)
    ok = {
        "title": script.meta.title,
        "summary": script.meta.summary,
        "minutes": script.meta.minutes,
        "sections": [s.title for s in script.sections],
        "practice": f"{UPLOAD_PREFIX}{digest}",
    }
    return render_template("write.html", nav="write", text=text, error=None, ok=ok), 200


def _write_error(text: str, exc: TemplateError) -> tuple[str, int]:
    """The Write page with the error at its line, and the lines around it."""
    lines = text.splitlines()
    first = max(1, exc.line - 3)
    around = [(n, lines[n - 1]) for n in range(first, min(len(lines), exc.line + 3) + 1)]
    error = {"line": exc.line, "col": exc.col, "reason": exc.reason, "around": around}
    return render_template("write.html", nav="write", text=text, error=error, ok=None), 422


@bp.get("/timer")
def timer_page() -> str:
    from kindvoice.sound.bells import bell_descriptions

    return render_template(
        "timer.html",
        nav="timer",
        bells=bell_descriptions(),
        backgrounds=forms.backgrounds(),
        formats=forms.formats(),
        **_voice_fields(),
    )


@bp.get("/course")
def course_page() -> str:
    return render_template(
        "course.html",
        nav="course",
        available=course_available(),
        cards=[c for c in cards() if not c["broken"]],
        languages=translations.all_options(),
        practice_languages=translations.practice_languages(current().templates_dir),
        backgrounds=forms.backgrounds(),
        limits=forms.COURSE_LIMITS,
        **_voice_fields(),
    )
