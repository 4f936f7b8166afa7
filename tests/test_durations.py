"""The one duration grammar and the one clock (``kindvoice.durations``): read directly, and
through every door a person writes a duration at: ``--length``, ``--minutes``, the timer's
``--minutes``, a template marker and a batch manifest row."""

from __future__ import annotations

from pathlib import Path

import pytest

from kindvoice.audio import SAMPLE_RATE
from kindvoice.durations import MINUTES_FORMS, clock, parse_minutes, parse_ms, read_ms
from kindvoice.errors import TemplateError, UsageError
from kindvoice.publish.manifest import job_from_row
from kindvoice.template.model import Pause
from kindvoice.template.parse import parse_template

from kv_testing import kindvoice

S = SAMPLE_RATE


@pytest.mark.parametrize(
    ("text", "ms"),
    [("7:30", 450_000), ("0:05.5", 5_500), ("90:00", 5_400_000), ("1:02:03", 3_723_000),
     ("90s", 90_000), ("1m30s", 90_000), ("1M 30S", 90_000), ("1.5s", 1_500), ("500ms", 500),
     ("2m", 120_000), ("1m500ms", 60_500), ("0s", 0)],
)  # fmt: skip
def test_the_grammar(text: str, ms: int) -> None:
    assert read_ms(text) == ms
    assert parse_ms(text) == ms


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("12.5", 12.5), ("12", 12.0), ("12:30", 12.5), ("0:12:30", 12.5), ("750s", 12.5),
     ("12m30s", 12.5), ("1:02:03", 62.05)],
)  # fmt: skip
def test_minutes_take_a_bare_number(text: str, minutes: float) -> None:
    assert parse_minutes(text) == pytest.approx(minutes)


@pytest.mark.parametrize(
    ("text", "reason"),
    [("7:75", "the seconds must be below 60"), ("1:75:00", "the minutes must be below 60"),
     ("1:02:75", "the seconds must be below 60"), ("7:075", "the seconds must be below 60"),
     ("-5s", "must be positive"), ("1441m", "over 24 hours"), ("1h", ""), ("ten", ""),
     ("5x", ""), ("", ""), ("1:2:3:4", "")],
)  # fmt: skip
def test_bad_lengths_are_one_line_naming_the_value_and_the_forms(text: str, reason: str) -> None:
    with pytest.raises(UsageError) as found:
        parse_minutes(text, "--length")
    message = found.value.format_message()
    assert message.startswith(f"Cannot read the --length '{text}'")
    assert reason in message and MINUTES_FORMS in message and "\n" not in message


def test_a_bare_number_is_refused_where_the_unit_is_not_minutes() -> None:
    with pytest.raises(UsageError, match=r"Cannot read the --at time '5'; write 500ms, 5s"):
        parse_ms("5", "--at time")


def test_clock() -> None:
    assert [clock(n * S) for n in (0, 59, 60, 754, 3600, 3723)] == [
        "0:00", "0:59", "1:00", "12:34", "1:00:00", "1:02:03"
    ]  # fmt: skip
    assert clock(1_189_900 * 48, 1, trim=True) == "19:49.9"
    assert clock(60 * S, 1, trim=True) == "1:00"
    assert clock(3_723_456 * 48, 3, hours="padded", separator=",") == "01:02:03,456"
    assert clock(65 * S, 3, hours="padded") == "00:01:05.000"
    assert clock(65 * S, hours="always") == "0:01:05"


def test_the_clock_reads_back_through_the_grammar() -> None:
    for seconds in (0, 5, 59, 61, 754, 3599, 3600, 3723, 86_399):
        assert read_ms(clock(seconds * S)) == seconds * 1000


# ------------------------------------------------------------------ through the real doors


@pytest.mark.parametrize("option", ["--length", "--minutes"])
def test_build_refuses_7_75_with_one_line(option: str, tmp_path: Path) -> None:
    run = kindvoice("build", "self-compassion-break", option, "7:75", "-o", str(tmp_path / "x.mp3"))
    assert run.code == 2
    lines = run.stderr.strip().splitlines()
    assert lines == [
        f"Error: Cannot read the {option} '7:75': the seconds must be below 60; "
        f"write {MINUTES_FORMS}."
    ]
    assert list(tmp_path.iterdir()) == []


def test_the_timer_refuses_7_75_with_one_line(tmp_path: Path) -> None:
    run = kindvoice("timer", "--minutes", "7:75", "-o", str(tmp_path / "t.mp3"))
    assert run.code == 2 and len(run.stderr.strip().splitlines()) == 1
    assert "'7:75': the seconds must be below 60" in run.stderr


@pytest.mark.parametrize(
    ("option", "value"),
    [("--length", "12.5"), ("--minutes", "12.5"), ("--length", "12:30"), ("--minutes", "12:30"),
     ("--length", "0:12:30"), ("--length", "12m30s"), ("--length", "750s")],
)  # fmt: skip
def test_plan_reads_every_form_of_twelve_and_a_half_minutes(option: str, value: str) -> None:
    run = kindvoice("plan", "timer", option, value)
    assert run.code == 0, run.stderr
    assert "Total   12:30.000" in run.stdout


def test_markers_read_the_same_grammar() -> None:
    front = "---\ntitle: Test practice\n---\n"
    script = parse_template(front + "Now.\n  [pause 1:30]\n", "t.md")
    [pause] = [n for n in script.sections[0].body if isinstance(n, Pause)]
    assert pause.min_ms == 90_000
    with pytest.raises(TemplateError, match=r"Bad duration '1:75' in \[pause\] \(the seconds"):
        parse_template(front + "Now.\n  [pause 1:75]\n", "t.md")


def test_a_manifest_row_reads_the_same_grammar(tmp_path: Path) -> None:
    def row(**fields: str) -> float | None:
        job = job_from_row(
            {"practice": "soothing-touch", **fields}, 3, base=tmp_path, output_dir=tmp_path
        )
        return job.request.length_ms

    assert row(minutes="12.5") == 750_000
    assert row(length="12:30") == 750_000
    assert row(minutes="1m30s") == 90_000
    with pytest.raises(UsageError, match=r"Row 3: Cannot read the 'length' '7:75': the seconds"):
        row(length="7:75")
    with pytest.raises(UsageError, match="Row 3: 'minutes' must be a positive length"):
        row(minutes="0")
