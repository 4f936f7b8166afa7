"""The length solver: repeat counts and elastic pause lengths that hit a total exactly.

Input is a ``Layout`` (``template.layout``): the script reduced to fixed durations,
elastic pauses and repeats, all in samples, once the real length of every phrase is
known. ``solve()`` then

1. picks repeat counts (longer sessions get more rounds, in step with where the target
   sits in the script's ``minutes`` range),
2. spreads the remaining time over the elastic pauses in proportion to their weights,
   respecting every minimum and maximum (water filling),
3. rounds to whole samples so the total is exact; the few samples rounding leaves over go
   to a pause that has room, else to the closing tail (``Plan.pad_samples``).

An impossible target raises ``Infeasible`` with the feasible range; pure and fast, so it is
tested with property tests and no audio.

A ``[rotate]`` (``Rot``) plays its n-th alternative on its n-th visit, so the rounds of a
repeat around one differ in length: such a repeat is measured round by round, in play
order, exactly as the timeline will place it. Gates are resolved before the layout is
built (``template.gating.select``).
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from kindvoice.template.layout import (
    Elastic,
    Fixed,
    Infeasible,
    Item,
    Layout,
    Plan,
    Rep,
    Rot,
    build_layout,
)

#: the solver's names, and the layout's it takes and gives (``template.layout``)
__all__ = [
    "SOLVER_STEPS",
    "Elastic",
    "Fixed",
    "Infeasible",
    "Item",
    "Layout",
    "Plan",
    "Rep",
    "Rot",
    "build_layout",
    "feasible_range",
    "solve",
]


# --------------------------------------------------------------------------- evaluation

#: items the solver may walk for one length (about a second); the bundled scripts take
#: under a thousandth of it
SOLVER_STEPS = 2_000_000


@dataclass(frozen=True)
class _Flat:
    """The layout under one choice of repeat counts: fixed total and weighted pauses."""

    fixed: int
    pauses: tuple[tuple[Elastic, int], ...]  # (pause, multiplicity)

    @property
    def low(self) -> int:
        return self.fixed + sum(p.min_samples * m for p, m in self.pauses)

    @property
    def high(self) -> int | None:
        if any(p.max_samples is None for p, _ in self.pauses):
            return None
        return self.fixed + sum((p.max_samples or 0) * m for p, m in self.pauses)


def _elastic_repeats(items: Sequence[Item]) -> list[Rep]:
    found: list[Rep] = []
    for item in items:
        if isinstance(item, Rep):
            if item.max_count > item.min_count:
                found.append(item)
            found.extend(_elastic_repeats(item.children))
        elif isinstance(item, Rot):
            for block in item.alternatives:
                found.extend(_elastic_repeats(block))
    return found


class _Budget:
    """Items walked by ``_flatten`` over one solve: past ``SOLVER_STEPS`` the count
    choices left untried are given up (only a hostile layout gets there: rotates whose
    rounds never come back round, inside repeats with thousands of count pairs)."""

    def __init__(self) -> None:
        self.left = SOLVER_STEPS

    def spend(self, steps: int) -> bool:
        self.left -= steps
        return self.left >= 0


def _flatten(layout: Layout, counts: Mapping[int, int], budget: _Budget | None = None) -> _Flat:
    """The layout under repeat ``counts``: its fixed total and each pause's multiplicity
    (``budget`` is charged with the items walked)."""
    walker = _Walker(layout, counts)
    walker.walk(layout.items, 1)
    if budget is not None:
        budget.spend(walker.steps)
    return _Flat(walker.fixed, tuple((p, m) for p, m in walker.mult.values() if m > 0))


class _Walker:
    """One walk of a layout in play order, adding up fixed samples and pause visits."""

    def __init__(self, layout: Layout, counts: Mapping[int, int]) -> None:
        self.layout = layout
        self.counts = counts
        self.steps = 0
        self.fixed = layout.edge_samples
        self.mult: dict[int, tuple[Elastic, int]] = {}
        self.visits: dict[int, int] = {}

    def walk(self, items: Sequence[Item], times: int) -> None:
        self.steps += len(items)
        for item in items:
            if isinstance(item, Fixed):
                self.fixed += item.samples * times
            elif isinstance(item, Elastic):
                _, before = self.mult.get(item.uid, (item, 0))
                self.mult[item.uid] = (item, before + times)
            elif isinstance(item, Rot):
                for _ in range(times):  # each visit plays the next alternative
                    visit = self.visits.get(item.uid, 0)
                    self.visits[item.uid] = visit + 1
                    self.walk(item.alternatives[visit % len(item.alternatives)], 1)
            elif item.uid in self.layout.rotating:  # rounds differ: play them one by one
                self.rounds(item, times * self.counts.get(item.uid, item.min_count))
            else:
                self.walk(item.children, times * self.counts.get(item.uid, item.min_count))

    def rounds(self, rep: Rep, total: int) -> None:
        """Play ``total`` rounds of a repeat with a rotate inside. A round depends only
        on where each rotate inside stands in its cycle, so once that state comes back
        the rounds repeat: the rest of the full cycles are added, not walked (the cost is
        one cycle, whatever the count)."""
        rots, elastics = self.layout.inside(rep.uid)
        seen: dict[tuple[int, ...], tuple[int, int, tuple[int, ...]]] = {}
        done = 0
        while done < total:
            state = tuple(self.visits.get(uid, 0) % size for uid, size in rots)
            if state in seen:
                start, fixed_then, mult_then = seen[state]
                cycles = (total - done) // (done - start)
                self._repeat_cycles(cycles, fixed_then, elastics, mult_then)
                # a whole cycle brings every rotate back to where it stood: no visit to add
                done += (done - start) * cycles
                seen.clear()
                if done >= total:
                    break
                state = tuple(self.visits.get(uid, 0) % size for uid, size in rots)
            held = tuple(self.mult.get(e.uid, (e, 0))[1] for e in elastics)
            seen[state] = (done, self.fixed, held)
            self.walk(rep.children, 1)
            done += 1

    def _repeat_cycles(
        self,
        cycles: int,
        fixed_then: int,
        elastics: Sequence[Elastic],
        mult_then: tuple[int, ...],
    ) -> None:
        """Add ``cycles`` more of the cycle walked since ``fixed_then``/``mult_then``."""
        self.fixed += (self.fixed - fixed_then) * cycles
        for elastic, then in zip(elastics, mult_then, strict=True):
            now = self.mult.get(elastic.uid, (elastic, 0))[1]
            if now != then:
                self.mult[elastic.uid] = (elastic, now + (now - then) * cycles)


def feasible_range(layout: Layout) -> tuple[int, int | None]:
    """The shortest and longest totals (samples; None = unbounded) the layout can make."""
    reps = _elastic_repeats(layout.items)
    low = _flatten(layout, {r.uid: r.min_count for r in reps}).low
    high = _flatten(layout, {r.uid: r.max_count for r in reps}).high
    return low, high


# --------------------------------------------------------------------------- solving


def _candidate_counts(reps: Sequence[Rep], position: float) -> Iterator[dict[int, int]]:
    """Count vectors to try, best first: all repeats scaled together along one path,
    ordered by closeness to ``position`` (0 = every repeat at its minimum, 1 = maximum);
    then, for the rare layout whose path has gaps, every other combination (made only
    when the path is used up)."""
    steps = max((r.max_count - r.min_count for r in reps), default=0)
    path: list[tuple[float, dict[int, int]]] = []
    seen: set[tuple[int, ...]] = set()
    for i in range(steps + 1):
        t = i / steps if steps else 0.0
        counts = {r.uid: r.min_count + round(t * (r.max_count - r.min_count)) for r in reps}
        key = tuple(counts.values())
        if key not in seen:
            seen.add(key)
            path.append((abs(t - position), counts))
    path.sort(key=lambda pair: pair[0])
    yield from (counts for _, counts in path)
    total = math.prod(r.max_count - r.min_count + 1 for r in reps)
    if total <= 20_000:
        rest: list[tuple[float, dict[int, int]]] = []
        for combo in itertools.product(*(range(r.min_count, r.max_count + 1) for r in reps)):
            if combo in seen:
                continue
            spans = [
                (c - r.min_count) / (r.max_count - r.min_count)
                for c, r in zip(combo, reps, strict=True)
            ]
            distance = sum(abs(s - position) for s in spans) / len(spans)
            rest.append((distance, dict(zip((r.uid for r in reps), combo, strict=True))))
        rest.sort(key=lambda pair: pair[0])
        yield from (counts for _, counts in rest)


def _water_fill(pauses: Sequence[tuple[Elastic, int]], extra: int) -> dict[int, int]:
    """Lengths for every pause: min + min(cap, weight * level), with the level chosen so the
    multiplicity-weighted sum of the additions is ``extra`` samples, rounded exactly."""
    if not pauses:
        return {}
    caps = [math.inf if p.max_samples is None else p.max_samples - p.min_samples for p, _ in pauses]
    weights = [max(p.weight, 1e-9) for p, _ in pauses]
    mults = [m for _, m in pauses]

    def filled(level: float) -> float:
        return sum(m * min(c, w * level) for m, c, w in zip(mults, caps, weights, strict=True))

    # walk the breakpoints (where a pause reaches its maximum) to find the level exactly
    breaks = sorted({c / w for c, w in zip(caps, weights, strict=True) if math.isfinite(c)})
    low_level = 0.0
    level = 0.0
    for b in [*breaks, math.inf]:
        if math.isinf(b) or filled(b) >= extra:
            slope = sum(
                m * w for m, c, w in zip(mults, caps, weights, strict=True) if c / w > low_level
            )
            base = filled(low_level)
            level = low_level + (extra - base) / slope if slope > 0 else low_level
            if math.isfinite(b):
                level = min(level, b)
            break
        low_level = b
    adds = [min(c, w * level) for c, w in zip(caps, weights, strict=True)]
    whole = [math.floor(a) for a in adds]
    # hand out what flooring left over, one sample at a time, to pauses with room
    left = extra - sum(m * x for m, x in zip(mults, whole, strict=True))
    order = sorted(range(len(pauses)), key=lambda i: (mults[i], -(adds[i] - whole[i])))
    for i in order:
        if left <= 0:
            break
        room = caps[i] - whole[i]
        if mults[i] <= left and room >= 1:
            take = int(min(room, left // mults[i]))
            whole[i] += take
            left -= take * mults[i]
    return {p.uid: p.min_samples + x for (p, _), x in zip(pauses, whole, strict=True)}


@dataclass
class _Memo:
    """What is known of one layout's count choices, shared by every length solved on an
    equal layout (validate solves each minute of a range on the same one)."""

    flats: dict[tuple[int, ...], _Flat] = field(default_factory=dict)
    spans: list[tuple[int, int]] | None = None  # every choice's (low, high): all of them

    def flat(self, layout: Layout, counts: dict[int, int], budget: _Budget) -> _Flat:
        key = tuple(counts.values())
        found = self.flats.get(key)
        if found is None:
            found = self.flats[key] = _flatten(layout, counts, budget)
        return found

    def catalog(self, layout: Layout) -> list[tuple[int, int]]:
        """Every count choice's (low, high); only those its budget reached when a
        hostile layout has too many (then ``spans`` stays None)."""
        if self.spans is not None:
            return self.spans
        budget = _Budget()
        spans: list[tuple[int, int]] = []
        for counts in _candidate_counts(_elastic_repeats(layout.items), 0.5):
            if budget.left < 0:
                return spans
            flat = self.flat(layout, counts, budget)
            spans.append((flat.low, 2**62 if flat.high is None else flat.high))
        self.spans = spans
        return spans


@functools.lru_cache(maxsize=8)
def _memo(layout: Layout) -> _Memo:
    """The memo of ``layout`` (keyed by its value: a layout built again hits it)."""
    return _Memo()


def solve(layout: Layout, target_samples: int, position: float = 0.5) -> Plan:
    """Repeat counts and pause lengths whose total is ``target_samples`` exactly.

    ``position`` (0..1) is where the target sits in the script's intended range; it decides
    how many rounds elastic repeats get. Raises ``Infeasible`` with the feasible range.
    """
    reps = _elastic_repeats(layout.items)
    low, top = feasible_range(layout)
    if target_samples < low or (top is not None and target_samples > top):
        raise Infeasible(low, top)  # outside the range no count choice can help
    memo = _memo(layout)
    if memo.spans is not None and not any(a <= target_samples <= b for a, b in memo.spans):
        raise Infeasible(low, top, _near(memo.spans, target_samples))  # in a gap
    position = min(1.0, max(0.0, position))
    budget = _Budget()
    for counts in _candidate_counts(reps, position):
        if budget.left < 0:
            break
        flat = memo.flat(layout, counts, budget)
        high = flat.high
        if target_samples < flat.low or (high is not None and target_samples > high):
            continue
        extra = target_samples - flat.low
        lengths = _water_fill(flat.pauses, extra)
        used = flat.fixed + sum(lengths[p.uid] * m for p, m in flat.pauses)
        pad = target_samples - used
        if pad < 0:  # cannot happen: the fill never overshoots
            continue
        return Plan(target_samples, dict(counts), lengths, pad)
    raise Infeasible(low, top, _near(memo.catalog(layout), target_samples))


def _near(spans: Sequence[tuple[int, int]], target: int) -> tuple[int, int]:
    """The feasible totals just below and above a target that falls between count choices."""
    below = max((high for _, high in spans if high < target), default=0)
    above = min((low for low, _ in spans if low > target), default=2**62)
    return below, above
