"""The length solver: exact totals, water filling, repeat choice, infeasible ranges."""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from kindvoice.template.fit import (
    Elastic,
    Fixed,
    Infeasible,
    Layout,
    Plan,
    Rep,
    feasible_range,
    solve,
)


def total_of(layout: Layout, plan: Plan) -> int:
    """Recompute a plan's total independently of the solver."""

    def walk(items: tuple[object, ...], times: int) -> int:
        t = 0
        for item in items:
            if isinstance(item, Fixed):
                t += item.samples * times
            elif isinstance(item, Elastic):
                t += plan.pause_samples[item.uid] * times
            elif isinstance(item, Rep):
                count = plan.repeat_counts.get(item.uid, item.min_count)
                t += walk(item.children, times * count)
        return t

    return layout.edge_samples + walk(layout.items, 1) + plan.pad_samples


def pauses_in(items: tuple[object, ...]) -> list[Elastic]:
    found: list[Elastic] = []
    for item in items:
        if isinstance(item, Elastic):
            found.append(item)
        elif isinstance(item, Rep):
            found.extend(pauses_in(item.children))
    return found


def test_water_filling_respects_weights_and_maxima() -> None:
    layout = Layout(
        (
            Fixed(1000),
            Elastic(1, 100, 200, 1.0),
            Elastic(2, 100, None, 2.0),
            Elastic(3, 100, None, 1.0),
        ),
        edge_samples=0,
    )
    plan = solve(layout, 1000 + 300 + 1000)
    assert total_of(layout, plan) == 2300
    assert plan.pause_samples[1] == 200  # capped at its maximum
    # the two unbounded pauses share the rest 2:1 (within a sample of rounding)
    extra2 = plan.pause_samples[2] - 100
    extra3 = plan.pause_samples[3] - 100
    assert abs(extra2 - 2 * extra3) <= 2
    assert plan.pad_samples == 0


def test_infeasible_reports_the_range() -> None:
    layout = Layout((Fixed(1000), Elastic(1, 100, 500)), edge_samples=50)
    assert feasible_range(layout) == (1150, 1550)
    with pytest.raises(Infeasible) as info:
        solve(layout, 1000)
    assert (info.value.low, info.value.high) == (1150, 1550)
    with pytest.raises(Infeasible):
        solve(layout, 1551)


def test_longer_targets_get_more_rounds() -> None:
    body = (Fixed(48_000), Elastic(2, 48_000, 96_000))
    layout = Layout((Fixed(10_000), Rep(1, 1, 6, body), Elastic(3, 1000, None)), 0)
    short = solve(layout, 200_000, position=0.0)
    long = solve(layout, 3_000_000, position=1.0)
    assert short.repeat_counts[1] < long.repeat_counts[1]
    assert total_of(layout, short) == 200_000
    assert total_of(layout, long) == 3_000_000


def test_gap_between_repeat_counts_is_named() -> None:
    # a repeat with nothing elastic can only make whole multiples
    layout = Layout((Rep(1, 1, 3, (Fixed(1000),)),), 0)
    assert solve(layout, 2000).repeat_counts[1] == 2
    with pytest.raises(Infeasible) as info:
        solve(layout, 2500)
    assert info.value.near == (2000, 3000)


item_strategy = st.recursive(
    st.one_of(
        st.builds(Fixed, st.integers(0, 200_000)),
        st.tuples(
            st.integers(0, 100_000),
            st.one_of(st.none(), st.integers(1, 300_000)),
            st.floats(0.25, 4.0),
        ),
    ),
    lambda children: st.tuples(
        st.integers(1, 3), st.integers(0, 3), st.lists(children, min_size=1, max_size=3)
    ),
    max_leaves=8,
)


def build(raw: object, uids: list[int]) -> object:
    """Turn drawn tuples into layout items with fresh uids."""
    if isinstance(raw, Fixed):
        return raw
    assert isinstance(raw, tuple)
    uids.append(len(uids) + 1)
    if len(raw) == 3 and isinstance(raw[2], float):
        low, span, weight = raw
        return Elastic(uids[-1], low, None if span is None else low + span, weight)
    low_count, extra, children = raw
    uid = uids[-1]
    return Rep(uid, low_count, low_count + extra, tuple(build(c, uids) for c in children))  # type: ignore[misc]


@settings(max_examples=300, deadline=None)
@given(
    raws=st.lists(item_strategy, min_size=1, max_size=5),
    edge=st.integers(0, 100_000),
    where=st.floats(0.0, 1.0),
    position=st.floats(0.0, 1.0),
)
def test_every_feasible_target_is_hit_exactly(
    raws: list[object], edge: int, where: float, position: float
) -> None:
    uids: list[int] = []
    layout = Layout(tuple(build(r, uids) for r in raws), edge)  # type: ignore[misc]
    low, high = feasible_range(layout)
    top = high if high is not None else low + 5_000_000
    target = low + int(where * (top - low))
    try:
        plan = solve(layout, target, position)
    except Infeasible as exc:
        # only a target between repeat choices may be refused, and the range must be right
        assert (exc.low, exc.high) == (low, high)
        assert exc.near is not None
        assert exc.near[0] < target < exc.near[1]
        return
    assert total_of(layout, plan) == target
    # rounding only, never a stretch of dead air: below one sample per play of the most
    # repeated pause (a pause inside nested repeats grows in steps of its multiplicity)
    assert 0 <= plan.pad_samples < max(64, math.prod(plan.repeat_counts.values()))
    for pause in pauses_in(layout.items):
        if pause.uid in plan.pause_samples:
            length = plan.pause_samples[pause.uid]
            assert length >= pause.min_samples
            assert pause.max_samples is None or length <= pause.max_samples


@settings(max_examples=200, deadline=None)
@given(
    raws=st.lists(item_strategy, min_size=1, max_size=5),
    edge=st.integers(0, 100_000),
    beyond=st.integers(1, 10_000_000),
)
def test_every_infeasible_target_is_refused_with_the_range(
    raws: list[object], edge: int, beyond: int
) -> None:
    uids: list[int] = []
    layout = Layout(tuple(build(r, uids) for r in raws), edge)  # type: ignore[misc]
    low, high = feasible_range(layout)
    targets = [low - beyond] if low - beyond >= 0 else []
    if high is not None:
        targets.append(high + beyond)
    assume(targets)
    for target in targets:
        with pytest.raises(Infeasible) as info:
            solve(layout, target)
        assert (info.value.low, info.value.high) == (low, high)
