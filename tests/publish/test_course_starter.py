"""The shipped "Starting Small" plan: found by name (also from a wheel, see
test_packaging), four weeks that open with one minute, the first talk and short practices and
grow in length; ``weeks:`` plans are checked key by key; ``kindvoice course --plan`` names the
shipped plans when a name is wrong."""

from __future__ import annotations

import dataclasses
import statistics
from pathlib import Path

import pytest

from kindvoice.errors import UnknownNameError, UsageError
from kindvoice.publish.course import plan_sessions
from kindvoice.publish.plan import bundled_plans_dir, load_plan, resolve_plan, shipped_plans
from kindvoice.template.library import resolve_practice
from kindvoice.template.parse import load_template

from kv_testing import kindvoice

SHORT = {"self-compassion-break", "soothing-touch", "morning-intention"}


def practice_id(entry: str) -> str:
    return load_template(resolve_practice(entry)).meta.id


def test_starter_is_shipped_and_resolves_by_name() -> None:
    assert "starter" in shipped_plans()
    path = resolve_plan("starter")
    assert path == bundled_plans_dir() / "starter.yaml"
    plan = load_plan(path)
    assert plan.title == "Starting Small"
    assert plan.count == 28 and len(plan.schedule) == 28 and plan.unit == "Day"


def test_starter_begins_with_one_minute_then_the_first_talk_and_grows() -> None:
    plan = load_plan(resolve_plan("starter"))
    ids = [practice_id(p) for p, _ in plan.schedule]  # every entry is a real practice
    assert ids[:2] == ["one-minute-break", "talk-what-is-self-compassion"]
    assert set(ids[2:7]) == SHORT
    wanted = [m for _, m in plan.schedule]
    weeks = [statistics.mean(wanted[i : i + 7]) for i in range(0, 28, 7)]
    assert weeks == sorted(weeks) and weeks[0] <= 5 and weeks[-1] >= 10
    assert max(wanted[1:7]) <= 5


@pytest.mark.slow  # synthesizes every phrase of the course's practices (minutes on 2 cores)
def test_starter_fits_every_practice_with_the_real_voice() -> None:
    plan = dataclasses.replace(load_plan(resolve_plan("starter")), engine="pyttsx3")
    sessions = plan_sessions(plan)
    assert [s.number for s in sessions] == list(range(1, 29))
    assert sessions[0].file_name == "01-one-minute-break.mp3"
    assert [s.minutes for s in sessions[:2]] == [2, 3]  # the one-minute break: 1.25 to 2
    weeks = [statistics.mean(s.minutes for s in sessions[i : i + 7]) for i in range(0, 28, 7)]
    assert weeks == sorted(weeks) and weeks[0] <= 5 and weeks[-1] >= 10
    assert all(s.title.startswith(f"Day {s.number}: ") for s in sessions)


def test_weeks_plans_are_checked(tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text("title: T\nweeks:\n  - practices: [soothing-touch]\n    minuts: 3\n")
    with pytest.raises(UsageError, match=r"week 1: unknown key 'minuts'.*'minutes'"):
        load_plan(plan)
    plan.write_text("title: T\ndays: 3\nweeks:\n  - practices: [soothing-touch]\n    minutes: 3\n")
    with pytest.raises(UsageError, match="'weeks' replaces 'days'"):
        load_plan(plan)
    plan.write_text(
        "title: T\nweeks:\n  - practices: [soothing-touch, {practice: timer, minutes: 9}]\n"
        "    minutes: [3, 6]\n"
    )
    days = load_plan(plan).schedule
    assert [m for _, m in days] == [3, 9, 4, 9, 5, 9, 6]
    assert [p for p, _ in days][:2] == ["soothing-touch", "timer"]


def test_unknown_plan_names_the_shipped_ones() -> None:
    with pytest.raises(UnknownNameError, match="Did you mean starter"):
        resolve_plan("startr")
    run = kindvoice("course", "--plan", "startr")
    assert run.code == 4 and "starter" in run.stderr
    run = kindvoice("course")
    assert run.code == 2 and "--plan" in run.stderr
