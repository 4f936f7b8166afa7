"""The pages with forms: the practices (sorted by title, with tags to filter), Build,
Write your own, Timer and Course, and the Build form's feasible length range
(``GET /api/range``). Posting a render form is the ``jobs`` area's; reading the fields is
``web.forms``'.

The Write page runs ``kindvoice validate``'s checks (the format, then
``lengths.ranges.range_problems``: every whole minute of the declared range must be fillable),
offers ``kindvoice new``'s starter and shows the format guide (``TEMPLATE_FORMAT.md``).
"""

from __future__ import annotations

import dataclasses
import secrets
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, jsonify, render_template, request, url_for

from kindvoice.errors import (
    KindvoiceError,
    NotFound,
    NotTranslatedError,
    TemplateError,
    UsageError,
)
from kindvoice.settings import MAX_SESSION_MINUTES, VoiceSettings, default_engine
from kindvoice.web import forms, i18n, recordings, renders, translations, voices
from kindvoice.web.practices import card, cards, practice
from kindvoice.web.state import (
    MAX_UPLOAD_BYTES,
    UPLOAD_PREFIX,
    checked_title,
    course_available,
    current,
)

bp = Blueprint("pages", __name__)


def _voice_fields(shown: dict[str, Any] | None = None) -> dict[str, Any]:
    """What the engine and voice fields show: the engines, the one chosen (``?engine=``
    when installed) and its voices, with the practice's own voice preselected."""
    engines = voices.engines()
    engine = voices.engine_choice(engines, request.args.get("engine", ""))
    return {"engines": engines, "engine": engine, "voices": voices.listing(engine, shown)}


#: the name a pasted template goes by in the Write page's messages (as ``validate`` prints)
WRITE_NAME = "template.md"


def filter_tags(card_: dict[str, Any]) -> list[str]:
    """The tags a card is filtered by: its front matter's ``tags``, else its kind and
    language."""
    tags = list(card_.get("tags") or ())
    return tags or [t for t in (card_.get("kind"), card_.get("language")) if t]


def card_languages(card_: dict[str, Any], translated: dict[str, list[str]]) -> list[str]:
    """The languages a practice card can be heard in: its translations' codes, its own
    front matter's ``language`` standing for English when it names another one."""
    own = translations.describe(card_.get("language") or "en")["code"]
    codes = [own if code == "en" else code for code in translated.get(card_["id"], ["en"])]
    return list(dict.fromkeys(codes))


@bp.get("/")
def index() -> str:
    """The practice cards; ``?language=es`` shows those in that language, in it."""
    languages = translations.practice_languages(current().templates_dir)
    every = cards()
    codes = {c["id"]: card_languages(c, languages) for c in every}
    offered = [code for code in i18n.PAGE_LANGUAGES if any(code in v for v in codes.values())]
    wanted = i18n.match(request.args.get("language"))
    wanted = wanted if wanted in offered else None
    shown = [c for c in every if wanted is None or wanted in codes[c["id"]]]
    if wanted and wanted != "en":  # each card in the language asked for
        shown = [_translated(c, wanted) for c in shown]
    tagged = [(c, filter_tags(c)) for c in shown]
    counts = Counter(tag for _, tags in tagged for tag in set(tags))
    # a tag on one card only filters nothing away worth a button
    buttons = sorted(tag for tag, n in counts.items() if n > 1 and n < len(shown))
    return render_template(
        "index.html",
        cards=tagged,
        tags=buttons,
        languages=codes,
        offered=[translations.describe(code) for code in offered],
        names={code: translations.describe(code)["native"] for code in offered},
        wanted=wanted,
        nav="practices",
    )


def _translated(card_: dict[str, Any], code: str) -> dict[str, Any]:
    """The card of the same practice in ``code`` (its id stays the English one's)."""
    if (card_.get("language") or "en") == code:
        return card_
    try:
        shown = card(*practice(card_["id"], code))
    except KindvoiceError:
        return card_
    return {**shown, "id": card_["id"], "language": code}


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
        max_minutes=MAX_SESSION_MINUTES,
        **_voice_fields(shown),
        backgrounds=forms.backgrounds(),
        formats=forms.formats(),
        bitrates=forms.BITRATES_KBPS,
        language=translations.field(value, language, current().templates_dir, missing),
        error=None,
    ), (400 if missing else 200)


def _range_settings(args: forms.Form) -> tuple[Path, str, str | None, float]:
    """(template, engine, voice, rate) of a range query."""
    value, path = practice(
        args.get("practice", ""), translations.language_code(args.get("language"))
    )
    voice = forms.voice(args, card(value, path))
    return path, voice.engine or default_engine(), voice.voice, voice.rate or 1.0


@bp.get("/api/range")
def feasible_range() -> Response | tuple[Response, int]:
    """The slider's range when it is known; else the job measuring it (one per practice,
    voice and pace, whoever asks), which the page (``waiter``) follows, then asks again.
    Without ``waiter`` the request waits for the answer."""
    from kindvoice.speech.base import engine_class

    settings = path, engine, voice, rate = _range_settings(request.args)
    # a recorded voice: the lengths recorded, never cached (a take just kept counts)
    if engine_class(engine).recorded:
        fill = bool(request.args.get("fill"))
        return jsonify(recordings.slider_range(path, voice or "", fill))
    state = current()
    known = state.ranges.known(*settings)
    if known is None:
        work = renders.measure_work(state.ranges, *settings)
        title = f"Measuring {path.stem} with {engine} ({voice or 'its voice'}, pace {rate:g})"
        key = f"range:{path}:{engine}:{voice or ''}:{rate:g}"
        page = request.args.get("waiter", "").strip()
        # a client that follows no job waits in this request: a waiter of its own
        waiter = page or f"request-{secrets.token_hex(8)}"
        job = state.jobs.submit("measure", title, work, key=key, waiter=waiter)
        if page:  # the page follows the job, then asks again
            return jsonify(job=job.id, poll=url_for("jobs.job_state", job_id=job.id)), 202
        state.jobs.wait(job)
        known = state.ranges.get(*settings)
    answer = dict(known)
    # the slider never offers more than the form accepts (fields.FIELDS["minutes"])
    answer["max"] = min(answer["max"], MAX_SESSION_MINUTES)
    answer["min"] = min(answer["min"], answer["max"])
    return jsonify(answer)


def _write_page(text: str = "", **shown: Any) -> str:
    # an edit of a listed template stays one through each check (``replaces``)
    page: dict[str, Any] = {"error": None, "ok": None, **shown}
    page.setdefault("replaces", request.form.get("replaces", ""))
    engines = voices.engines()
    chosen = page.pop("engine", None) or default_engine()
    return render_template(
        "write.html",
        nav="write",
        text=text,
        engines=engines,
        engine=chosen,
        max_bytes=MAX_UPLOAD_BYTES - 8192,  # room for the form's other fields
        **page,
    )


@bp.get("/write")
def write_page() -> str:
    """The Write page: empty, with the starter (``?starter=1``), or with one of the
    teacher's templates to edit (``?template=<digest>``: checking it replaces it in the
    list)."""
    digest = request.args.get("template", "")
    if digest:
        db = current().db
        row = db.template(digest) if db is not None else None
        if row is None:
            raise NotFound("No such template in your templates (deleted?).")
        return _write_page(str(row["text"]), replaces=digest, replaces_name=row["name"])
    return _write_page(starter_text() if request.args.get("starter") else "")


@bp.get("/write/starter.md")
def write_starter() -> Response:
    """The starter template of ``kindvoice new``, as text (the page's button fills it in)."""
    return Response(starter_text(), mimetype="text/plain")


@bp.get("/write/format")
def write_format() -> str:
    """The template format guide bundled beside the practices."""
    from kindvoice.template.library import bundled_dir

    guide = (bundled_dir() / "TEMPLATE_FORMAT.md").read_text(encoding="utf-8")
    return render_template("write_format.html", nav="write", guide=guide)


def starter_text() -> str:
    """The template ``kindvoice new`` starts from (the same file)."""
    from importlib.resources import files

    return files("kindvoice.template").joinpath("starter.md").read_text(encoding="utf-8")


@bp.post("/write")
def write_submit() -> tuple[str, int]:
    """A pasted or uploaded template, checked as ``kindvoice validate`` does (parsed, never
    run; then every whole minute of its range solved with the chosen engine's voice), and
    kept as data when valid."""
    upload = request.files.get("file")
    data = upload.read() if upload is not None and upload.filename else None
    if data is None:
        data = request.form.get("text", "").encode("utf-8")
    engine = forms.engine(request.form) if request.form.get("engine") else default_engine()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:  # the draft typed in the editor stays
        draft = request.form.get("text", "")
        message = (
            "The file is not UTF-8 text: save it as UTF-8 (most editors offer it under "
            "“Save as”), then upload it again."
        )
        return _write_error(draft, [(1, 1, message)], engine)
    if not text.strip():
        return _write_error(text, [(1, 1, "The template is empty.")], engine)
    try:
        script, problems = validate_text(text, engine)
    except TemplateError as exc:
        return _write_error(text, [(exc.line, exc.col, exc.reason)], engine)
    except KindvoiceError as exc:  # the voice cannot speak it, a bell is unknown...
        return _write_error(text, [(1, 1, exc.format_message())], engine)
    if problems:
        return _write_error(text, problems, engine)
    try:
        title = checked_title(script.meta.title, "The title")
    except UsageError as exc:
        line = next((n for n, t in enumerate(text.splitlines(), 1) if t.startswith("title:")), 1)
        return _write_error(text, [(line, 1, exc.format_message())], engine)
    state = current()
    replaces = request.form.get("replaces", "")
    old = state.db.template(replaces) if state.db is not None and replaces else None
    digest = state.library.save_upload(text, title)
    if old is not None and replaces != digest:  # an edit: the new text takes its place
        state.db.delete_template(replaces)  # type: ignore[union-attr]
    ok = {
        "title": script.meta.title,
        "summary": script.meta.summary,
        "minutes": script.meta.minutes,
        "sections": [s.title for s in script.sections],
        "practice": f"{UPLOAD_PREFIX}{digest}",
    }
    return _write_page(text, ok=ok, engine=engine, replaces=digest), 200


def validate_text(text: str, engine: str) -> tuple[Any, list[tuple[int, int, str]]]:
    """``kindvoice validate``'s checks on ``text`` (as the file ``WRITE_NAME``): the format
    (``TemplateError``), then ``lengths.ranges.range_problems`` with ``engine``'s voice; returns
    the script and the problems as (line, column, the line ``validate`` prints)."""
    from kindvoice.lengths import Voicing
    from kindvoice.lengths.ranges import range_problems
    from kindvoice.template.parse import load_template

    with tempfile.TemporaryDirectory(prefix="kindvoice-write-") as folder:
        path = Path(folder) / WRITE_NAME
        path.write_text(text, encoding="utf-8")
        script = load_template(path)
        found = range_problems(path, script, Voicing(VoiceSettings(engine=engine)))
    shown = [dataclasses.replace(p, file=WRITE_NAME) for p in found]
    return script, [(p.line, p.col, str(p)) for p in shown]


def _write_error(text: str, problems: list[tuple[int, int, str]], engine: str) -> tuple[str, int]:
    """The Write page with the first problem at its line (and the lines around it), every
    problem listed; the page's script puts the caret on that line."""
    line, col, reason = problems[0]
    lines = text.splitlines()
    first = max(1, line - 3)
    around = [(n, lines[n - 1]) for n in range(first, min(len(lines), line + 3) + 1)]
    error = {
        "line": line,
        "col": col,
        "reason": reason,
        "around": around,
        "more": [p[2] for p in problems[1:]],
    }
    return _write_page(text, error=error, engine=engine), 422


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
