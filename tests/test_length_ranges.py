"""The range check answers with values (file, line, column, text), spoken with a real
voice: ``validate`` prints them, the Write page places them, nobody parses a line back."""

from __future__ import annotations

from pathlib import Path

from kindvoice.lengths import Voicing
from kindvoice.lengths.ranges import range_problems
from kindvoice.settings import VoiceSettings
from kindvoice.template.parse import load_template

ESPEAK = Voicing(VoiceSettings(engine="pyttsx3"))
HOLED = (
    "---\ntitle: Holed\nminutes: {min: 2, default: 3, max: 8}\n---\nHello.\n"
    "[silence 5s~]\n[from 5m]\n[pause 5m30s]\nStill here.\n[/from]\nGoodbye.\n"
)
RIGID = "---\ntitle: Rigid\nid: rigid\nminutes: {min: 1, default: 1, max: 4}\n---\nHello.\n"


def test_a_length_one_gate_makes_impossible_is_a_problem_at_that_gate(tmp_path: Path) -> None:
    path = tmp_path / "holed.md"
    path.write_text(HOLED, encoding="utf-8")
    problems = range_problems(path, load_template(path), ESPEAK)
    assert [(p.file, p.line, p.col) for p in problems] == [(str(path), 7, 1)]
    assert problems[0].text.startswith("minutes 5 cannot be met with the [from 5m] block")
    assert str(problems[0]) == f"{path}:7:1: {problems[0].text}"


def test_lengths_nothing_can_fill_are_problems_at_the_minutes_key(tmp_path: Path) -> None:
    path = tmp_path / "rigid.md"
    path.write_text(RIGID, encoding="utf-8")
    problems = range_problems(path, load_template(path), ESPEAK)
    # one word and nothing elastic: no whole minute fits; the run is told by its ends
    assert [(p.line, p.col) for p in problems] == [(4, 1), (4, 1)]
    assert problems[0].text.startswith('minutes min (1) cannot be met: "rigid" runs')
    assert problems[1].text.startswith("minutes max (4) cannot be met (nor any whole minute")


def test_the_write_page_gets_the_values_under_its_own_name() -> None:
    from kindvoice.web.routes.pages import WRITE_NAME, validate_text

    _, problems = validate_text(HOLED, "pyttsx3")
    assert [(line, col) for line, col, _ in problems] == [(7, 1)]
    assert problems[0][2].startswith(f"{WRITE_NAME}:7:1: minutes 5 cannot be met")
