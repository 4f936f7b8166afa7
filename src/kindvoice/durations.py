"""Durations: the one grammar for every length or time a person writes, and the one clock.

Every ``--minutes``, ``--length``, ``--at``, ``--interval``, ``--warmup``, template marker
(``[pause 5s]``, ``[from 15m]``), music start (``#t=1m30s``) and manifest value is read by
``read_ms``; every time shown to a person is written by ``clock``. The grammar:

- a clock: ``MM:SS`` (``7:30``; the seconds below 60) or ``H:MM:SS`` (``1:02:03``; the
  minutes and seconds below 60); the last field may have a fraction (``0:05.5``);
- units: ``500ms``, ``90s``, ``1.5s``, ``2m``, ``1m30s``, ``1m500ms`` (m, s and ms, in
  that order; spaces and case do not matter);
- a bare number (``12.5``) only where the docs say minutes (``bare="minutes"``: lengths);
  elsewhere it is refused, because it could be seconds or minutes.

Every error is one line naming the value and the accepted forms. Nothing here imports
above ``audio`` and ``errors``.
"""

from __future__ import annotations

import re
from typing import Literal

from kindvoice.audio import SAMPLE_RATE
from kindvoice.errors import DurationError, UsageError

MAX_MS = 24 * 3600 * 1000  # nothing kindvoice makes or waits for is longer than a day
FORMS = "500ms, 5s, 1.5s, 2m, 1m30s, MM:SS (7:30) or H:MM:SS (1:02:03)"
MINUTES_FORMS = "12.5 (minutes), MM:SS (12:30), H:MM:SS (1:02:03), 90s or 1m30s"

_NUMBER = r"[0-9]+(?:\.[0-9]+)?"
_UNITS = re.compile(rf"(?:(?P<m>{_NUMBER})m(?!s))?(?:(?P<s>{_NUMBER})s)?(?:(?P<ms>{_NUMBER})ms)?")
_UNIT_MS = {"m": 60_000.0, "s": 1000.0, "ms": 1.0}
_CLOCK = re.compile(r"[0-9]+(?::[0-9]+){1,2}(?:\.[0-9]+)?")

Bare = Literal["minutes"] | None
Hours = Literal["auto", "always", "padded"]


def read_ms(text: str, bare: Bare = None) -> int:
    """A duration in the grammar above, in whole milliseconds; raises ``DurationError``.

    Callers that own the error line (template markers, which name file:line:col) use this;
    the others use ``parse_ms`` or ``parse_minutes``."""
    cleaned = text.strip().lower().replace(" ", "")
    if cleaned.startswith("-"):
        raise DurationError("it must be positive")
    if _CLOCK.fullmatch(cleaned):
        total = _clock_ms(cleaned)
    elif bare == "minutes" and re.fullmatch(_NUMBER, cleaned):
        total = float(cleaned) * 60_000.0
    else:
        match = _UNITS.fullmatch(cleaned)
        if match is None or not any(match.groupdict().values()):
            raise DurationError()
        total = sum(float(v) * _UNIT_MS[k] for k, v in match.groupdict().items() if v)
    if total > MAX_MS:
        raise DurationError("it is over 24 hours")
    return round(total)


def _clock_ms(text: str) -> float:
    """``7:30`` / ``1:02:03`` / ``0:05.5`` -> ms; every field after the first is below 60."""
    fields = text.split(":")
    names = ("minutes", "seconds") if len(fields) == 3 else ("seconds",)
    for name, field in zip(names, fields[1:], strict=True):
        whole = field.split(".")[0]
        if len(whole) > 2 or int(whole) >= 60:
            raise DurationError(f"the {name} must be below 60")
    total = 0.0
    for field in fields:
        total = total * 60.0 + float(field)
    return total * 1000.0


def _message(what: str, text: str, reason: str, forms: str) -> str:
    because = f": {reason}" if reason else ""
    return f"Cannot read the {what} '{text.strip()}'{because}; write {forms}."


def parse_ms(text: str, what: str = "duration") -> int:
    """A time (``--at``, ``--interval``, ``#t=``) in milliseconds; a bare number is refused.
    ``what`` names the option in the one-line ``UsageError``."""
    try:
        return read_ms(text)
    except DurationError as exc:
        raise UsageError(_message(what, text, exc.reason, FORMS)) from None


def parse_length_ms(text: str, what: str = "length") -> int:
    """A session's length (``--minutes``, ``--length``, a manifest's minutes or length) in
    milliseconds, the one value the length solver gets: a bare number is minutes
    (``12.5``); ``12:30``, ``1:02:03``, ``750s`` work too."""
    try:
        return read_ms(text, bare="minutes")
    except DurationError as exc:
        raise UsageError(_message(what, text, exc.reason, MINUTES_FORMS)) from None


def parse_minutes(text: str, what: str = "length") -> float:
    """``parse_length_ms`` in minutes, for what is counted in minutes (a timer's sitting)."""
    return parse_length_ms(text, what) / 60_000.0


def clock(
    samples: int,
    digits: int = 0,
    *,
    hours: Hours = "auto",
    separator: str = ".",
    trim: bool = False,
) -> str:
    """A time in samples (at the house rate) as a clock, the one formatter for people and files.

    ``digits``: decimals of a second (0 to 3). ``hours``: "auto" writes m:ss below an hour
    and h:mm:ss above, "always" h:mm:ss (podcast durations), "padded" hh:mm:ss (SRT, VTT,
    Vorbis chapters). ``separator`` goes before the decimals ("," for SRT). ``trim`` leaves
    the decimals out when they are zero (``1:00`` but ``19:49.9``)."""
    scale = 10**digits
    units = round(max(samples, 0) * scale / SAMPLE_RATE)
    whole, fraction = divmod(units, scale)
    h, rest = divmod(whole, 3600)
    m, s = divmod(rest, 60)
    if hours == "padded":
        text = f"{h:02d}:{m:02d}:{s:02d}"
    elif hours == "always" or h:
        text = f"{h}:{m:02d}:{s:02d}"
    else:
        text = f"{m}:{s:02d}"
    if digits and not (trim and fraction == 0):
        text += f"{separator}{fraction:0{digits}d}"
    return text
