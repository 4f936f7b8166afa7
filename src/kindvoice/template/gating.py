"""Content by requested length: which ``[from]`` / ``[under]`` blocks play, decided before
the solver runs.

``select(script, length_ms)`` returns the script as it plays at that length: open gates
are replaced by their blocks, closed ones dropped, and sections left with nothing to play
dropped too (no empty chapters). Where speech now meets speech across a block's edge with a
blank line written between them, the usual paragraph gap is put in, as inside a block;
a ``[rotate]`` gets the same gaps at its edges, alternative by alternative.
The least gaps around speech are then put in (``spacing``).
``choices()`` lists every gate with whether it plays, for ``plan`` and ``validate``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from kindvoice.template.model import (
    Gate,
    Node,
    Pause,
    Repeat,
    Rotate,
    Script,
    Section,
    Speech,
)
from kindvoice.template.spacing import space


@dataclass(frozen=True)
class GateChoice:
    """A gate and whether its block plays; ``reached`` is False inside a closed gate."""

    gate: Gate
    open: bool
    reached: bool = True
    depth: int = 0  # how many gates it stands inside

    @property
    def plays(self) -> bool:
        return self.open and self.reached


def gates(script: Script) -> list[Gate]:
    """Every gate of the script in document order (nested ones included)."""
    return [node for node in script.nodes() if isinstance(node, Gate)]


def choices(script: Script, length_ms: float) -> list[GateChoice]:
    """Every gate, in document order, with whether it is open at ``length_ms``."""
    out: list[GateChoice] = []

    def visit(nodes: tuple[Node, ...], reached: bool, depth: int) -> None:
        for node in nodes:
            if isinstance(node, Gate):
                is_open = node.is_open(length_ms)
                out.append(GateChoice(node, is_open, reached, depth))
                visit(node.body, reached and is_open, depth + 1)
            elif isinstance(node, Repeat):
                visit(node.body, reached, depth)
            elif isinstance(node, Rotate):
                for block in node.alternatives:
                    visit(block, reached, depth)

    for section in script.sections:
        visit(section.body, True, 0)
    return out


def has_gates(script: Script) -> bool:
    return any(isinstance(node, Gate) for node in script.nodes())


class _Selector:
    def __init__(self, script: Script, length_ms: float, flip: frozenset[int]) -> None:
        self.length_ms = length_ms
        self.flip = flip
        self.next_uid = max((node.uid for node in script.nodes()), default=0)

    def gap(self, like: Node) -> Pause:
        self.next_uid += 1
        return Pause(self.next_uid, like.pos, 0, 0, paragraph=True)

    def nodes(self, nodes: tuple[Node, ...]) -> tuple[Node, ...]:
        out: list[Node] = []
        self.splice(nodes, out)
        return tuple(out)

    def splice(self, nodes: tuple[Node, ...], out: list[Node]) -> None:
        for node in nodes:
            if isinstance(node, Gate):
                if node.is_open(self.length_ms) != (node.uid in self.flip):
                    self.splice(node.body, out)
            elif isinstance(node, Repeat):
                body = self.nodes(node.body)
                if body:
                    out.append(dataclasses.replace(node, body=body))
            elif isinstance(node, Rotate):
                self.rotate(node, out)
            else:
                self.append(node, out)

    def append(self, node: Node, out: list[Node]) -> None:
        if isinstance(node, Speech) and node.lead_gap and out:
            if isinstance(out[-1], Speech):
                out.append(self.gap(node))
            elif isinstance(out[-1], Rotate):  # speech after a rotate: gap after each ending
                out[-1] = self.rotate_tail_gaps(out[-1])
        out.append(node)

    def rotate(self, node: Rotate, out: list[Node]) -> None:
        follows_speech = bool(out) and isinstance(out[-1], Speech)
        alternatives = []
        for block in node.alternatives:
            body = list(self.nodes(block))
            first = body[0] if body else None
            if follows_speech and isinstance(first, Speech) and first.lead_gap:
                body.insert(0, self.gap(first))
            alternatives.append(tuple(body))
        if any(alternatives):
            out.append(dataclasses.replace(node, alternatives=tuple(alternatives)))

    def rotate_tail_gaps(self, node: Rotate) -> Rotate:
        alternatives = tuple(
            (*block, self.gap(block[-1])) if block and isinstance(block[-1], Speech) else block
            for block in node.alternatives
        )
        return dataclasses.replace(node, alternatives=alternatives)


def select(script: Script, length_ms: float, flip: frozenset[int] = frozenset()) -> Script:
    """The script as it plays in a session of ``length_ms``: no ``Gate`` nodes left.

    ``flip`` names gates (by uid) to treat the other way round (``validate``'s "which gate
    makes this length impossible")."""
    selector = _Selector(script, length_ms, flip)
    sections = []
    for section in script.sections:
        body = selector.nodes(section.body)
        if body:
            sections.append(Section(section.title, section.pos, body))
    # no phrase runs into the next, no bell strikes on a word (see ``spacing``)
    return space(dataclasses.replace(script, sections=tuple(sections)))
