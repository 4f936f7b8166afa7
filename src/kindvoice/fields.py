"""The one table of session fields: every setting a session can be given, defined once.

Each ``Field`` says its type, its bounds, its default, its help text and how its value is
read and checked. Every front end reads this table: the command line (``cli.options``
makes the click options of ``build``, ``preview``, ``plan`` and ``timer`` from it), the
web forms (``web.forms``), batch manifests (``publish.batch``), course plans
(``publish.course``, ``publish.fields``) and a template's front matter
(``template.frontmatter``). So the rules cannot disagree: a value one front end refuses,
every front end refuses, and one that one accepts, all accept.

What differs is only the words: a bad value is reported in the words of the front end it
came from, through ``Said``: the option (``--rate``), the form field's label (the
speaking pace), the manifest column with its row (``Row 3: 'rate'``), the plan key with
its file (``plan.yaml: 'rate'``), the front matter key (``'voice.rate'``).

Names whose choices a stage owns (an engine, a background, an output format, a quality
preset, a language) are text here; the stage checks them (``speech.base``,
``sound.beds``, ``export.formats``, ``export.quality``, ``languages``), and ``owner``
says which.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from kindvoice.durations import MINUTES_FORMS, read_ms
from kindvoice.errors import DurationError, UsageError
from kindvoice.settings import (
    MAX_COURSE_SESSIONS,
    MAX_SESSION_MINUTES,
    MAX_SPEECH_RATE,
    MIN_SPEECH_RATE,
)

#: ``length``: a session's length in the one duration grammar (a bare number is minutes),
#: read as whole milliseconds, the one value the length solver gets; its bounds are minutes
Kind = Literal["length", "number", "count", "text", "choice", "flag", "pairs", "path"]


@dataclass(frozen=True)
class Said:
    """How a front end names a field in its messages: ``prefix`` places it (``"Row 3: "``,
    ``"plan.yaml: "``), ``name`` names it (``--rate``, ``'rate'``, ``speaking pace``),
    ``article`` comes before a name that is words (the web's "the")."""

    name: str
    prefix: str = ""
    article: str = ""

    def says(self, predicate: str) -> str:
        """``<prefix><the name> <predicate>.``, its first letter a capital."""
        sentence = f"{self.article}{self.name} {predicate}"
        return f"{self.prefix}{sentence[:1].upper()}{sentence[1:]}."


@dataclass(frozen=True)
class Field:
    """One session field. ``low``/``high`` bound a number (inclusive); ``positive`` asks
    for more than zero; ``choices`` lists a choice field's values; ``max_chars`` caps
    text. ``option`` is its command-line option (None: not on the command line),
    ``label`` its words on the web pages, ``owner`` the module that checks its names.
    ``help`` may say ``{engines}``: the engine registry's list (``speech.registry``)."""

    name: str
    kind: Kind
    help: str
    label: str
    option: str | None = None
    default: Any = None
    low: float | None = None
    high: float | None = None
    positive: bool = False
    choices: tuple[str, ...] = ()
    max_chars: int | None = None
    owner: str = ""

    def bounds(self) -> str:
        """The bounds in words: ``between 0.5 and 2``, ``a positive length of at most
        600 minutes``, ``one of: 64, 96``."""
        if self.choices:
            return f"one of: {', '.join(self.choices)}"
        if self.positive:
            return f"a positive length of at most {self.high:g} minutes"
        whole = "a whole number " if self.kind == "count" else ""
        return f"{whole}between {self.low:g} and {self.high:g}"

    def read(self, value: object, said: Said) -> Any:
        """``value`` (text from the command line, a form or a CSV cell; any YAML value
        from a manifest, a plan or front matter) as this field's type, checked; None
        when it is absent or empty (the default applies). A bad value raises
        ``UsageError`` in ``said``'s words."""
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if self.kind == "length":
            return self._length_ms(value, said)
        if self.kind in ("number", "count"):
            return self._number(value, said)
        if self.kind == "flag":
            return _flag(value, said)
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise UsageError(said.says(f"must be text; got {_yaml_kind(value)}"))
        text = " ".join(str(value).split())
        if self.max_chars is not None and len(text) > self.max_chars:
            raise UsageError(said.says(f"is too long (at most {self.max_chars} characters)"))
        if self.choices and text.lower() not in self.choices:
            raise UsageError(said.says(f"must be {self.bounds()}; got '{text:.60}'"))
        return text.lower() if self.choices else text

    def _length_ms(self, value: object, said: Said) -> int:
        if isinstance(value, str):  # the one duration grammar: 12.5, 12:30, 750s
            try:
                ms = read_ms(value.strip(), bare="minutes")
            except DurationError as exc:
                because = f": {exc.reason}" if exc.reason else ""
                raise UsageError(
                    f"{said.prefix}Cannot read the {said.name} '{value.strip():.60}'{because}; "
                    f"write {MINUTES_FORMS}."
                ) from None
            minutes = ms / 60_000.0
        else:
            minutes = self._number(value, said)
            ms = round(minutes * 60_000.0)
        if not self._within(minutes):
            raise UsageError(said.says(f"must be {self.bounds()}; got {minutes:g}"))
        return ms

    def _number(self, value: object, said: Said) -> float | int:
        if isinstance(value, str):
            number = self._parse(value.strip(), said)
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            raise UsageError(said.says(f"must be a number; got {_yaml_kind(value)}"))
        else:
            number = float(value)
        if not math.isfinite(number) or (self.kind != "length" and not self._within(number)):
            raise UsageError(said.says(f"must be {self.bounds()}; got {number:g}"))
        if self.kind == "count" and number != int(number):
            raise UsageError(said.says(f"must be a whole number; got {number:g}"))
        return int(number) if self.kind == "count" else number

    def _parse(self, text: str, said: Said) -> float:
        try:
            return float(text)
        except ValueError:
            raise UsageError(said.says(f"must be a number; got '{text:.60}'")) from None

    def _within(self, number: float) -> bool:
        if self.positive:
            return 0 < number <= (self.high if self.high is not None else math.inf)
        low = self.low if self.low is not None else -math.inf
        high = self.high if self.high is not None else math.inf
        return low <= number <= high


def _flag(value: object, said: Said) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "yes", "true", "on", "mono"):
        return True
    if text in ("0", "no", "false", "off", "stereo"):
        return False
    raise UsageError(said.says(f"must be yes or no; got '{text:.60}'"))


def _yaml_kind(value: object) -> str:
    kinds = {list: "a list", dict: "a mapping", bool: "yes/no", str: "text"}
    return kinds.get(type(value), "a number" if isinstance(value, (int, float)) else "not text")


#: the text a name or a tag may hold (a voice name, an artist, a variable's value)
MAX_TEXT_CHARS = 200
#: the MP3 bitrates a listener may choose, in kbps
BITRATES_KBPS = (64, 96, 128, 160, 192, 256)

_FIELDS = (
    Field(
        "minutes",
        "length",
        "Total length in minutes, such as 12.5 (default: the practice's).",
        "length in minutes",
        option="--minutes",
        positive=True,
        high=MAX_SESSION_MINUTES,
    ),
    Field(
        "length",
        "length",
        "Total length as MM:SS, H:MM:SS, 90s or 1m30s.",
        "length",
        option="--length",
        positive=True,
        high=MAX_SESSION_MINUTES,
    ),
    Field(
        "engine",
        "text",
        "Speech engine: {engines}. $KINDVOICE_ENGINE sets the default.",
        "engine",
        option="--engine",
        max_chars=40,
        owner="kindvoice.speech.base",
    ),
    Field(
        "voice",
        "text",
        "A voice of the engine (`kindvoice voices`): heart, michael, emma ... or"
        " ENGINE:VOICE; your own recorded voice: recorded:NAME.",
        "voice",
        option="--voice",
        max_chars=100,
        owner="kindvoice.speech.base",
    ),
    Field(
        "rate",
        "number",
        f"Speaking pace from {MIN_SPEECH_RATE:g} to {MAX_SPEECH_RATE:g}: 1.0 is the engine's"
        " normal pace (default: the template's kind; kokoro speaks a practice at 0.8, a talk"
        " at 0.86).",
        "speaking pace",
        option="--rate",
        low=MIN_SPEECH_RATE,
        high=MAX_SPEECH_RATE,
    ),
    Field(
        "language",
        "text",
        "Speak a practice's translation: es, pt-BR, fr or it (default: English). The voice"
        " follows the language.",
        "language",
        option="--language",
        max_chars=20,
        owner="kindvoice.languages",
    ),
    Field(
        "variables",
        "pairs",
        "Fill a template variable (repeatable).",
        "variables",
        option="--var",  # a value's length is the template's to bound (template.limits)
    ),
    Field(
        "background",
        "text",
        "Background: drone, brown, pink, rain, ocean, none; layer with '+', set a level"
        " with '@' (rain@-6).",
        "background",
        option="--background",
        max_chars=MAX_TEXT_CHARS,
        owner="kindvoice.sound.beds",
    ),
    Field(
        "level",
        "number",
        "A background layer's level in dB beside its usual one (rain@-6).",
        "level",
        low=-30.0,
        high=6.0,
        default=0.0,
    ),
    Field(
        "format",
        "text",
        "The output format (the output's extension on the command line).",
        "format",
        default="mp3",
        max_chars=10,
        owner="kindvoice.export.formats",
    ),
    Field("mono", "flag", "Mono output (64 kbps MP3, -19 LUFS).", "channels", "--mono", False),
    Field(
        "bitrate",
        "choice",
        "MP3 bitrate in kbps (default: 128 stereo, 64 mono).",
        "bitrate",
        choices=tuple(str(b) for b in BITRATES_KBPS),
    ),
    Field(
        "quality",
        "choice",
        "standard: stereo 128 kbps (default); voice: mono 64 kbps; music: stereo 160 kbps.",
        "quality",
        option="--quality",
        choices=("standard", "voice", "music"),
        owner="kindvoice.export.quality",
    ),
    Field("title", "text", "The session's title tag.", "title", max_chars=MAX_TEXT_CHARS),
    Field(
        "artist",
        "text",
        "Artist tag.",
        "artist",
        option="--artist",
        default="kindvoice",
        max_chars=MAX_TEXT_CHARS,
    ),
    Field("album", "text", "Album tag.", "album", max_chars=MAX_TEXT_CHARS),
    Field(
        "cover",
        "path",
        "Your own cover image (cropped to a 1400 px square); default: a generated one.",
        "cover",
        option="--cover",
    ),
    Field(
        "fill_with",
        "text",
        "With --voice recorded:NAME, speak the phrases not recorded yet with this synthetic"
        " voice (kokoro:heart, pyttsx3); the tags and transcript say so.",
        "fill-in voice",
        option="--fill-with",
        max_chars=100,
    ),
    Field(
        "workers",
        "count",
        "Speech worker processes (default: cores).",
        "speech workers",
        option="--workers",
        low=1,
        high=64,
    ),
    Field(
        "days",
        "count",
        "How many sessions a course has.",
        "number of days",
        low=1,
        high=MAX_COURSE_SESSIONS,
    ),
)

#: every session field by name
FIELDS: dict[str, Field] = {f.name: f for f in _FIELDS}


def field(name: str) -> Field:
    """The field ``name`` of the table (a KeyError is a bug: every name is written here)."""
    return FIELDS[name]


def read(name: str, value: object, said: Said) -> Any:
    """``FIELDS[name].read(value, said)``: the value as its type, checked."""
    return FIELDS[name].read(value, said)


def names(kind: Kind | None = None) -> Sequence[str]:
    """The fields' names (of one ``kind``)."""
    return [f.name for f in _FIELDS if kind is None or f.kind == kind]
