"""A script's time structure, as the length solver (``fit``) sees it: ``build_layout``
reduces a parsed script, once the real length of every phrase is known, to fixed
durations (``Fixed``), elastic pauses (``Elastic``), repeats (``Rep``) and rotates
(``Rot``), all in samples; ``Plan`` is the solver's answer and ``Infeasible`` its refusal.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from kindvoice.audio import ms_to_samples
from kindvoice.template.model import (
    Bell,
    Breathe,
    Gate,
    Node,
    Pause,
    Repeat,
    Rotate,
    Script,
    Speech,
)


@dataclass(frozen=True)
class Fixed:
    """Time nobody can stretch: speech, fixed pauses, bells, breathing (samples)."""

    samples: int


@dataclass(frozen=True)
class Elastic:
    """An elastic pause: ``min_samples`` to ``max_samples`` (None: unbounded)."""

    uid: int
    min_samples: int
    max_samples: int | None
    weight: float = 1.0


@dataclass(frozen=True)
class Rep:
    """A repeat of ``children``, ``min_count`` to ``max_count`` times."""

    uid: int
    min_count: int
    max_count: int
    children: tuple[Item, ...]


@dataclass(frozen=True)
class Rot:
    """A rotate: visit n plays ``alternatives[n % len]``."""

    uid: int
    alternatives: tuple[tuple[Item, ...], ...]


Item = Fixed | Elastic | Rep | Rot


@dataclass(frozen=True)
class Layout:
    """A script's time structure in samples; ``edge_samples`` is the intro plus the tail."""

    items: tuple[Item, ...]
    edge_samples: int = 0

    @functools.cached_property
    def rotating(self) -> frozenset[int]:
        """The uids of the repeats with a rotate inside: their rounds differ."""
        found: set[int] = set()

        def visit(items: Sequence[Item]) -> bool:
            any_rot = False
            for item in items:
                if isinstance(item, Rot):
                    any_rot = True
                    for block in item.alternatives:
                        visit(block)
                elif isinstance(item, Rep) and visit(item.children):
                    found.add(item.uid)
                    any_rot = True
            return any_rot

        visit(self.items)
        return frozenset(found)

    @functools.cached_property
    def _inside(self) -> dict[int, tuple[tuple[tuple[int, int], ...], tuple[Elastic, ...]]]:
        found: dict[int, tuple[tuple[tuple[int, int], ...], tuple[Elastic, ...]]] = {}

        def visit(items: Sequence[Item]) -> tuple[list[tuple[int, int]], list[Elastic]]:
            rots: list[tuple[int, int]] = []
            elastics: list[Elastic] = []
            for item in items:
                if isinstance(item, Elastic):
                    elastics.append(item)
                elif isinstance(item, Rot):
                    rots.append((item.uid, len(item.alternatives)))
                    for block in item.alternatives:
                        more_rots, more_elastics = visit(block)
                        rots += more_rots
                        elastics += more_elastics
                elif isinstance(item, Rep):
                    more_rots, more_elastics = visit(item.children)
                    found[item.uid] = (tuple(more_rots), tuple(dict.fromkeys(more_elastics)))
                    rots += more_rots
                    elastics += more_elastics
            return rots, elastics

        visit(self.items)
        return found

    def inside(self, uid: int) -> tuple[tuple[tuple[int, int], ...], tuple[Elastic, ...]]:
        """The rotates (uid, alternatives) and elastic pauses inside the repeat ``uid``."""
        return self._inside[uid]


@dataclass(frozen=True)
class Plan:
    """The solver's answer: every elastic repeat's count and elastic pause's length."""

    total_samples: int
    repeat_counts: dict[int, int] = field(default_factory=dict)
    pause_samples: dict[int, int] = field(default_factory=dict)
    pad_samples: int = 0  # rounding left-over, added to the closing tail

    def count(self, node: Repeat) -> int:
        return self.repeat_counts.get(node.uid, node.min_count)


class Infeasible(Exception):
    """The target cannot be met; ``low``/``high`` (samples, high None = unbounded) can."""

    def __init__(self, low: int, high: int | None, near: tuple[int, int] | None = None) -> None:
        super().__init__(f"feasible {low}..{high}")
        self.low = low
        self.high = high
        self.near = near  # (below, above) when the target falls in a gap between counts


# --------------------------------------------------------------------------- layout


def build_layout(
    script: Script,
    speech_samples: Mapping[str, int],
    *,
    paragraph_gap_samples: int,
    bell_samples: Callable[[str | None, int], int],
    edge_samples: int,
) -> Layout:
    """Reduce a parsed script to its time structure, given each phrase's real length."""

    def convert(nodes: Sequence[Node]) -> list[Item]:
        items: list[Item] = []
        for node in nodes:
            if isinstance(node, Speech):
                items.append(Fixed(speech_samples[node.key]))
            elif isinstance(node, Pause):
                if node.paragraph:
                    items.append(Fixed(paragraph_gap_samples))
                elif node.elastic:
                    high = None if node.max_ms is None else ms_to_samples(node.max_ms)
                    items.append(Elastic(node.uid, ms_to_samples(node.min_ms), high, node.weight))
                else:
                    items.append(Fixed(ms_to_samples(node.min_ms)))
            elif isinstance(node, Bell):
                items.append(Fixed(bell_samples(node.kind, node.strikes)))
            elif isinstance(node, Breathe):
                items.append(Fixed(ms_to_samples(node.duration_ms)))
            elif isinstance(node, Repeat):
                items.append(
                    Rep(node.uid, node.min_count, node.max_count, tuple(convert(node.body)))
                )
            elif isinstance(node, Rotate):
                items.append(
                    Rot(node.uid, tuple(tuple(convert(block)) for block in node.alternatives))
                )
            elif isinstance(node, Gate):
                raise ValueError(f"{node.pos}: gates must be resolved before the layout")
        return items

    items: list[Item] = []
    for section in script.sections:
        items.extend(convert(section.body))
    return Layout(tuple(items), edge_samples)
