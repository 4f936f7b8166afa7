"""Bounds on what one template may ask for, checked on the parsed script before any
length is solved or any word is spoken, so no small file costs unbounded time or memory.

* ``MAX_BLOCK_DEPTH``: blocks (``[repeat]``, ``[from]``, ``[under]``, ``[rotate]``) nested
  inside one another (checked by ``blocks.close_block`` as each block closes);
* ``MAX_EXPANDED_EVENTS``: the phrases, pauses, bells and breathing passages a script plays
  with every ``[repeat]`` at its largest count (nested repeats multiply);
* ``MAX_PHRASE_WORDS``: the words of one phrase (a paragraph, or the text between two
  markers); synthesis splits a long phrase at its sentences (``speech.synth``);
* ``MAX_SECTIONS``: ``## `` sections, each a chapter: an ID3 table of contents holds 255.

Every problem is a ``TemplateError`` at the line it concerns. ``check_script`` checks
the depth again, so a script built in code (the timer), which no parser closed, is held
to every bound too (``pipeline.prepare`` checks such a script).
"""

from __future__ import annotations

from kindvoice.errors import TemplateError
from kindvoice.template.model import Gate, Node, Repeat, Rotate, Script, Speech, children

MAX_BLOCK_DEPTH = 10
MAX_EXPANDED_EVENTS = 50_000
MAX_PHRASE_WORDS = 1_000
MAX_SECTIONS = 255


def expanded_events(node: Node) -> int:
    """How many events ``node`` plays with every repeat at its largest count (a rotate
    counts its longest alternative). Depth is bounded by ``MAX_BLOCK_DEPTH``."""
    if isinstance(node, Repeat):
        return node.max_count * sum(expanded_events(child) for child in node.body)
    if isinstance(node, Gate):
        return sum(expanded_events(child) for child in node.body)
    if isinstance(node, Rotate):
        return max(sum(expanded_events(child) for child in block) for block in node.alternatives)
    return 1


def _too_deep(nodes: tuple[Node, ...]) -> Node | None:
    """The first block nested more than ``MAX_BLOCK_DEPTH`` deep in ``nodes``, or None;
    without recursion, so even a script built in code a million blocks deep is answered."""
    stack: list[tuple[tuple[Node, ...], int]] = [(nodes, 0)]
    while stack:
        body, depth = stack.pop()
        for node in body:
            blocks = children(node)
            if blocks and depth + 1 > MAX_BLOCK_DEPTH:
                return node
            stack.extend((block, depth + 1) for block in blocks)
    return None


def check_script(script: Script) -> None:
    """Raise ``TemplateError`` when ``script`` is past any of the bounds above."""
    for section in script.sections:
        deep = _too_deep(section.body)
        if deep is not None:
            raise TemplateError(
                deep.pos.file,
                deep.pos.line,
                deep.pos.col,
                f"Blocks nest more than {MAX_BLOCK_DEPTH} deep here; at most "
                f"{MAX_BLOCK_DEPTH} blocks may stand inside one another",
            )
    if len(script.sections) > MAX_SECTIONS:
        pos = script.sections[MAX_SECTIONS].pos
        raise TemplateError(
            pos.file,
            pos.line,
            pos.col,
            f"Too many sections: {len(script.sections)} '## ' headings; at most "
            f"{MAX_SECTIONS} (each is a chapter, and an MP3's chapter list holds "
            f"{MAX_SECTIONS}): merge some sections",
        )
    total = 0
    for section in script.sections:
        for node in section.body:
            total += expanded_events(node)
            if total > MAX_EXPANDED_EVENTS:
                what = "this [repeat] block" if isinstance(node, Repeat) else "the script"
                raise TemplateError(
                    node.pos.file,
                    node.pos.line,
                    node.pos.col,
                    f"Too much to play: {what} reaches more than {MAX_EXPANDED_EVENTS:,} "
                    "phrases and pauses with every [repeat] at its largest count (nested "
                    "repeats multiply): lower the counts",
                )
    for node in script.nodes():
        if isinstance(node, Speech):
            words = len(node.spoken.split())
            if words > MAX_PHRASE_WORDS:
                raise TemplateError(
                    node.pos.file,
                    node.pos.line,
                    node.pos.col,
                    f"This phrase is {words:,} words long (with its variable values); one "
                    f"phrase holds at most {MAX_PHRASE_WORDS:,}: break it into paragraphs "
                    "with blank lines, or shorten the value given",
                )
