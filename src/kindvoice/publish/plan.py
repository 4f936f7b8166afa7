"""Course plans: the YAML a course is made from, read and checked into a ``CoursePlan``.

A plan gives ``title``, ``teacher``, ``days`` (or ``sessions``), ``start_minutes``,
``end_minutes`` and the ``practices`` to cycle, or ``weeks`` (each week's practices and
minutes); optionally the session fields (``engine``, ``voice``, ``rate``, ``background``,
``variables``, ``quality``, ``format``, ``language``) and ``base_url``. Each session
field is read by the one table of session fields (``kindvoice.fields``), a bad value
named by its key and the file (``plan.yaml: 'rate' ...``). Shipped plans
(``meditations/courses/<name>.yaml``) are found by name (``resolve_plan``);
``publish.course`` renders a plan.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from kindvoice.errors import UnknownNameError, UsageError, check_regular_file, did_you_mean
from kindvoice.export import formats
from kindvoice.fields import FIELDS
from kindvoice.languages import find_language
from kindvoice.publish.course_model import DAYS_A_WEEK, CoursePlan
from kindvoice.publish.feed import check_base_url
from kindvoice.publish.fields import (
    background_field,
    minutes_field,
    rate_field,
    said,
    text_field,
)
from kindvoice.settings import MAX_COURSE_SESSIONS

PLAN_KEYS = (
    "title",
    "teacher",
    "description",
    "days",
    "sessions",
    "start_minutes",
    "end_minutes",
    "practices",
    "background",
    "engine",
    "voice",
    "rate",
    "language",
    "variables",
    "quality",
    "format",
    "base_url",
    "private",
    "weeks",
)
WEEK_KEYS = ("practices", "minutes")
FORMATS = formats.names("course")  # mp3, m4a, opus, ogg, flac (no wav in a feed)


def bundled_plans_dir() -> Path:
    """The shipped course plans: ``courses/`` in the bundled practice folder."""
    from kindvoice.template.library import bundled_dir

    return bundled_dir() / "courses"


def shipped_plans() -> list[str]:
    """The names of the shipped plans (``starter``, ...)."""
    folder = bundled_plans_dir()
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []


def resolve_plan(name_or_path: str) -> Path:
    """A plan file: ``name_or_path`` itself when it is a file, else a shipped plan's name."""
    candidate = Path(name_or_path).expanduser()
    if candidate.is_file():
        return candidate
    shipped = bundled_plans_dir() / f"{name_or_path}.yaml"
    if "/" not in name_or_path and shipped.is_file():
        return shipped
    if name_or_path.endswith((".yaml", ".yml")) or "/" in name_or_path:
        raise UsageError(f"Plan file '{name_or_path}' not found: check the path, or give a name.")
    raise UnknownNameError("course plan", name_or_path, shipped_plans())


def _check_keys(data: Mapping[Any, Any], keys: Sequence[str], where: str) -> None:
    """Every key of ``data`` is one of ``keys``; else one line with the closest and all."""
    for key in data:
        if key not in keys:
            hint = did_you_mean(str(key), keys)
            raise UsageError(f"{where}: unknown key '{key}'.{hint} Keys: {', '.join(keys)}")


def _week(week: object, number: int, base: Path, where: Path) -> list[tuple[str, float]]:
    """One ``weeks:`` entry as seven (practice, wanted minutes) days."""
    label = f"{where}: week {number}"
    if not isinstance(week, Mapping):
        raise UsageError(f"{label} must be a mapping (practices:, minutes:).")
    _check_keys(week, WEEK_KEYS, label)
    entries = week.get("practices")
    if not isinstance(entries, list) or not entries:
        raise UsageError(f"{label}: 'practices' must list at least one practice id or path.")
    minutes = week.get("minutes")
    span = minutes if isinstance(minutes, list) else [minutes, minutes]
    if len(span) != 2:
        raise UsageError(f"{label}: 'minutes' must be a number or [from, to].")
    low, high = (minutes_field({"minutes": m}, "minutes", where) for m in span)
    days: list[tuple[str, float]] = []
    for i, wanted in enumerate(course_lengths(DAYS_A_WEEK, low, high)):
        entry = entries[i % len(entries)]
        length: float = wanted
        if isinstance(entry, Mapping):
            if set(entry) - {"practice", "minutes"} or "practice" not in entry:
                raise UsageError(f"{label}: a practice entry is an id or {{practice:, minutes:}}.")
            if "minutes" in entry:
                length = minutes_field(entry, "minutes", where)
            entry = entry["practice"]
        days.append((_practice_path(str(entry), base), length))
    return days


def _weeks(data: Mapping[str, Any], path: Path) -> tuple[tuple[str, float], ...]:
    clash = [
        k for k in ("days", "sessions", "practices", "start_minutes", "end_minutes") if k in data
    ]
    if clash:
        raise UsageError(
            f"{path}: 'weeks' replaces {', '.join(repr(k) for k in clash)}; drop them."
        )
    weeks = data["weeks"]
    if not isinstance(weeks, list) or not weeks:
        raise UsageError(f"{path}: 'weeks' must list at least one week.")
    most = MAX_COURSE_SESSIONS // DAYS_A_WEEK
    if len(weeks) > most:  # checked before any week is read: each is seven renders
        raise UsageError(
            f"{path}: {len(weeks):,} weeks are {len(weeks) * DAYS_A_WEEK:,} sessions; a course "
            f"holds at most {MAX_COURSE_SESSIONS}: give at most {most} weeks."
        )
    return tuple(d for n, w in enumerate(weeks, 1) for d in _week(w, n, path.parent, path))


def load_plan(path: Path) -> CoursePlan:
    """Read and check a course plan; every problem names the file and the key."""
    data = _read(path)
    title = text_field(data, "title", path) or ""
    if not title:
        raise UsageError(f"{path}: the plan needs a 'title'.")
    schedule = _weeks(data, path) if "weeks" in data else ()
    if schedule:
        unit, count = "Day", len(schedule)
        practices: list[Any] = list(dict.fromkeys(p for p, _ in schedule))
        data = {**data, "start_minutes": schedule[0][1], "end_minutes": schedule[-1][1]}
    else:
        unit, count, practices = _count_and_practices(data, path)
    fmt = str(data.get("format") or "mp3").lower().lstrip(".")
    if fmt not in FORMATS:
        raise UsageError(f"{path}: unknown format '{fmt}'. Choose one of: {', '.join(FORMATS)}")
    variables = _variables(data, path)
    background = background_field(data, path)  # a bad name or level fails now
    base_url = text_field(data, "base_url", path)
    if base_url is not None:
        check_base_url(base_url, "base_url")
    return CoursePlan(
        title=title,
        practices=tuple(_practice_path(str(p), path.parent) for p in practices),
        count=count,
        start_minutes=minutes_field(data, "start_minutes", path),
        end_minutes=minutes_field(data, "end_minutes", path),
        teacher=text_field(data, "teacher", path) or "kindvoice",
        description=text_field(data, "description", path) or "",
        unit=unit,
        background=background,
        engine=text_field(data, "engine", path),
        voice=text_field(data, "voice", path),
        rate=rate_field(data, path),
        language=find_language(str(data["language"])).code if data.get("language") else None,
        variables=variables,
        quality=text_field(data, "quality", path),
        format=fmt,
        base_url=base_url,
        private=bool(data.get("private", False)),
        schedule=schedule,
    )


def _read(path: Path) -> Mapping[str, Any]:
    """The plan file's YAML mapping, its keys checked (UTF-8, safe YAML, known keys)."""
    from kindvoice.safe_yaml import load_yaml  # no aliases, one-line errors

    check_regular_file(path, "plan")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"Cannot read plan '{path}': {exc.strerror or exc}.") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise UsageError(
            f"{path}:{line}: not UTF-8 (byte 0x{raw[exc.start]:02x}): save the plan as UTF-8."
        ) from None
    data = load_yaml(text, str(path))
    if not isinstance(data, Mapping):
        raise UsageError(f"Plan '{path}' must be a YAML mapping (title:, days:, practices: ...).")
    _check_keys(data, PLAN_KEYS, str(path))
    return data


def _count_and_practices(data: Mapping[str, Any], path: Path) -> tuple[str, int, list[Any]]:
    """A ``days:`` or ``sessions:`` plan's unit ("Day", "Session"), how many (the field
    table's ``days``) and the practices it cycles."""
    if ("days" in data) == ("sessions" in data):
        raise UsageError(f"{path}: give 'days' or 'sessions' (how many), or 'weeks', one of them.")
    unit = "Day" if "days" in data else "Session"
    key = "days" if "days" in data else "sessions"
    count = FIELDS["days"].read(data[key], said(key, path))
    if count is None:
        raise UsageError(said(key, path).says(f"must be {FIELDS['days'].bounds()}"))
    practices = data.get("practices")
    if isinstance(practices, str):
        practices = [practices]
    if not isinstance(practices, list) or not practices:
        raise UsageError(f"{path}: 'practices' must list at least one practice id or path.")
    for entry in practices:
        if isinstance(entry, bool) or not isinstance(entry, (str, int, float)):
            raise UsageError(f"{path}: 'practices' must list practice ids or paths; got {entry!r}.")
    return unit, int(count), practices


def _variables(data: Mapping[str, Any], path: Path) -> dict[str, str]:
    """``variables``: a mapping of names to text."""
    variables = data.get("variables") or {}
    if not isinstance(variables, Mapping):
        raise UsageError(f"{path}: 'variables' must be a mapping (name: value).")
    for name in variables:
        text_field(variables, name, f"{path}: variables")
    return {str(k): "" if v is None else str(v) for k, v in variables.items()}


def _practice_path(practice: str, base: Path) -> str:
    """A template path relative to the plan is made absolute; ids stay ids."""
    candidate = base / practice
    return str(candidate) if practice.endswith(".md") and candidate.is_file() else practice


def course_lengths(count: int, start_minutes: float, end_minutes: float) -> list[int]:
    """``count`` whole-minute lengths growing linearly from start to end."""
    if count == 1:
        return [round(start_minutes)]
    step = (end_minutes - start_minutes) / (count - 1)
    return [round(start_minutes + step * i) for i in range(count)]
