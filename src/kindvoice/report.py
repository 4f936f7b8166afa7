"""The plan report: what the solver chose for a render, as text (``kindvoice plan``).

Everything here is read from a ``Prepared`` render (the timeline and the plan), so the
figures add up to the requested total exactly; nothing is encoded.
"""

from __future__ import annotations

from collections.abc import Sequence

from kindvoice.audio import samples_to_s
from kindvoice.durations import clock
from kindvoice.pipeline import Prepared
from kindvoice.template.layout import Plan
from kindvoice.template.model import Node, Pause, Repeat, Rotate


def _precise(samples: int) -> str:
    seconds = samples_to_s(samples)
    minutes, rest = divmod(seconds, 60.0)
    return f"{int(minutes)}:{rest:06.3f}"


def plan_lines(prepared: Prepared) -> list[str]:
    """The timeline as lines: sections with start times, elastic choices, totals."""
    plan, timeline, script = prepared.plan, prepared.timeline, prepared.script
    lines = [
        f"{script.meta.title} ({script.meta.id}), {prepared.engine_label}, "
        f"background {prepared.background}",
    ]
    if prepared.gates:
        lines.append(f"  Blocks by length, at {clock(plan.total_samples)}:")
        for choice in prepared.gates:
            state = "in" if choice.plays else "out"
            if choice.open and not choice.reached:
                state = "out (it stands in a block that is out)"
            pad = "    " * choice.depth
            lines.append(f"    {pad}line {choice.gate.pos.line}: {choice.gate.label} {state}")
    for section, chapter in zip(script.sections, timeline.chapters, strict=True):
        lines.append(f"  {clock(chapter.start):>7}  {section.title}")
        lines += _choices(plan, section.body, 0)
    return lines + _totals(prepared)


def _choices(plan: Plan, nodes: Sequence[Node], depth: int) -> list[str]:
    """The lines of the elastic choices among ``nodes``: pauses, rotates, repeats."""
    pad = "    " * depth
    lines = []
    for node in nodes:
        if isinstance(node, Pause) and node.elastic and not node.paragraph:
            kind = "silence" if node.fade_background else "pause"
            high = "" if node.max_ms is None else f"{node.max_ms / 1000:g}s"
            chosen = plan.pause_samples.get(node.uid)
            length = "not reached" if chosen is None else f"{samples_to_s(chosen):.1f} s"
            lines.append(
                f"    {pad}line {node.pos.line}: {kind} {node.min_ms / 1000:g}s~{high} -> {length}"
            )
        elif isinstance(node, Rotate):
            count = len(node.alternatives)
            lines.append(f"    {pad}line {node.pos.line}: rotate, {count} alternatives in turn")
            for block in node.alternatives:
                lines += _choices(plan, block, depth + 1)
        elif isinstance(node, Repeat):
            count = plan.count(node)
            span = f"{node.min_count}~{node.max_count}" if node.elastic else f"{node.min_count}"
            lines.append(f"    {pad}line {node.pos.line}: repeat {span} -> {count} times")
            lines += _choices(plan, node.body, depth + 1)
    return lines


def _totals(prepared: Prepared) -> list[str]:
    """Speech, bells, silence and the total, the feasible range, and whether estimated."""
    timeline = prepared.timeline
    speech = sum(e.length for e in timeline.events if e.kind == "speech")
    sounds = sum(e.length for e in timeline.events if e.kind == "bell")
    silence = timeline.total - speech - sounds
    low, high = prepared.feasible
    top = "no upper limit" if high is None else clock(high)
    lines = [
        f"Speech  {_precise(speech)}",
        f"Bells   {_precise(sounds)}",
        f"Silence {_precise(silence)} (pauses, breathing, lead-in and tail)",
        f"Total   {_precise(timeline.total)}",
        f"Feasible with this voice: {clock(low)} to {top}",
    ]
    if prepared.estimated:
        lines.append(
            "Phrase lengths estimated from the text (not spoken yet): a render speaks them"
            " and fits the length exactly."
        )
    return lines
