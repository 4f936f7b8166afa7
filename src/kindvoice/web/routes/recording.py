"""The recording page: a teacher reads a practice, one phrase at a time, into the browser's
microphone and the takes become the voice ``recorded:NAME`` (``web.recordings``).

- ``GET /record?practice=ID&voice=NAME``: the page (the teacher's only); without a voice
  name it asks for one;
- ``GET /api/record/progress``: the phrases and how many are recorded, as data;
- ``POST /api/record/take``: one take (multipart, field ``take``), cleaned and held for
  the teacher to hear; a take the cleaning refuses gets one line (400) and keeps nothing;
  a body over ``MAX_TAKE_BYTES`` is refused from its Content-Length, unread (413);
- ``POST /api/record/keep``: the held take becomes the phrase's take;
- ``GET /api/record/audio``: a phrase's take (``?pending=1``: the one held), to play.

Every post is the teacher's (the app's guard refuses a listener's and checks the token).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, jsonify, render_template, request, send_file, url_for
from werkzeug.exceptions import RequestEntityTooLarge

from kindvoice.errors import UsageError
from kindvoice.web import recordings, translations
from kindvoice.web.practices import card, practice
from kindvoice.web.state import NotFound

bp = Blueprint("recording", __name__)
STEM = re.compile(r"[a-z0-9][a-z0-9-]{0,60}")


def _practice(args: Any) -> tuple[str, Any]:
    """(the practice field's value, its template file) of a request."""
    language = translations.language_code(args.get("language"))
    return practice(args.get("practice", "").strip() or "one-minute-break", language)


def _voice(args: Any) -> str:
    """The recorded voice's name of a request (``anna`` or ``recorded:anna``), checked."""
    from kindvoice.speech.takes import check_name

    name = str(args.get("voice", "")).strip().removeprefix("recorded:")
    if not name:
        raise UsageError("Name the voice to record (such as 'anna').")
    return check_name(name)


def _stem(args: Any) -> str:
    """A take's file stem as ``phrase_stem`` makes it (never a path)."""
    stem = str(args.get("stem", ""))
    if not STEM.fullmatch(stem):
        raise NotFound("No such phrase: reload the page.")
    return stem


@bp.get("/record")
def record_page() -> str:
    value, path = _practice(request.args)
    shown = card(value, path)
    if shown["broken"]:
        raise UsageError(shown["broken"])
    if not request.args.get("voice", "").strip():
        return render_template(
            "record.html", nav="build", card=shown, voices=recordings.names(), data=None
        )
    name = _voice(request.args)
    data = recordings.progress(path, name)
    data["urls"] = {
        "take": url_for("recording.take"),
        "keep": url_for("recording.keep_take"),
        "audio": url_for("recording.take_audio"),
        "build": url_for("pages.build_page", practice=value, engine="recorded", voice=name),
    }
    data["practice"] = value
    data["language"] = request.args.get("language", "")
    data["clean_pace"] = round(recordings.cleaning_pace(), 3)
    return render_template(
        "record.html", nav="build", card=shown, voices=recordings.names(), data=data
    )


@bp.get("/api/record/progress")
def progress() -> Response:
    _, path = _practice(request.args)
    return jsonify(recordings.progress(path, _voice(request.args)))


@bp.post("/api/record/take")
def take() -> tuple[Response, int] | Response:
    size = request.content_length
    if size is not None and size > recordings.MAX_TAKE_BYTES:  # before reading the body
        return _too_large(f"{size / 2**20:,.0f} MB")
    request.max_content_length = recordings.MAX_TAKE_BYTES  # a body without a length too
    try:
        request.form  # noqa: B018 (reads the body, up to the limit)
    except RequestEntityTooLarge:
        return _too_large(None)
    _, path = _practice(request.form)
    name = _voice(request.form)
    stem = _stem(request.form)
    recordings.phrase_text(path, stem)  # a phrase of this practice
    posted = request.files.get("take")
    if posted is None:
        raise UsageError("The take is missing from the form (field 'take').")
    suffix = recordings.suffix_for(posted.mimetype or "", posted.filename or "")
    figures = recordings.clean_posted(name, stem, posted, suffix)
    audio = url_for("recording.take_audio", voice=name, stem=stem, pending=1)
    return jsonify(stem=stem, audio=audio, **figures)


def _too_large(size: str | None) -> tuple[Response, int]:
    """The one line for a take over ``MAX_TAKE_BYTES`` (``size``: as announced, if it was)."""
    limit = recordings.MAX_TAKE_BYTES // 2**20
    told = f"{size}; at most {limit} MB" if size else f"over {limit} MB"
    message = f"That take is too large ({told}): a take is one phrase. Nothing was kept from it."
    return jsonify(error=message), 413


@bp.post("/api/record/keep")
def keep_take() -> Response:
    _, path = _practice(request.form)
    name = _voice(request.form)
    text = recordings.phrase_text(path, _stem(request.form))
    recordings.keep(name, text)
    return jsonify(recordings.progress(path, name))


@bp.get("/api/record/audio")
def take_audio() -> Response:
    name = _voice(request.args)
    stem = _stem(request.args)
    target: Path | None
    if request.args.get("pending"):
        target = recordings.Pending(name, stem).audio_path
    else:
        voice = recordings.existing(name)
        target = voice.take_path(stem) if voice is not None else None
    if target is None or not target.is_file():
        raise NotFound("No such take (deleted, or not recorded yet).")
    return send_file(target, mimetype="audio/flac", max_age=0)
