"""The voice field of the web page: each engine's voices to choose from, and the short
sample behind each voice's play button. A teacher's recorded voices (``web.recordings``) are the
engine ``recorded``, offered once one exists, without samples.

``choices(engine)`` is the list the page offers, the engine's own
(``Engine.offered_voices``: every Kokoro voice, Piper's bundled voice, a short list of
espeak-ng's 140); the engines' labels and whether they are installed come from the engine
classes too, so nothing here names an engine. The server accepts only a listed voice (or
the practice's own, when its front matter or language names one outside the list), so a
bad name gets one line listing the choices before any work.

A sample speaks the same passage as ``kindvoice voices preview``
(``speech.samples.sample_template``), rendered through the job queue on the first play
and kept as ``previews/voice_<engine>_<voice>.mp3``, so the next play is a plain file.
The routes live on the ``bp`` blueprint: ``GET /api/voices`` (the list, as data and as
the markup the page shows; ``practice`` and ``language`` name the template whose own or
language's voice is preselected) and ``POST /api/voices/sample``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, jsonify, render_template, request, url_for
from flask_babel import gettext

from kindvoice.errors import UnknownNameError, UsageError
from kindvoice.settings import VoiceSettings
from kindvoice.web import shipped
from kindvoice.web.i18n import N_
from kindvoice.web.practices import card_for
from kindvoice.web.state import current

if TYPE_CHECKING:
    from kindvoice.web.jobs import Progress, Work

log = logging.getLogger(__name__)

bp = Blueprint("voices", __name__)


@dataclass(frozen=True)
class VoiceChoice:
    """One voice the page offers: ``name`` is what the engine is given."""

    name: str
    language: str  # BCP 47
    description: str

    @property
    def label(self) -> str:
        return f"{self.name}: {self.language}, {self.description}"


# the engines' own labels (``Engine.label``), named here so the catalogues carry them
ENGINE_LABEL_WORDS = (
    N_("Kokoro: natural, warm (the default; slower)"),
    N_("Piper: neural, fast"),
    N_("espeak-ng: robotic, instant (drafts)"),
    N_("Your own recorded voice (recorded:NAME)"),
)


def engines() -> list[dict[str, Any]]:
    """The engine field's choices, the default first: name, label, whether installed."""
    from kindvoice.settings import default_engine
    from kindvoice.speech.base import engine_class, engine_names

    ordered = sorted(engine_names(), key=lambda n: n != default_engine())
    return [
        {
            "name": engine.name,
            "label": gettext(engine.label) if engine.label else engine.name,
            "installed": engine.installed(),
            "default": engine.name == default_engine(),
        }
        for engine in map(engine_class, ordered)
        # a teacher's recorded voices are offered once one exists
        if engine.offered and (not engine.recorded or engine.offered_voices())
    ]


def choices(engine: str) -> list[VoiceChoice]:
    """The voices the page offers for ``engine``; ``UnknownNameError`` for an unknown one."""
    from kindvoice.speech.base import engine_class, engine_names

    found = engine_class(engine)
    if not found.offered:
        raise UnknownNameError("engine", engine, engine_names())
    return [VoiceChoice(v.id, v.language, v.name) for v in found.offered_voices()]


def engine_choice(engines: list[dict[str, Any]], wanted: str) -> str:
    """The engine a page preselects: ``wanted`` (``?engine=``) when it is installed, else
    the default one."""
    from kindvoice.settings import default_engine

    if any(e["name"] == wanted and e["installed"] for e in engines):
        return wanted
    return default_engine()


def default_voice(engine: str) -> str:
    """The voice ``engine`` uses when none is named."""
    from kindvoice.speech.base import engine_class

    return engine_class(engine).default_voice


def practice_voice(engine: str, card: Mapping[str, Any] | None) -> str:
    """The voice a practice gets from ``engine`` when none is chosen: the one its front
    matter names for that engine, else its language's, else the engine's default."""
    from kindvoice.speech.base import choose_voice

    if not card:
        return default_voice(engine)
    try:
        spec = choose_voice(
            VoiceSettings(engine=engine),
            engine=card.get("voice_engine"),
            voice=card.get("voice_name"),
            language=card.get("language") or None,
        )
    except UnknownNameError:  # the engine does not speak the practice's language
        return default_voice(engine)
    return spec.voice or default_voice(engine)


def offered(engine: str, card: Mapping[str, Any] | None = None) -> tuple[list[VoiceChoice], str]:
    """(the voices to list, the one preselected): the practice's own voice is added to the
    list when it is not already there."""
    from kindvoice.speech.base import engine_class

    listed = choices(engine)
    if engine_class(engine).recorded:  # no practice names a teacher's voice: the first one
        return listed, listed[0].name if listed else default_voice(engine)
    selected = practice_voice(engine, card)
    try:
        selected = engine_class(engine).find_voice(selected) or selected
    except UnknownNameError:
        selected = default_voice(engine)
    if not any(v.name.casefold() == selected.casefold() for v in listed):
        language = str(card.get("language", "")) if card else ""
        listed.insert(0, VoiceChoice(selected, language, "the practice's own voice"))
    selected = next(v.name for v in listed if v.name.casefold() == selected.casefold())
    return listed, selected


def checked(engine: str, name: str | None, card: Mapping[str, Any] | None = None) -> str | None:
    """``name`` as the engine knows it when the page offers it for ``engine`` (None: the
    default); anything else raises ``UnknownNameError`` listing the voices offered."""
    if not name:
        return None
    listed, _ = offered(engine, card)
    from kindvoice.speech.base import engine_class

    for voice in listed:
        if voice.name.casefold() == name.strip().casefold():
            return voice.name
    found = engine_class(engine).find_voice(name)  # Kokoro's pack names (af_heart) too
    if found is not None:
        return found
    raise UnknownNameError(f"{engine} voice", name, [v.name for v in listed])


def sample_name(engine: str, voice: str) -> str:
    """The sample's file name in ``previews/``: ``voice_kokoro_heart.mp3`` (practice
    previews never hold an underscore, so the two cannot meet)."""
    return f"voice_{engine}_{voice.casefold()}.mp3"


def voice_language(engine: str, voice: str) -> str:
    """The language ``voice`` speaks (its sample's passage), English when not listed."""
    return next((v.language for v in choices(engine) if v.name == voice), "en")


def sample_work(target: Path, engine: str, voice: str, templates_dir: Path | None) -> Work:
    """A job that speaks the sample passage with ``voice`` into ``target`` (in the
    library's ``previews/``, named by ``shipped.sample_digest``)."""

    def work(progress: Progress) -> str:
        from kindvoice.pipeline import render
        from kindvoice.web.shipped import drop_older, sample_request

        if target.is_file():
            return target.name
        target.parent.mkdir(parents=True, exist_ok=True)
        language = voice_language(engine, voice)
        render(
            sample_request(engine, voice, language, target, templates_dir=templates_dir),
            progress=progress,
        )
        drop_older(target)  # a sample made before the voice changed
        return target.name

    return work


# --------------------------------------------------------------------------- routes


def _engine(value: str) -> str:
    names = [e["name"] for e in engines()]
    if value not in names:
        raise UnknownNameError("engine", value, names)
    return value


def listing(engine: str, card: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What the page's voice field shows for ``engine``: the voices, the one selected."""
    listed, selected = offered(engine, card)
    return {
        "engine": engine,
        "selected": selected,
        "default": default_voice(engine),
        "voices": [
            {
                "name": v.name,
                "language": v.language,
                "description": v.description,
                "label": v.label,
            }
            for v in listed
        ],
    }


@bp.get("/api/voices")
def voice_list() -> Response:
    engine = _engine(request.args.get("engine", "").strip())
    args = request.args
    answer = listing(engine, card_for(args.get("practice", "").strip(), args.get("language", "")))
    answer["html"] = render_template("_voices.html", voices=answer)
    return jsonify(answer)


@bp.post("/api/voices/sample")
def voice_sample() -> Response:
    from kindvoice.speech.base import engine_class

    state = current()
    form = request.form
    engine = _engine(form.get("engine", "").strip())
    if engine_class(engine).recorded:
        raise UsageError("A recorded voice has no sample: its recording page plays its takes.")
    voice = checked(engine, form.get("voice", "").strip() or default_voice(engine))
    assert voice is not None
    library = state.library
    name = sample_name(engine, voice)
    language = voice_language(engine, voice)
    digest = shipped.sample_digest(engine, voice, language)
    if name in shipped.manifest() and shipped.ready(name, digest):
        return jsonify(url=url_for("shipped.shipped_file", name=name))
    # named by its digest: after an upgrade that changes the voice, a new sample is made
    target = library.previews / shipped.rendered_name(name, digest)
    if target.is_file():
        return jsonify(url=url_for("sessions.preview_file", name=target.name))
    title = f"Voice sample: {engine} {voice}"
    work = sample_work(target, engine, voice, state.templates_dir)
    waiter = form.get("waiter", "").strip()[:64] or None  # the page waiting on it
    running = state.jobs.submit("preview", title, work, key=target.name, waiter=waiter)
    return jsonify(job=running.id, poll=url_for("jobs.job_state", job_id=running.id))
