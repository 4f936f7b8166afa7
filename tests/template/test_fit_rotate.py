"""The solver and the timeline with format v2: rounds that differ ([rotate] inside an
elastic [repeat]) are still hit exactly to the sample, and each round says its own words."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kindvoice.mix.timeline import lay_out
from kindvoice.template.fit import (
    Elastic,
    Fixed,
    Infeasible,
    Item,
    Layout,
    Plan,
    Rep,
    Rot,
    build_layout,
    feasible_range,
    solve,
)
from kindvoice.template.gating import select
from kindvoice.template.model import Script, Speech
from kindvoice.template.parse import parse_template

RATE = 48_000


def played_total(layout: Layout, plan: Plan) -> int:
    """The total, by playing the layout round by round (independent of the solver)."""
    visits: dict[int, int] = {}

    def play(items: tuple[Item, ...]) -> int:
        t = 0
        for item in items:
            if isinstance(item, Fixed):
                t += item.samples
            elif isinstance(item, Elastic):
                t += plan.pause_samples[item.uid]
            elif isinstance(item, Rep):
                for _ in range(plan.repeat_counts.get(item.uid, item.min_count)):
                    t += play(item.children)
            else:
                n = visits.get(item.uid, 0)
                visits[item.uid] = n + 1
                t += play(item.alternatives[n % len(item.alternatives)])
        return t

    return layout.edge_samples + play(layout.items) + plan.pad_samples


def test_rounds_of_different_length_are_measured_one_by_one() -> None:
    # alternatives of 1 s, 5 s and 2 s; an elastic pause of 1..3 s after each round
    rot = Rot(2, ((Fixed(RATE),), (Fixed(5 * RATE),), (Fixed(2 * RATE),)))
    layout = Layout((Rep(1, 1, 6, (rot, Elastic(3, RATE, 3 * RATE))),), 0)
    low, high = feasible_range(layout)
    assert low == 1 * RATE + RATE  # one round: alternative A and the shortest pause
    # six rounds: A B C A B C = 16 s of speech, plus six pauses of at most 3 s
    assert high == 16 * RATE + 6 * 3 * RATE
    # rounds: 1 -> 2..4 s, 2 -> 8..12 s, 3 -> 11..17 s ... 6 -> 22..34 s
    for seconds in (2, 3.5, 9.5, 13, 20.25, 27, 34):
        target = round(seconds * RATE)
        plan = solve(layout, target, 0.5)
        assert played_total(layout, plan) == target
    with pytest.raises(Infeasible) as info:
        solve(layout, 5 * RATE)  # between one round (at most 4 s) and two (at least 8 s)
    assert info.value.near == (4 * RATE, 8 * RATE)


def test_a_gap_between_round_counts_is_reported() -> None:
    # rounds with no elastic time: only the exact round totals are possible
    rot = Rot(2, ((Fixed(RATE),), (Fixed(5 * RATE),)))
    layout = Layout((Rep(1, 1, 4, (rot,)), Elastic(3, 0, RATE // 2)), 0)
    with pytest.raises(Infeasible) as info:
        solve(layout, 3 * RATE)
    assert info.value.near == (RATE + RATE // 2, 6 * RATE)


rot_leaf = st.one_of(
    st.builds(Fixed, st.integers(0, 400_000)),
    st.tuples(st.integers(0, 200_000), st.one_of(st.none(), st.integers(0, 400_000))),
)


@st.composite
def layouts(draw: st.DrawFn) -> Layout:
    uid = iter(range(1, 10_000))

    def leaf() -> Item:
        raw = draw(rot_leaf)
        if isinstance(raw, Fixed):
            return raw
        low, span = raw
        return Elastic(next(uid), low, None if span is None else low + span)

    def block(depth: int) -> tuple[Item, ...]:
        items: list[Item] = []
        for _ in range(draw(st.integers(1, 3))):
            kind = draw(st.sampled_from(["leaf", "rot", "rep"] if depth < 2 else ["leaf"]))
            if kind == "leaf":
                items.append(leaf())
            elif kind == "rot":
                count = draw(st.integers(2, 3))
                items.append(Rot(next(uid), tuple(block(depth + 1) for _ in range(count))))
            else:
                low = draw(st.integers(1, 3))
                high = low + draw(st.integers(0, 4))
                items.append(Rep(next(uid), low, high, block(depth + 1)))
        return tuple(items)

    return Layout(block(0), draw(st.integers(0, 50_000)))


@settings(max_examples=250, deadline=None)
@given(layout=layouts(), where=st.floats(0.0, 1.0), position=st.floats(0.0, 1.0))
def test_every_feasible_target_with_rotates_is_hit_exactly(
    layout: Layout, where: float, position: float
) -> None:
    low, high = feasible_range(layout)
    top = high if high is not None else low + 5_000_000
    target = low + int(where * (top - low))
    try:
        plan = solve(layout, target, position)
    except Infeasible as exc:
        assert (exc.low, exc.high) == (low, high)
        assert exc.near is not None and exc.near[0] < target < exc.near[1]
        return
    assert played_total(layout, plan) == target
    assert 0 <= plan.pad_samples < 64


# ---------------------------------------------------------------- from the template


ROTATING = """\
---
title: Rotating
minutes: {min: 1, default: 3, max: 10}
---
## Kindness
[repeat 1~7]
[rotate]
May I be kind.
[or]
May I be safe. [pause 2s]

May I be well.
[or]
May I be at ease.
[/rotate]
[pause 2s~60s]
[/repeat]
[from 5m]
Rest now.
[/from]
"""


def layout_for(script: Script, minutes: float) -> tuple[Script, Layout, dict[str, int]]:
    played = select(script, minutes * 60_000)
    # fake phrase lengths: a tenth of a second per character (no engine needed here)
    lengths = {text: len(text) * RATE // 10 for text in played.speech_texts()}
    layout = build_layout(
        played,
        lengths,
        paragraph_gap_samples=RATE,
        bell_samples=lambda kind, strikes: 0,
        edge_samples=RATE,
    )
    return played, layout, lengths


@pytest.mark.parametrize("minutes", [1, 2.5, 4, 6.75])
def test_the_timeline_follows_the_rotation_and_lands_exactly(minutes: float) -> None:
    script = parse_template(ROTATING, "r.md")
    played, layout, lengths = layout_for(script, minutes)
    target = round(minutes * 60 * RATE)
    plan = solve(layout, target, (minutes - 1) / 9)
    timeline = lay_out(
        played,
        plan,
        lengths,
        paragraph_gap_samples=RATE,
        lead_in_samples=RATE // 2,
        tail_samples=RATE // 2,
        bell_name=lambda kind: "bell",
        bell_samples=lambda name, strikes: 0,
        cue_offsets=lambda node: [],
    )
    assert timeline.total == target
    said = [event.text for event in timeline.speech]
    rounds = next(iter(plan.repeat_counts.values()))
    cycle = [["May I be kind."], ["May I be safe.", "May I be well."], ["May I be at ease."]]
    expected = [line for n in range(rounds) for line in cycle[n % 3]]
    if minutes >= 5:
        expected.append("Rest now.")
    assert said == expected


def test_gates_must_be_chosen_before_the_layout() -> None:
    script = parse_template(ROTATING, "r.md")
    with pytest.raises(ValueError, match="gates must be resolved"):
        build_layout(
            script,
            {s.text: 1 for s in script.nodes() if isinstance(s, Speech)},
            paragraph_gap_samples=0,
            bell_samples=lambda kind, strikes: 0,
            edge_samples=0,
        )
