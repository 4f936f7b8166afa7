"""The timer's schedule: durations, interval checks, and the script it builds, laid out by
the real pipeline (``prepare``: solver and timeline) so every bell's sample is checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from kindvoice.audio import SAMPLE_RATE, ms_to_samples
from kindvoice.durations import parse_ms
from kindvoice.errors import UnknownNameError, UsageError
from kindvoice.mix.timeline import Timeline
from kindvoice.pipeline import prepare
from kindvoice.settings import MixSettings, RenderRequest
from kindvoice.sound.bells import bell_duration_samples
from kindvoice.template.model import Bell, Pause, Speech
from kindvoice.timer import (
    Schedule,
    TimerSpec,
    build_timer,
    clock_ms,
    interval_offsets_ms,
    timer_meta,
)

META = timer_meta()
MIX = MixSettings()
MIN = 60_000  # ms
S = SAMPLE_RATE


@pytest.mark.parametrize(
    ("text", "ms"),
    [("5m", 300_000), ("1m30s", 90_000), ("90s", 90_000), ("1.5s", 1500), ("250ms", 250),
     ("1:30", 90_000), ("1:02:03", 3_723_000), (" 2M ", 120_000), ("0s", 0)],
)  # fmt: skip
def test_durations(text: str, ms: int) -> None:
    assert parse_ms(text) == ms


@pytest.mark.parametrize("text", ["5", "5x", "m", "", "1:75", "7:75", "-5s", "25h"])
def test_bad_durations_name_the_forms(text: str) -> None:
    with pytest.raises(UsageError, match=r"--at time .*(500ms, 5s|over 24 hours)"):
        parse_ms(text, "--at time")


def test_clock() -> None:
    assert [clock_ms(x) for x in (0, 59_950, 60_000, 1_189_900)] == [
        "0:00",
        "1:00",
        "1:00",
        "19:49.9",
    ]


def test_interval_bells_stay_clear_of_the_closing_bell() -> None:
    assert interval_offsets_ms(TimerSpec(20, interval_ms=5 * MIN), META) == [
        5 * MIN, 10 * MIN, 15 * MIN
    ]  # fmt: skip
    # 20:05 with 5 m intervals: a bell at 20:00 would still ring at 20:05, so it is left out
    spec = TimerSpec(20 + 5 / 60, interval_ms=5 * MIN)
    assert interval_offsets_ms(spec, META) == [5 * MIN, 10 * MIN, 15 * MIN]
    assert interval_offsets_ms(TimerSpec(20, at_ms=(17 * MIN, 5 * MIN, 5 * MIN)), META) == [
        5 * MIN, 17 * MIN
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (TimerSpec(20, interval_ms=20 * MIN), r"--interval 20:00 must be shorter than the sitting"),
        (TimerSpec(20, interval_ms=30 * MIN), r"--interval 30:00 must be shorter"),
        (TimerSpec(20, at_ms=(5 * MIN, 20 * MIN)), r"--at 20:00 is outside the sitting: .*"
         r"between 0:00 and 20:00"),
        (TimerSpec(20, at_ms=(0,)), r"--at 0:00 is outside the sitting"),
        (TimerSpec(20, at_ms=(19 * MIN + 55_000,)), r"ring into the closing bell: the bowl rings "
         r"for 10.1 s, so the last interval bell can be at 19:49.9"),
        (TimerSpec(20, interval_ms=10_000), r"comes 0:10 after the opening bell, which rings for "
         r"20.1 s"),
        (TimerSpec(20, at_ms=(5 * MIN, 5 * MIN + 5000)), r"after the bell at 5:00"),
        (TimerSpec(20, interval_ms=5 * MIN, at_ms=(MIN,)), "--interval or --at, not both"),
        (TimerSpec(0.5), "--minutes must be between 1 and 180"),
        (TimerSpec(181), "--minutes must be between 1 and 180"),
    ],
)  # fmt: skip
def test_impossible_schedules_are_refused(spec: TimerSpec, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        interval_offsets_ms(spec, META)


def test_unknown_bell_lists_the_choices() -> None:
    with pytest.raises(UnknownNameError, match=r"Unknown bell 'gong'.*bowl, bright, chime, soft"):
        interval_offsets_ms(TimerSpec(20, bell="gong"), META)


def laid_out(spec: TimerSpec, tmp_path: Path) -> tuple[Schedule, list[int], Timeline]:
    """Build the timer as ``render_timer`` does and lay it out with the real pipeline."""
    mix = MixSettings(lead_in_ms=0) if spec.warmup_ms else MIX
    script, schedule = build_timer(
        spec,
        META,
        interval_offsets_ms(spec, META),
        welcome_samples=0,
        lead_in_samples=ms_to_samples(mix.lead_in_ms),
        tail_samples=ms_to_samples(mix.tail_ms),
    )
    request = RenderRequest("timer", tmp_path / "t.wav", schedule.total / (S // 1000), mix=mix)
    timeline = prepare(request, script=script).timeline
    assert timeline.total == schedule.total
    bells = [e.start for e in timeline.events if e.kind == "bell"]
    return schedule, bells, timeline


def test_twenty_minutes_with_warm_up_and_intervals_is_exact(tmp_path: Path) -> None:
    spec = TimerSpec(20, warmup_ms=MIN, interval_ms=5 * MIN)
    schedule, bells, timeline = laid_out(spec, tmp_path)
    assert schedule.bells == tuple(m * 60 * S for m in (1, 6, 11, 16, 21))
    # the file ends when the closing bell has rung out, plus the tail
    assert schedule.total == 21 * 60 * S + bell_duration_samples("bowl") + ms_to_samples(4000)
    # pauses are whole ms: each bell strikes on time or up to 1 ms early, never drifting
    assert all(-48 < b - s <= 0 for b, s in zip(bells, schedule.bells, strict=True))
    assert bells[0] == schedule.bells[0]
    assert [c.title for c in timeline.chapters] == ["Warm-up", "Sitting", "Closing"]
    assert timeline.chapters[1].start == 60 * S


@pytest.mark.parametrize("bell", ["bowl", "soft", "bright", "chime"])
def test_at_times_and_every_bell(tmp_path: Path, bell: str) -> None:
    spec = TimerSpec(3, warmup_ms=10_000, at_ms=(MIN, 2 * MIN + 15_000), bell=bell)
    schedule, bells, _ = laid_out(spec, tmp_path)
    assert schedule.bells == (10 * S, 70 * S, 145 * S, 190 * S)
    assert all(-48 < b - s <= 0 for b, s in zip(bells, schedule.bells, strict=True))
    assert schedule.total == 190 * S + bell_duration_samples(bell) + ms_to_samples(4000)


def test_without_warm_up_the_lead_in_comes_first(tmp_path: Path) -> None:
    schedule, bells, timeline = laid_out(TimerSpec(1), tmp_path)
    lead = ms_to_samples(MIX.lead_in_ms)
    assert schedule.bells == (lead, lead + 60 * S)
    assert bells[0] == lead and -48 < bells[1] - schedule.bells[1] <= 0
    assert [c.title for c in timeline.chapters] == ["Sitting", "Closing"]


def test_welcome_is_spoken_in_the_warm_up() -> None:
    spec = TimerSpec(5, warmup_ms=30_000, welcome="  Welcome.\n Settle in. ")
    welcome = 3 * S + 17  # any length: the pause after it is rounded to whole ms
    script, schedule = build_timer(
        spec, META, [], welcome_samples=welcome, lead_in_samples=0, tail_samples=0
    )
    warm_up = script.sections[0].body
    assert [type(n) for n in warm_up] == [Pause, Speech, Pause]
    assert isinstance(warm_up[1], Speech) and warm_up[1].text == "Welcome. Settle in."
    assert isinstance(warm_up[0], Pause) and warm_up[0].min_ms == 2000
    spoken_end = 2 * S + welcome
    assert isinstance(warm_up[2], Pause)
    assert 0 <= 30 * S - (spoken_end + ms_to_samples(warm_up[2].min_ms)) < 48
    assert schedule.opening == 30 * S
    assert isinstance(script.sections[1].body[0], Bell) and script.sections[1].body[0].strikes == 3
    with pytest.raises(UsageError, match=r"the warm-up needs at least 8 s \(--warmup 8s\)"):
        build_timer(
            TimerSpec(5, warmup_ms=5000, welcome="Hello"),
            META,
            [],
            welcome_samples=3 * S + 17,
            lead_in_samples=0,
            tail_samples=0,
        )


def test_welcome_without_warm_up_comes_before_the_opening_bell() -> None:
    spec = TimerSpec(5, welcome="Welcome.")
    lead = ms_to_samples(MIX.lead_in_ms)
    _, schedule = build_timer(
        spec, META, [], welcome_samples=S + 5, lead_in_samples=lead, tail_samples=0
    )
    assert schedule.opening == lead + S + 5 + 2 * S


def test_script_reuses_the_timer_practice() -> None:
    script, _ = build_timer(
        TimerSpec(20), META, [], welcome_samples=0, lead_in_samples=0, tail_samples=0
    )
    assert script.meta.id == "timer"
    assert script.meta.title == "Unguided Sitting (20 min)"
    assert script.meta.summary == META.summary
    assert script.speech_texts() == []
