"""A course asks each practice for the length the plan wants, held only to the range the
practice declares (not to what one length's gated blocks can stretch to)."""

from __future__ import annotations

from pathlib import Path

from kindvoice.publish.course import load_plan, plan_sessions


def test_lengths_follow_the_plan_within_the_declared_range(tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        "title: Long days\ndays: 3\nstart_minutes: 2\nend_minutes: 40\n"
        "practices: [self-compassion-break]\nlanguage: es\n",
        encoding="utf-8",
    )
    sessions = plan_sessions(load_plan(plan))
    # the Spanish self-compassion-break declares 4 to 30 minutes: 2 -> 4, 21, 40 -> 30
    assert [s.minutes for s in sessions] == [4, 21, 30]
    assert all("pausa" in s.title.lower() for s in sessions)  # the Spanish title
    # the day's word too: a Spanish course's tracks say "Día n", never "Day n"
    assert [s.title.split(":")[0] for s in sessions] == ["Día 1", "Día 2", "Día 3"]
    for code, word in (("pt-BR", "Sessão 2"), ("fr", "Séance 2"), ("it", "Sessione 2")):
        plan.write_text(
            f"title: T\nsessions: 2\nstart_minutes: 4\nend_minutes: 5\n"
            f"practices: [self-compassion-break]\nlanguage: {code}\n",
            encoding="utf-8",
        )
        assert plan_sessions(load_plan(plan))[1].title.startswith(f"{word}: "), code
