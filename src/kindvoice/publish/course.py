"""Courses: a plan becomes a numbered series of sessions that grow gradually in length.

A plan is YAML::

    title: Three Weeks of Kindness
    teacher: Sam Rivera
    days: 21                  # or sessions: 21 (the tracks say "Day n" or "Session n")
    start_minutes: 3
    end_minutes: 15
    practices: [self-compassion-break, soothing-touch, morning-intention]  # cycled
    background: brown         # optional: engine, voice, rate, variables, quality, format
    base_url: https://example.org/kindness   # optional: also write the podcast feed

Instead of ``days``, ``practices`` and the minutes, a plan may give ``weeks``: a list of
weeks, each with its ``practices`` (one a day, in order; fewer than seven are cycled) and
its ``minutes`` (one number, or ``[from, to]`` growing across the week). A practice entry
may be a mapping ``{practice: id, minutes: 5}`` to fix that day's length. Shipped plans
(``meditations/courses/<name>.yaml``, for example ``starter``) are found by name.

Lengths grow linearly from start to end, rounded to whole minutes and clamped to what
each practice can fill with the chosen voice. The series renders through the batch
machinery as ``01-<practice>.mp3`` ..., tagged as one album (album = title, artist =
teacher, track n/N), with an M3U playlist, an index page and, with a base URL, a feed.
"""

from __future__ import annotations

import html
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kindvoice.errors import UnknownNameError, UsageError, check_regular_file, did_you_mean
from kindvoice.export import formats
from kindvoice.fields import FIELDS
from kindvoice.languages import find_language
from kindvoice.publish.batch import BatchProgress, run_batch
from kindvoice.publish.feed import check_base_url
from kindvoice.publish.fields import (
    background_field,
    minutes_field,
    rate_field,
    said,
    text_field,
)
from kindvoice.publish.jobs import Job, Outcome
from kindvoice.settings import MAX_COURSE_SESSIONS, MixSettings, RenderRequest, VoiceSettings

if TYPE_CHECKING:
    from kindvoice.publish.executors import Backend

log = logging.getLogger(__name__)

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
DAYS_A_WEEK = 7
FORMATS = formats.names("course")  # mp3, m4a, opus, ogg, flac (no wav in a feed)
PLAYLIST = "playlist.m3u"


@dataclass(frozen=True)
class CoursePlan:
    """A validated plan."""

    title: str
    practices: tuple[str, ...]
    count: int
    start_minutes: float
    end_minutes: float
    teacher: str = "kindvoice"
    description: str = ""
    unit: str = "Day"  # "Day" for days:, "Session" for sessions:
    background: str | None = None
    engine: str | None = None  # None: the default engine
    voice: str | None = None
    rate: float | None = None
    language: str | None = None  # the practices' translation (None: English)
    variables: dict[str, str] = field(default_factory=dict, hash=False)
    quality: str | None = None
    format: str = "mp3"
    base_url: str | None = None
    private: bool = False
    #: (practice, wanted minutes) per session, from ``weeks:``; empty: cycle ``practices``
    schedule: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class Session:
    """One planned session of the course."""

    number: int
    practice: str
    minutes: int
    title: str
    summary: str
    file_name: str


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
    title = text_field(data, "title", path) or ""
    if not title:
        raise UsageError(f"{path}: the plan needs a 'title'.")
    schedule = _weeks(data, path) if "weeks" in data else ()
    practices: Any
    if schedule:
        unit, count, practices = "Day", len(schedule), list(dict.fromkeys(p for p, _ in schedule))
        data = {**data, "start_minutes": schedule[0][1], "end_minutes": schedule[-1][1]}
    else:
        if ("days" in data) == ("sessions" in data):
            raise UsageError(
                f"{path}: give 'days' or 'sessions' (how many), or 'weeks', one of them."
            )
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
    fmt = str(data.get("format") or "mp3").lower().lstrip(".")
    if fmt not in FORMATS:
        raise UsageError(f"{path}: unknown format '{fmt}'. Choose one of: {', '.join(FORMATS)}")
    variables = data.get("variables") or {}
    if not isinstance(variables, Mapping):
        raise UsageError(f"{path}: 'variables' must be a mapping (name: value).")
    for name in variables:
        text_field(variables, name, f"{path}: variables")
    for entry in practices:
        if isinstance(entry, bool) or not isinstance(entry, (str, int, float)):
            raise UsageError(f"{path}: 'practices' must list practice ids or paths; got {entry!r}.")
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
        variables={str(k): "" if v is None else str(v) for k, v in variables.items()},
        quality=text_field(data, "quality", path),
        format=fmt,
        base_url=base_url,
        private=bool(data.get("private", False)),
        schedule=schedule,
    )


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


def _request(
    plan: CoursePlan,
    practice: str,
    output: Path,
    minutes: float | None,
    templates_dir: Path | None,
    workers: int | None,
) -> RenderRequest:
    from kindvoice.export.quality import export_settings

    return RenderRequest(
        practice=practice,
        output=output,
        length_ms=None if minutes is None else minutes * 60_000.0,
        variables=dict(plan.variables),
        voice=VoiceSettings(engine=plan.engine, voice=plan.voice, rate=plan.rate),
        mix=MixSettings(background=plan.background),
        export=export_settings(plan.quality, artist=plan.teacher, album=plan.title),
        workers=workers,
        templates_dir=templates_dir,
        language=plan.language,
    )


def declared_minutes(
    plan: CoursePlan, practice: str, templates_dir: Path | None = None
) -> tuple[int, int | None, str, str, str]:
    """The whole minutes of the ``minutes`` range ``practice`` declares (what its author
    wrote it for, and what ``validate`` checks it can fill), with its id, title and
    summary, in the plan's language. Nothing is spoken here: a length is checked when its
    session renders."""
    from kindvoice.template.library import resolve_practice
    from kindvoice.template.parse import load_template

    path = resolve_practice(practice, templates_dir, plan.language)
    meta = load_template(path, plan.variables).meta
    low_min = max(1, math.ceil(meta.minutes.min - 1e-9))
    high_min = max(low_min, math.floor(meta.minutes.max + 1e-9))
    return low_min, high_min, meta.id, meta.title, meta.summary


def plan_sessions(plan: CoursePlan, templates_dir: Path | None = None) -> list[Session]:
    """The sessions in order: practice (cycled), whole-minute length (clamped), file name."""
    ranges = {p: declared_minutes(plan, p, templates_dir) for p in dict.fromkeys(plan.practices)}
    width = max(2, len(str(plan.count)))
    sessions: list[Session] = []
    days = plan.schedule or tuple(
        (plan.practices[i % len(plan.practices)], float(m))
        for i, m in enumerate(course_lengths(plan.count, plan.start_minutes, plan.end_minutes))
    )
    for i, (practice, length) in enumerate(days):
        wanted = round(length)
        low, high, pid, title, summary = ranges[practice]
        minutes = max(low, wanted if high is None else min(wanted, high))
        if minutes != wanted:
            log.info("%s %d: %s fits %d min, not %d", plan.unit, i + 1, pid, minutes, wanted)
        number = i + 1
        sessions.append(
            Session(
                number=number,
                practice=practice,
                minutes=minutes,
                title=f"{plan.unit} {number}: {title}",
                summary=summary,
                file_name=f"{number:0{width}d}-{pid}.{plan.format}",
            )
        )
    return sessions


def course_jobs(
    plan: CoursePlan,
    sessions: Sequence[Session],
    output_dir: Path,
    templates_dir: Path | None = None,
) -> list[Job]:
    """The batch jobs that render ``sessions`` into ``output_dir`` as one album."""
    return [
        Job(
            row=s.number,
            name=s.file_name,
            request=replace(
                _request(plan, s.practice, output_dir / s.file_name, s.minutes, templates_dir, 1),
                title=s.title,
                track=(s.number, len(sessions)),
            ),
        )
        for s in sessions
    ]


def playlist_text(plan: CoursePlan, sessions: Sequence[Session], seconds: Sequence[int]) -> str:
    """An extended M3U playlist (UTF-8) of the sessions, by relative file name. Titles
    are folded to one line (str.split breaks at every Unicode line break): a line break
    in one would add an entry to the playlist."""
    out = ["#EXTM3U", "#PLAYLIST:" + " ".join(plan.title.split())]
    for session, length in zip(sessions, seconds, strict=True):
        out.append(f"#EXTINF:{length}," + " ".join(f"{plan.teacher} - {session.title}".split()))
        out.append(session.file_name)
    return "\n".join(out) + "\n"


def index_markdown(plan: CoursePlan, sessions: Sequence[Session], feed: str | None) -> str:
    """A README-style page listing the sessions."""
    span = f"{sessions[0].minutes} to {sessions[-1].minutes} minutes"
    out = [f"# {plan.title}", "", f"A course by {plan.teacher}: {len(sessions)} sessions, {span}."]
    if plan.description:
        out += ["", plan.description]
    if feed:
        out += ["", f"Subscribe in a podcast app: <{feed}>"]
    out += ["", "| # | Session | Length | File |", "| --- | --- | --- | --- |"]
    for s in sessions:
        name = s.title.replace("|", "\\|")
        out.append(f"| {s.number} | {name} | {s.minutes} min | [{s.file_name}]({s.file_name}) |")
    out += ["", f"Playlist: [{PLAYLIST}]({PLAYLIST}). Stop whenever you need to."]
    return "\n".join(out) + "\n"


def index_html(plan: CoursePlan, sessions: Sequence[Session], feed: str | None) -> str:
    """The same page as HTML, every value escaped."""
    from kindvoice.publish.index_style import INDEX_CSS

    e = html.escape
    rows = "\n".join(
        f"<tr><td>{s.number}</td><td>{e(s.title)}<br><small>{e(s.summary)}</small></td>"
        f"<td>{s.minutes} min</td>"
        f'<td><audio controls preload="none" src="{e(s.file_name)}"></audio> '
        f'<a href="{e(s.file_name)}">{e(s.file_name)}</a></td></tr>'
        for s in sessions
    )
    subscribe = (
        f'<p>Subscribe in a podcast app: <a href="{e(feed)}">{e(feed)}</a></p>' if feed else ""
    )
    description = f"<p>{e(plan.description)}</p>" if plan.description else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(plan.title)}</title>
<style>{INDEX_CSS}</style></head>
<body><h1>{e(plan.title)}</h1>
<p>A course by {e(plan.teacher)}: {len(sessions)} sessions.</p>
{description}{subscribe}
<table><tr><th>#</th><th>Session</th><th>Length</th><th>Listen</th></tr>
{rows}
</table>
<p><a href="{PLAYLIST}">Playlist (M3U)</a></p>
</body></html>
"""


@dataclass(frozen=True)
class CourseResult:
    sessions: list[Session]
    outcomes: list[Outcome]
    folder: Path
    feed: Path | None


def build_course(
    plan: CoursePlan,
    output_dir: Path,
    *,
    templates_dir: Path | None = None,
    backend: Backend | None = None,
    force: bool = False,
    base_url: str | None = None,
    private: bool = False,
    progress: BatchProgress | None = None,
    planned: Callable[[list[Session]], None] | None = None,
) -> CourseResult:
    """Plan (here), render on ``backend`` (default: the local pool; in parallel, skipping
    what is up to date), then write the playlist, the index pages and (with a base URL)
    the feed for the sessions that exist."""
    from kindvoice.export.outputs import check_own, write_own
    from kindvoice.publish.feed import FEED_NAME, write_feed

    url = base_url or plan.base_url
    if url:
        check_base_url(url)  # before any session renders
    sessions = plan_sessions(plan, templates_dir)
    if planned:
        planned(sessions)
    output_dir.mkdir(parents=True, exist_ok=True)
    pages = [output_dir / PLAYLIST, output_dir / "index.md", output_dir / "index.html"]
    feed = [output_dir / FEED_NAME] if url else []
    check_own([*pages, *feed], force=force)  # the user's own index.md or feed: refused now
    jobs = course_jobs(plan, sessions, output_dir, templates_dir)
    outcomes = run_batch(jobs, backend=backend, force=force, progress=progress)
    ready = [s for s, o in zip(sessions, outcomes, strict=True) if o.status != "failed"]
    feed_path = None
    if ready:
        seconds = [s.minutes * 60 for s in ready]  # each render hits its length exactly
        write_own(pages[0], playlist_text(plan, ready, seconds), force=force)
        feed_url = f"{url.rstrip('/')}/{FEED_NAME}" if url else None
        write_own(pages[1], index_markdown(plan, ready, feed_url), force=force)
        write_own(pages[2], index_html(plan, ready, feed_url), force=force)
        if url:
            feed_path = write_feed(
                output_dir,
                url,
                plan.title,
                author=plan.teacher,
                description=plan.description or None,
                private=private or plan.private,
                language=find_language(plan.language).code,
                force=force,
            )
    return CourseResult(sessions, outcomes, output_dir, feed_path)
