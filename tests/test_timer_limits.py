"""Scripts built in code (the timer) are held to the bounds a parsed template is held to
(issue 24, left open by round two): block depth, events and the phrase limit; and a long
timer with many bells costs time in proportion to its bells and its length."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from kindvoice.errors import TemplateError
from kindvoice.pipeline import prepare
from kindvoice.settings import RenderRequest
from kindvoice.template.limits import MAX_BLOCK_DEPTH, MAX_EXPANDED_EVENTS
from kindvoice.template.model import Node, Pause, Pos, Repeat, Script, Section, Speech
from kindvoice.timer import TimerSpec
from test_timer import META, laid_out

from kv_testing import kindvoice, spoken_phrases

AT = Pos("<code>", 1, 1)


def script_of(*body: Node) -> Script:
    """``body`` then an elastic pause (any length fits), as the timer builds its own."""
    slack = Pause(10**9, AT, 0, None)
    return Script(META, (Section("Sitting", AT, (*body, slack)),), "<code>")


def nested(depth: int) -> Node:
    node: Node = Speech(0, AT, "Breathe.")
    for uid in range(1, depth + 1):
        node = Repeat(uid, AT, 1, 1, (node,))
    return node


def request(tmp_path: Path) -> RenderRequest:
    return RenderRequest("<code>", tmp_path / "t.wav", 60_000)


def test_a_code_built_script_too_deep(tmp_path: Path) -> None:
    prepare(request(tmp_path), script=script_of(nested(MAX_BLOCK_DEPTH)), estimate=True)
    with pytest.raises(TemplateError, match=f"more than {MAX_BLOCK_DEPTH} deep"):
        prepare(request(tmp_path), script=script_of(nested(MAX_BLOCK_DEPTH + 1)))
    # no recursion, even this deep: a recursive check would raise RecursionError here
    with pytest.raises(TemplateError, match="deep"):
        prepare(request(tmp_path), script=script_of(nested(100_000)))


def test_a_code_built_script_with_too_many_events(tmp_path: Path) -> None:
    pauses = [Pause(uid, AT, 1, 1) for uid in range(MAX_EXPANDED_EVENTS)]
    with pytest.raises(TemplateError, match="Too much to play"):
        prepare(request(tmp_path), script=script_of(*pauses))


def test_a_code_built_phrase_too_long(tmp_path: Path) -> None:
    words = " ".join(["calm"] * 1_001)
    with pytest.raises(TemplateError, match="1,001 words"):
        prepare(request(tmp_path), script=script_of(Speech(1, AT, words + ".")))


def test_a_welcome_too_long_is_refused_before_it_is_spoken(tmp_path: Path, own_cache: Path) -> None:
    """The welcome was spoken (to measure it) whatever its length."""
    welcome = " ".join(["Welcome."] * 1_500)
    run = kindvoice(
        "timer", "--minutes", "5", "--warmup", "20m", "--welcome", welcome,
        "-o", str(tmp_path / "t.mp3"), timeout=60,
    )  # fmt: skip
    assert run.code == 2, run.stderr
    assert run.stderr.strip() == (
        "Error: --welcome is 1,500 words long; one phrase holds at most 1,000: shorten it."
    )
    assert spoken_phrases(own_cache) == []


def test_three_hours_of_bells_every_30_seconds_is_laid_out_fast(tmp_path: Path) -> None:
    """The schedule, the script, the bounds, the solver and the timeline for 361 bells:
    everything before the audio, whose cost is the track's length (the module README)."""
    started = time.process_time()
    schedule, bells, _ = laid_out(TimerSpec(180, interval_ms=30_000), tmp_path)
    cpu_s = time.process_time() - started
    assert len(bells) == len(schedule.bells) == 361
    assert cpu_s < 10, f"{cpu_s:.1f} CPU-s"
