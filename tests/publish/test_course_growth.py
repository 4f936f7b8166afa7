"""Courses grow from short to longer, as the Course page and the plans promise: no
session is shorter than the one before (within each week of a ``weeks:`` plan, whose
weeks peak no lower than the week before). Checked on every shipped plan, and on the
walk-through's course (one-minute break and self-compassion break, 1 to 3 minutes), which
played 1:00, 3:00, 2:00 before."""

from __future__ import annotations

import itertools
import logging
from pathlib import Path

import pytest

from kindvoice.publish.course import DAYS_A_WEEK, plan_sessions, shrinking_days
from kindvoice.publish.plan import load_plan, resolve_plan, shipped_plans


@pytest.mark.parametrize("name", shipped_plans())
def test_every_shipped_course_grows_within_each_week(name: str) -> None:
    plan = load_plan(resolve_plan(name))
    sessions = plan_sessions(plan)
    weekly = bool(plan.schedule)
    stretch = DAYS_A_WEEK if weekly else len(sessions)
    minutes = [s.minutes for s in sessions]
    weeks = [minutes[i : i + stretch] for i in range(0, len(minutes), stretch)]
    for number, week in enumerate(weeks, 1):
        assert week == sorted(week), f"{name}, week {number}: {week} gets shorter"
    peaks = [max(week) for week in weeks]
    assert peaks == sorted(peaks), f"{name}: the weeks peak at {peaks}"
    assert minutes[-1] > minutes[0]  # it does grow
    assert shrinking_days(sessions, weekly) == []


def test_shipped_plans_are_found() -> None:
    assert "starter" in shipped_plans()


def _plan(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "plan.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_practice_too_short_for_its_day_gives_it_to_the_next_one(tmp_path: Path) -> None:
    plan = load_plan(
        _plan(
            tmp_path,
            "title: T\ndays: 3\nstart_minutes: 1\nend_minutes: 3\n"
            "practices: [one-minute-break, self-compassion-break]\n",
        )
    )
    sessions = plan_sessions(plan)
    # was 2, 3, 2: day 3's one-minute break lasts at most 2 minutes, after a 3-minute day
    # (and at least 1.25, so a course's whole minutes start it at 2)
    assert [s.minutes for s in sessions] == [2, 3, 3]
    assert [s.practice_id for s in sessions] == [
        "one-minute-break",
        "self-compassion-break",
        "self-compassion-break",
    ]
    assert [s.file_name for s in sessions][2] == "03-self-compassion-break.mp3"


def test_a_long_days_plan_never_gets_shorter(tmp_path: Path) -> None:
    plan = load_plan(
        _plan(
            tmp_path,
            "title: T\ndays: 12\nstart_minutes: 1\nend_minutes: 12\n"
            "practices: [one-minute-break, soothing-touch, talk-myths, morning-intention]\n",
        )
    )
    minutes = [s.minutes for s in plan_sessions(plan)]
    assert all(a <= b for a, b in itertools.pairwise(minutes)), minutes
    # the one-minute break lasts 1.25 to 2 minutes; morning-intention at most 10
    assert minutes[0] == 2 and minutes[-1] == 10


def test_a_plan_that_shrinks_on_purpose_is_kept(tmp_path: Path) -> None:
    plan = load_plan(
        _plan(
            tmp_path,
            "title: T\ndays: 3\nstart_minutes: 6\nend_minutes: 3\npractices: [soothing-touch]\n",
        )
    )
    assert [s.minutes for s in plan_sessions(plan)] == [6, 4, 3]  # start > end: as asked


def test_a_weeks_plan_that_shrinks_is_named_in_the_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    plan = load_plan(
        _plan(
            tmp_path,
            "title: Mine\nweeks:\n  - practices: [soothing-touch, one-minute-break]\n"
            "    minutes: [3, 5]\n",
        )
    )
    with caplog.at_level(logging.WARNING, logger="kindvoice.publish.course"):
        sessions = plan_sessions(plan)  # the author's choice stands...
    assert [s.minutes for s in sessions] == [3, 2, 4, 2, 4, 2, 5]
    problems = shrinking_days(sessions, weekly=True)  # ...and is named
    assert len(problems) == 3 and problems[0].startswith("Day 2: ")
    assert "Mine: Day 2: " in caplog.text
