"""The fields of a course plan, read by the one table of session fields
(``kindvoice.fields``): YAML gives any type (a list, a mapping, yes/no, ``.nan``), and each
field is checked before use with the rules every front end shares, the file and the key
named in one line, so no value of the wrong type reaches a render as an internal error.
Keys of a plan alone (``teacher``, ``description``, ``base_url``) are read as text here."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kindvoice.errors import KindvoiceError, UsageError
from kindvoice.fields import FIELDS, Said


def said(key: str, where: object) -> Said:
    """How a plan names its key ``key``: ``plan.yaml: 'rate'``."""
    return Said(f"'{key}'", prefix=f"{where}: ")


def minutes_field(data: Mapping[str, Any], key: str, where: object) -> float:
    """``key`` as a session's length in minutes (``fields.FIELDS["minutes"]``, which
    reads it in ms); required."""
    spec = FIELDS["minutes"]
    length_ms = spec.read(data.get(key), said(key, where))
    if length_ms is None:
        raise UsageError(said(key, where).says(f"must be {spec.bounds()}; it is missing"))
    return float(length_ms) / 60_000.0


def text_field(data: Mapping[str, Any], key: str, where: object) -> str | None:
    """``key`` as text (a number is read as its digits), None when absent or empty;
    a list, mapping or yes/no is refused with the file and the key. A session field
    (``title``, ``engine``, ``voice`` ...) is read by its row of the table."""
    value = data.get(key)
    if key in FIELDS and FIELDS[key].kind in ("text", "choice"):
        found: str | None = FIELDS[key].read(value, said(key, where))
        return found
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        kind = {list: "a list", dict: "a mapping", bool: "yes/no"}.get(type(value), "not text")
        raise UsageError(f"{where}: '{key}' must be text; got {kind} ({value!r:.60}).")
    return str(value).strip() or None


def rate_field(data: Mapping[str, Any], where: object) -> float | None:
    """``rate``: the speaking pace (``fields.FIELDS["rate"]``, as ``--rate``), or None."""
    found: float | None = FIELDS["rate"].read(data.get("rate"), said("rate", where))
    return found


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
