"""Each phrase's pitch level, worked out from the script's structure before any audio.

A teacher's voice falls over a section and rises again where something new begins: high
at a section's start, a step lower each sentence down to a floor, lifted after a long
pause (``settings.INTONATION``). A voice that speaks every phrase on its own cannot know
where a phrase stands, so the script says it: ``levels`` gives each phrase the level
(semitones from the voice's own) its first sentence is spoken at; an engine that shapes
pitch (Kokoro) steps its later sentences down from there. The level is part of what is
asked of the engine, and of the phrase cache's key; it never changes a phrase's length,
so measuring lengths needs none.
"""

from __future__ import annotations

import re

from kindvoice.settings import INTONATION, Intonation
from kindvoice.template.model import Pause, Script, Speech, walk

_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"”’)]*\s+")


def sentence_count(text: str) -> int:
    """How many sentences ``text`` holds (at least one)."""
    return max(1, sum(1 for s in _SENTENCE_END.split(text.strip()) if s.strip()))


def levels(script: Script, contour: Intonation = INTONATION) -> dict[str, float]:
    """Phrase key (``Speech.key``) -> the level in semitones its first sentence is spoken
    at, to the hundredth. A phrase spoken in several places keeps its first place's level
    (one phrase, one sound)."""
    out: dict[str, float] = {}
    for section in script.sections:
        level = contour.top_st
        spoken = False  # a pause before the section's first phrase lifts nothing
        for node in walk(section.body):
            if isinstance(node, Pause) and spoken and node.min_ms >= contour.lift_after_ms:
                level = min(contour.top_st, level + contour.lift_st)
            elif isinstance(node, Speech):
                out.setdefault(node.key, round(level, 2))
                spoken = True
                level -= contour.step_st * sentence_count(node.spoken)
                level = max(level, contour.floor_st)
    return out
