"""The least silence around speech, whatever the template writes.

A section may begin with speech right where the last one ended in speech, a written
``[pause 300ms]`` may stand between two phrases, a ``[bell]`` may follow the last word, a
repeat's last phrase may meet its first on the next round. A listener then hears two
phrases run into one, or a bell strike on a word. ``space()`` runs on the script as it
plays (gates chosen) and puts in what is missing: a paragraph gap where speech meets
speech with nothing between, a fixed pause topping the written silence up to
``MIN_PHRASE_GAP_MS`` between phrases and to ``MIN_BELL_GAP_MS`` before a bell. It is
conservative where the script branches: a ``[rotate]`` counts as whichever alternative
needs the most, a repeat's body as met again by itself.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from kindvoice.settings import MIN_BELL_GAP_MS, MIN_PHRASE_GAP_MS
from kindvoice.template.model import (
    Bell,
    Breathe,
    Node,
    Pause,
    Pos,
    Repeat,
    Rotate,
    Script,
    Section,
    Speech,
)


@dataclass(frozen=True)
class _Edges:
    """A run of nodes as its neighbours hear it: the kinds of sound it may start and end
    with, the least silence before the first and after the last sound (ms), and whether
    it holds any sound at all (else ``silence_ms`` is all it is)."""

    first: frozenset[str] = frozenset()
    lead_ms: int = 0
    last: frozenset[str] = frozenset()
    trail_ms: int = 0
    silence_ms: int = 0

    @property
    def sound(self) -> bool:
        return bool(self.first)


def _silence_ms(node: Pause) -> int:
    # a paragraph gap is at least the least phrase gap (PACES keeps every pace's above it)
    return MIN_PHRASE_GAP_MS if node.paragraph else node.min_ms


def _needed_ms(before: frozenset[str], after: frozenset[str]) -> int:
    if "speech" not in before:
        return 0  # a bell's ring-out and a breathing passage end in their own time
    if "bell" in after:
        return MIN_BELL_GAP_MS
    return MIN_PHRASE_GAP_MS if "speech" in after else 0


def _join(a: _Edges, b: _Edges) -> _Edges:
    """The edges of ``a`` followed by ``b``."""
    if not a.sound:
        if not b.sound:
            return _Edges(silence_ms=a.silence_ms + b.silence_ms)
        return dataclasses.replace(b, lead_ms=a.silence_ms + b.lead_ms)
    if not b.sound:
        return dataclasses.replace(a, trail_ms=a.trail_ms + b.silence_ms)
    return _Edges(a.first, a.lead_ms, b.last, b.trail_ms)


class _Spacer:
    def __init__(self, script: Script) -> None:
        self.next_uid = max((node.uid for node in script.nodes()), default=0)

    def pause(self, pos: Pos, have_ms: int, need_ms: int) -> Pause:
        self.next_uid += 1
        if have_ms == 0 and need_ms == MIN_PHRASE_GAP_MS:
            return Pause(self.next_uid, pos, 0, 0, paragraph=True)  # the natural gap
        return Pause(self.next_uid, pos, need_ms - have_ms, need_ms - have_ms)

    def sequence(self, nodes: tuple[Node, ...], before: _Edges) -> tuple[tuple[Node, ...], _Edges]:
        """``nodes`` with the gaps they lack (``before``: what plays ahead of them), and
        the edges of what has played once they are done."""
        out: list[Node] = []
        state = before
        for node in nodes:
            node, edges = self.node(node)
            if edges.sound and state.sound:
                have = state.trail_ms + edges.lead_ms
                need = _needed_ms(state.last, edges.first)
                if have < need:
                    gap = self.pause(node.pos, have, need)
                    out.append(gap)
                    state = _join(state, _Edges(silence_ms=_silence_ms(gap)))
            out.append(node)
            state = _join(state, edges)
        return tuple(out), state

    def node(self, node: Node) -> tuple[Node, _Edges]:
        if isinstance(node, Speech):
            kinds = frozenset({"speech"})
            return node, _Edges(kinds, 0, kinds, 0)
        if isinstance(node, Bell):
            kinds = frozenset({"bell"})
            return node, _Edges(kinds, 0, kinds, 0)
        if isinstance(node, Breathe):
            kinds = frozenset({"breathe"})
            return node, _Edges(kinds, 0, kinds, 0)
        if isinstance(node, Pause):
            return node, _Edges(silence_ms=_silence_ms(node))
        if isinstance(node, Repeat):
            body, edges = self.sequence(node.body, _Edges())
            have = edges.trail_ms + edges.lead_ms
            need = _needed_ms(edges.last, edges.first)
            if node.max_count > 1 and edges.sound and have < need:  # the next round follows
                gap = self.pause(node.pos, have, need)
                body = (*body, gap)
                edges = dataclasses.replace(edges, trail_ms=edges.trail_ms + _silence_ms(gap))
            return dataclasses.replace(node, body=body), edges
        if isinstance(node, Rotate):
            blocks = [self.sequence(block, _Edges()) for block in node.alternatives]
            sounding = [edges for _, edges in blocks if edges.sound]
            if not sounding:
                quiet = min(edges.silence_ms for _, edges in blocks)
                merged = _Edges(silence_ms=quiet)
            else:
                merged = _Edges(
                    frozenset().union(*(e.first for e in sounding)),
                    min(e.lead_ms for e in sounding),
                    frozenset().union(*(e.last for e in sounding)),
                    min(e.trail_ms for e in sounding),
                )
            alternatives = tuple(block for block, _ in blocks)
            return dataclasses.replace(node, alternatives=alternatives), merged
        return node, _Edges()


def space(script: Script) -> Script:
    """``script`` (gates already chosen) with the least gaps around speech put in."""
    spacer = _Spacer(script)
    state = _Edges()
    sections = []
    for section in script.sections:
        body, state = spacer.sequence(section.body, state)
        sections.append(Section(section.title, section.pos, body))
    return dataclasses.replace(script, sections=tuple(sections))
