"""Courses: a plan becomes a numbered series of sessions that grow gradually in length.

A plan is YAML::

    title: Three Weeks of Kindness
    teacher: Sam Rivera
    days: 21                  # or sessions: 21 (the tracks say "Day n" or "Session n",
                              # in the plan's language: "Día n" for language: es)
    start_minutes: 3
    end_minutes: 15
    practices: [self-compassion-break, soothing-touch, morning-intention]  # cycled
    background: brown         # optional: engine, voice, rate, variables, quality, format
    base_url: https://example.org/kindness   # optional: also write the podcast feed

The plan is read by ``publish.plan``. Instead of ``days``, ``practices`` and the minutes,
a plan may give ``weeks``: a list of
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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from kindvoice.languages import find_language
from kindvoice.publish.batch import BatchProgress, run_batch
from kindvoice.publish.course_model import DAYS_A_WEEK, MANIFEST, PLAYLIST
from kindvoice.publish.course_model import CoursePlan as CoursePlan  # the course's API
from kindvoice.publish.course_model import Session as Session
from kindvoice.publish.feed import check_base_url
from kindvoice.publish.jobs import Job, Outcome
from kindvoice.publish.plan import course_lengths
from kindvoice.publish.plan import load_plan as load_plan  # the course's API
from kindvoice.publish.plan import resolve_plan as resolve_plan
from kindvoice.settings import MixSettings, RenderRequest, VoiceSettings

if TYPE_CHECKING:
    from kindvoice.publish.executors import Backend

log = logging.getLogger(__name__)


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
    unit_words = find_language(plan.language).unit_words  # "Día 3" in a Spanish course
    sessions: list[Session] = []
    for number, (practice, minutes) in enumerate(days, 1):
        _, _, pid, title, summary = ranges[practice]
        sessions.append(
            Session(
                number=number,
                practice=practice,
                minutes=minutes,
                title=f"{unit_words(plan.unit, number)}: {title}",
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
            request=replace(
                _request(plan, s.practice, output_dir / s.file_name, s.minutes, templates_dir, 1),
                sidecars=True,  # a course's days come with their transcripts and chapters
                title=s.title,
                track=(s.number, len(sessions)),
            ),
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
