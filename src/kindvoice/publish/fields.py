"""Type checks for the fields of a course plan: YAML gives any type (a list, a mapping,
yes/no, ``.nan``), and each field is checked before use, the file and the key named in
one line, so no value of the wrong type reaches a render as an internal error."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kindvoice.errors import KindvoiceError, UsageError

MAX_SESSION_MINUTES = 24 * 60


def minutes_field(data: Mapping[str, Any], key: str, where: object) -> float:
    """``key`` as a number of minutes above 0 and at most a day (NaN and inf refused)."""
    value = data.get(key)
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not 0 < value <= MAX_SESSION_MINUTES  # NaN fails this too
    ):
        raise UsageError(
            f"{where}: '{key}' must be a number of minutes from 1 to {MAX_SESSION_MINUTES}; "
            f"got {value!r}."
        )
    return float(value)


def text_field(data: Mapping[str, Any], key: str, where: object) -> str | None:
    """``key`` as text (a number is read as its digits), None when absent or empty;
    a list, mapping or yes/no is refused with the file and the key."""
    value = data.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        kind = {list: "a list", dict: "a mapping", bool: "yes/no"}.get(type(value), "not text")
        raise UsageError(f"{where}: '{key}' must be text; got {kind} ({value!r:.60}).")
    return str(value).strip() or None


def rate_field(data: Mapping[str, Any], where: object) -> float | None:
    """``rate``: the speaking pace, 0.3 to 3.0 (as ``--rate``), or None."""
    value = data.get("rate")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.3 <= value <= 3:
        raise UsageError(f"{where}: 'rate' must be a number from 0.3 to 3.0; got {value!r}.")
    return float(value)


def background_field(data: Mapping[str, Any], where: object) -> str | None:
    """``background``: text whose names and levels are checked now (as ``make_bed`` would,
    without making a sound), so a bad one fails before any session renders."""
    from kindvoice.sound.beds import check_background

    spec = text_field(data, "background", where)
    if spec is not None:
        try:
            check_background(spec)
        except KindvoiceError as exc:  # the same error (and exit status), placed
            raise exc.placed(f"{where}: 'background': {exc.message}") from None
    return spec
