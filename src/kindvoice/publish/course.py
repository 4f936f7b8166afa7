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
each practice can fill with the chosen voice, and never shrink from one day to the next
(``shrinking_days`` states the rule; a ``days:`` plan keeps it by giving a day that a
practice is too short for to the next practice of the cycle). The series renders through
the batch machinery as ``01-<practice>.mp3`` ..., tagged as one album (album = title,
artist = teacher, track n/N), with an M3U playlist, an index page, ``course.json``
(``publish.course_pages``) and, with a base URL, a feed.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kindvoice.errors import UnknownNameError, UsageError, check_regular_file, did_you_mean
from kindvoice.export import formats
from kindvoice.languages import find_language
from kindvoice.publish.batch import BatchProgress, run_batch
from kindvoice.publish.course_model import DAYS_A_WEEK, MANIFEST, PLAYLIST
from kindvoice.publish.course_model import CoursePlan as CoursePlan  # the course's API
from kindvoice.publish.course_model import Session as Session
from kindvoice.publish.feed import check_base_url
from kindvoice.publish.fields import background_field, minutes_field, rate_field, text_field
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
    from kindvoice.template.frontmatter import load_yaml  # no aliases, one-line errors

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
        count = data.get("days", data.get("sessions"))
        most = MAX_COURSE_SESSIONS
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= most:
            raise UsageError(f"{path}: '{unit.lower()}s' must be a whole number from 1 to {most}.")
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
        minutes=minutes,
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


Ranges = dict[str, tuple[int, int | None, str, str, str]]


def _fit(span: tuple[int, int | None, str, str, str], wanted: int) -> int:
    """``wanted`` minutes held to the practice's declared range."""
    low, high = span[0], span[1]
    return max(low, wanted if high is None else min(wanted, high))


def _growing_days(plan: CoursePlan, ranges: Ranges) -> list[tuple[str, int]]:
    """A ``days:`` plan's (practice, minutes): the practices cycled, and no day shorter
    than the day before (when the plan grows). A practice too short for its day (the
    one-minute break after a three-minute day) gives the day to the next practice of the
    cycle that lasts long enough."""
    wanted = course_lengths(plan.count, plan.start_minutes, plan.end_minutes)
    growing = plan.end_minutes >= plan.start_minutes
    count = len(plan.practices)
    days: list[tuple[str, int]] = []
    floor = 0
    for i, want in enumerate(wanted):
        target = max(want, floor) if growing else want
        # the day before's practice always lasts long enough: one always fits
        cycle = [plan.practices[(i + k) % count] for k in range(count)]
        practice = next(p for p in cycle if _fit(ranges[p], floor) >= floor)
        if practice != plan.practices[i % count]:
            log.info("%s %d: %s instead (%d min or more)", plan.unit, i + 1, practice, floor)
        minutes = _fit(ranges[practice], target)
        floor = minutes if growing else 0
        days.append((practice, minutes))
    return days


def shrinking_days(sessions: Sequence[Session], weekly: bool) -> list[str]:
    """Where a course gets shorter, in words (none for a course that keeps its promise of
    growing from short to longer). The rule: no session is shorter than the one before;
    in a ``weeks:`` plan that holds within each week, and each week's longest session is
    no shorter than the week before's (a short talk may open a week)."""
    stretch = DAYS_A_WEEK if weekly else max(1, len(sessions))
    groups = [sessions[i : i + stretch] for i in range(0, len(sessions), stretch)]
    problems = []
    for group in groups:
        for before, after in itertools.pairwise(group):
            if after.minutes < before.minutes:
                problems.append(
                    f"{after.title} ({after.minutes} min) is shorter than the day before "
                    f"({before.minutes} min)"
                )
    longest = [max(s.minutes for s in group) for group in groups]
    for week, (shorter, longer) in enumerate(itertools.pairwise(longest), 2):
        if weekly and longer < shorter:
            problems.append(f"week {week} peaks at {longer} min, below week {week - 1}'s {shorter}")
    return problems


def plan_sessions(plan: CoursePlan, templates_dir: Path | None = None) -> list[Session]:
    """The sessions in order: practice, whole-minute length (held to the practice's
    declared range), file name. A ``days:`` plan never gets shorter from one day to the
    next (``_growing_days``); a ``weeks:`` plan keeps its author's choices, and where
    they shrink (``shrinking_days``) the log says so."""
    ranges = {p: declared_minutes(plan, p, templates_dir) for p in dict.fromkeys(plan.practices)}
    width = max(2, len(str(plan.count)))
    if plan.schedule:
        days = [(p, _fit(ranges[p], round(m))) for p, m in plan.schedule]
    else:
        days = _growing_days(plan, ranges)
    sessions: list[Session] = []
    for number, (practice, minutes) in enumerate(days, 1):
        _, _, pid, title, summary = ranges[practice]
        sessions.append(
            Session(
                number=number,
                practice=practice,
                minutes=minutes,
                title=f"{plan.unit} {number}: {title}",
                summary=summary,
                file_name=f"{number:0{width}d}-{pid}.{plan.format}",
                practice_id=pid,
            )
        )
    if plan.schedule or plan.end_minutes >= plan.start_minutes:
        for problem in shrinking_days(sessions, weekly=bool(plan.schedule)):
            log.warning("%s: %s", plan.title, problem)
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
            request=_request(
                plan, s.practice, output_dir / s.file_name, s.minutes, templates_dir, 1
            ),
            title=s.title,
            track=(s.number, len(sessions)),
        )
        for s in sessions
    ]


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
    from kindvoice.publish.course_pages import (
        index_html,
        index_markdown,
        manifest_json,
        playlist_text,
    )
    from kindvoice.publish.feed import FEED_NAME, write_feed

    url = base_url or plan.base_url
    if url:
        check_base_url(url)  # before any session renders
    sessions = plan_sessions(plan, templates_dir)
    if planned:
        planned(sessions)
    output_dir.mkdir(parents=True, exist_ok=True)
    pages = [output_dir / n for n in (PLAYLIST, "index.md", "index.html", MANIFEST)]
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
        write_own(pages[3], manifest_json(plan, ready, seconds), force=force)
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
