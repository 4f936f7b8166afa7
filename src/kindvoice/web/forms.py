"""The web forms, read and checked: each field of the Build, Timer and Course forms (and
the range query) turned into settings, with one clear message naming the field and the
bad value when it is wrong (a 400 page, before anything is queued).

``build_render``, ``timer_render`` and ``course_plan`` read a whole form into what the
job runs; the small readers (``field_value``, ``choice``, ``export``, ``voice``,
``background_spec``) serve them and the range endpoint. Every session field is read by
the one table of session fields (``kindvoice.fields``): its bounds and checks are the
command line's, a manifest's, a course plan's and front matter's, said here in the page's
words ("The speaking pace must be between 0.5 and 2; got 9."). The lists the forms offer
(``backgrounds``, ``formats``, ``BITRATES_KBPS``) live here too, so a page offers
exactly what its form accepts.

A wrong field raises ``FieldError``: the field's name and one sentence in the page's
words (a core message naming a command-line option, like ``--interval``, is reworded with
the field's label), which the page shows next to that field.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from werkzeug.datastructures import MultiDict

from kindvoice.audio import s_to_samples
from kindvoice.durations import clock, parse_ms
from kindvoice.errors import FieldError as FieldError  # lives in errors.py; pages import it here
from kindvoice.errors import KindvoiceError, UnknownNameError
from kindvoice.export import formats as output_formats
from kindvoice.fields import BITRATES_KBPS as BITRATES_KBPS  # the Build page lists them
from kindvoice.fields import FIELDS, Said
from kindvoice.settings import (
    ExportSettings,
    MixSettings,
    RenderRequest,
    VoiceSettings,
    default_engine,
)
from kindvoice.web import translations, voices
from kindvoice.web.practices import card, practice
from kindvoice.web.state import (
    MAX_VARIABLE_CHARS,
    UPLOAD_PREFIX,
    checked_title,
    current,
    speech_workers,
)

if TYPE_CHECKING:
    from kindvoice.publish.course import CoursePlan
    from kindvoice.timer import TimerSpec

Form = MultiDict[str, str]

#: what the Course page's inputs offer (days, minutes per session); the form accepts
#: what the field table accepts, and at most this many practices to cycle
COURSE_LIMITS = {"days": 60, "minutes": 120, "practices": 20}


_OPTION = re.compile(r"--[a-z][a-z-]*")
#: the command-line options the core's messages may name -> (the field, its words)
OPTION_FIELDS = {
    "--minutes": ("minutes", "the sitting time"),
    "--interval": ("interval", "the interval"),
    "--at": ("at", "the bell time"),
    "--warmup": ("warmup", "the warm-up"),
    "--voice": ("voice", "the voice"),
    "--rate": ("rate", "the speaking pace"),
}


def page_words(message: str, label: str) -> str:
    """``message`` with each command-line option said as its field (else as ``label``)."""
    said = _OPTION.sub(lambda m: OPTION_FIELDS.get(m.group(0), ("", label))[1], message)
    return said[:1].upper() + said[1:]


@contextmanager
def field(name: str, label: str) -> Iterator[None]:
    """Any error of the core inside the block becomes a ``FieldError`` for field ``name``,
    with command-line options (``--minutes``) said as the field's ``label``."""
    try:
        yield
    except FieldError:
        raise
    except KindvoiceError as exc:
        raise FieldError(name, page_words(exc.format_message(), label)) from None


# --------------------------------------------------------------------------- the lists


def backgrounds() -> dict[str, str]:
    """Every background by name, with its one-line description."""
    from kindvoice.sound.beds import background_descriptions

    return background_descriptions()


def formats() -> list[str]:
    """The output formats the forms offer (``export.formats``: those the web accepts)."""
    return list(output_formats.names("web"))


# --------------------------------------------------------------------------- fields


def field_value(form: Form, name: str, table: str | None = None, label: str | None = None) -> Any:
    """Form field ``name`` read by session field ``table`` (default: the same name) of
    the field table; ``label`` names it in errors (default: the table's label). An empty
    field is refused: every field the forms read is filled in by the page."""
    spec = FIELDS[table or name]
    said = Said(label or spec.label, article="the ")
    try:
        found = spec.read(form.get(name, ""), said)
    except KindvoiceError as exc:
        raise FieldError(name, exc.message) from None
    if found is None:
        raise FieldError(name, said.says("is missing"))
    return found


def choice(form: Form, name: str, label: str, choices: list[str]) -> str:
    """Field ``name``, one of ``choices``; ``UnknownNameError`` listing them otherwise."""
    value = form.get(name, "").strip()
    if value not in choices:
        raise FieldError(name, UnknownNameError(label, value, choices).format_message())
    return value


def words(form: Form, name: str) -> str:
    """A free-text field with its runs of white space made single spaces."""
    return " ".join(form.get(name, "").split())


def export(form: Form) -> tuple[str, ExportSettings]:
    """(format, export settings) from the format and quality fields."""
    fmt = choice(form, "format", "format", formats())
    mono = bool(field_value(form, "channels", "mono")) if form.get("channels") else False
    bitrate_kbps = None
    if fmt == "mp3" and form.get("bitrate", "").strip():
        bitrate_kbps = int(field_value(form, "bitrate"))
    return fmt, ExportSettings(mono=mono, bitrate_kbps=bitrate_kbps)


def engine(form: Form) -> str:
    """The engine field: one of the engines the page lists."""
    return choice(form, "engine", "engine", [e["name"] for e in voices.engines()])


def voice(form: Form, card_: Mapping[str, Any] | None = None) -> VoiceSettings:
    """Engine, voice (one the page offers: ``voices.checked``) and pace from a form."""
    from kindvoice.speech.base import engine_class

    name = engine(form)
    chosen = checked_voice(form, name, card_)
    rate = field_value(form, "rate")
    # a recorded voice's phrases not yet recorded: spoken by the default synthetic voice
    fill = default_engine() if engine_class(name).recorded and form.get("fill") else None
    return VoiceSettings(engine=name, voice=chosen, rate=rate, fill_with=fill)


def checked_voice(form: Form, engine_: str, card_: Mapping[str, Any] | None = None) -> str | None:
    """The voice field: one the page lists for ``engine_`` (None: the default)."""
    with field("voice", "the voice"):
        return voices.checked(engine_, form.get("voice", "").strip()[:100], card_)


def background_spec(form: Form) -> str | None:
    """Ticked layers with their levels -> ``"rain@-3+drone@-8"``; None: the practice's.
    "none" has no level field: ticked alone it is silence, beside others it is dropped."""
    layers = []
    for name in backgrounds():
        if not form.get(f"bg_{name}"):
            continue
        if name == "none":
            layers.append(name)
            continue
        level = field_value(form, f"bg_{name}_db", "level", f"level of {name}")
        layers.append(name if level == 0 else f"{name}@{level:g}")
    if len(layers) > 1:
        layers = [layer for layer in layers if layer != "none"]
    return "+".join(layers) or None


def check_channels(background: str, mono: bool) -> None:
    """A background that needs stereo (binaural beats) with a mono file is refused by the
    channels field, before anything is queued."""
    from kindvoice.sound.beds import make_bed

    with field("background", "the background"):
        bed = make_bed(background)
    if mono and getattr(bed, "needs_stereo", False):
        raise FieldError(
            "channels",
            "Binaural beats need stereo (in mono they vanish): choose Stereo, or another "
            "background.",
        )


def variables(form: Form, card_: Mapping[str, Any]) -> dict[str, str]:
    """The practice's variables that the form fills (``var_<name>``); empty ones left out."""
    found = {}
    for var in card_.get("variables", ()):
        text = words(form, f"var_{var.name}")
        if len(text) > MAX_VARIABLE_CHARS:
            raise FieldError(
                f"var_{var.name}",
                f"'{var.describe or var.name}' is too long "
                f"(at most {MAX_VARIABLE_CHARS} characters).",
            )
        if text:
            found[var.name] = text
    return found


# --------------------------------------------------------------------------- whole forms


@dataclass(frozen=True)
class SessionForm:
    """The Build form, read: what to render, the job's title, and what the library keeps."""

    request: RenderRequest
    title: str
    practice_id: str
    info: dict[str, Any]


def build_render(form: Form) -> SessionForm:
    """The Build form -> the render it asks for."""
    language = translations.language_code(form.get("language"))
    value, path = practice(form.get("practice", ""), language)
    card_ = card(value, path)
    length_ms = field_value(form, "minutes")
    minutes = length_ms / 60_000.0
    fmt, export_ = export(form)
    fills = variables(form, card_)
    background = background_spec(form)
    check_channels(background or str(card_["background"]), export_.mono)
    voice_ = voice(form, card_)
    request = RenderRequest(
        practice=str(path),
        output=Path(f"session.{fmt}"),
        length_ms=length_ms,
        variables=fills,
        voice=voice_,
        mix=MixSettings(background=background),
        export=export_,
        workers=speech_workers(),
        templates_dir=current().templates_dir,
        language=language,
    )
    info = {
        "practice_field": value,
        "minutes": minutes,
        "engine": voice_.engine,
        "rate": voice_.rate,
        "format": fmt,
        "mono": export_.mono,
        "bitrate_kbps": export_.bitrate if fmt == "mp3" else None,
    }
    name = None
    if form.get("title", "").strip():  # the session's own name (kept by "render again")
        with field("title", "the name"):
            name = checked_title(form.get("title", ""), "The session's name")
        info["name"] = name
    shown = name or card_["title"]
    title = f"{shown}, {clock(s_to_samples(minutes * 60))}"
    # a session from an uploaded template is named by its title (its id is a hash)
    named = card_["title"] if value.startswith(UPLOAD_PREFIX) else card_.get("meta_id", value)
    return SessionForm(request, title, str(named), info)


def timer_render(form: Form) -> tuple[TimerSpec, RenderRequest, dict[str, Any]]:
    """The Timer form -> (the timer, the render, what the library keeps). A schedule that
    cannot ring fails here, not in the queue."""
    from kindvoice.sound.bells import bell_names
    from kindvoice.timer import TimerSpec, interval_offsets_ms, timer_meta

    minutes = field_value(form, "minutes", label="sitting time in minutes") / 60_000.0
    interval = form.get("interval", "").strip()
    at_text = form.get("at", "").strip()
    with field("warmup", "the warm-up"):
        warmup_ms = parse_ms(form.get("warmup", "").strip() or "0s", "warm-up")
    with field("interval", "the interval"):
        interval_ms = parse_ms(interval, "interval") if interval else None
    with field("at", "the bell time"):
        at_ms = tuple(parse_ms(t, "bell time") for t in at_text.split(",") if t.strip())
    spec = TimerSpec(
        minutes=minutes,
        warmup_ms=warmup_ms,
        interval_ms=interval_ms,
        at_ms=at_ms,
        bell=choice(form, "bell", "bell", bell_names()),
        welcome=words(form, "welcome")[:MAX_VARIABLE_CHARS],
    )
    try:  # the core's checks name command-line options: said as the fields they come from
        interval_offsets_ms(spec, timer_meta())
    except KindvoiceError as exc:
        message = exc.format_message()
        named = _OPTION.search(message)
        name, label = OPTION_FIELDS.get(named.group(0) if named else "", ("interval", ""))
        raise FieldError(name, page_words(message, label)) from None
    background = form.get("background", "none")
    choice(form, "background", "background", list(backgrounds()))
    fmt, export_ = export(form)
    check_channels(background, export_.mono)
    name = engine(form)
    request = RenderRequest(
        practice="timer",
        output=Path(f"timer.{fmt}"),
        voice=VoiceSettings(engine=name, voice=checked_voice(form, name)),
        mix=MixSettings(background=background),
        export=export_,
        workers=speech_workers(),
        templates_dir=current().templates_dir,
    )
    info = {"minutes": minutes, "format": fmt, "bell": spec.bell, "mono": export_.mono}
    return spec, request, info


def course_plan(form: Form) -> CoursePlan:
    """The Course form -> the course plan (installed practices by id only)."""
    from kindvoice.publish.course import CoursePlan

    with field("title", "the title"):
        title = checked_title(form.get("title", ""), "The course's title")
    teacher = words(form, "teacher") or "kindvoice"
    if len(teacher) > MAX_VARIABLE_CHARS:
        raise FieldError(
            "teacher", f"The teacher's name is too long (at most {MAX_VARIABLE_CHARS})."
        )
    days = field_value(form, "days")
    start = field_value(form, "start_minutes", "minutes", "first day's minutes") / 60_000.0
    end = field_value(form, "end_minutes", "minutes", "last day's minutes") / 60_000.0
    chosen = form.getlist("practices")
    top_practices = COURSE_LIMITS["practices"]
    if not chosen or len(chosen) > top_practices:
        raise FieldError("practices", f"Choose one to {top_practices} practices to cycle through.")
    if any(value.startswith(UPLOAD_PREFIX) for value in chosen):
        raise FieldError(
            "practices", "A course cycles installed practices; choose them from the list."
        )
    # bundled or user practices by id only; the plan gets their template files
    language = translations.language_code(form.get("language"))
    with field("practices", "the practice"):
        practices = tuple(str(practice(value, language)[1]) for value in chosen)
    name = engine(form)
    chosen_voice = checked_voice(form, name)
    if chosen_voice == voices.default_voice(name):
        chosen_voice = None  # each practice's own voice: its language's, for another language
    return CoursePlan(
        title=title,
        practices=practices,
        count=days,
        start_minutes=start,
        end_minutes=end,
        teacher=teacher,
        background=choice(form, "background", "background", list(backgrounds())),
        engine=name,
        voice=chosen_voice,
        language=language,
    )
