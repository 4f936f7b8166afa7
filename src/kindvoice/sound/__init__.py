"""Synthesized sound: bells (``bells``), background beds (``beds``) and breathing cue
tones (``breath``). Nothing here reads an audio file: every sound is made with numpy and
scipy at the house rate, and the same seed always gives the same samples."""

from __future__ import annotations

from kindvoice.sound.beds import (
    BED_REFERENCE_LUFS,
    Bed,
    background_descriptions,
    background_names,
    make_bed,
)
from kindvoice.sound.bells import (
    DEFAULT_BELL,
    bell_descriptions,
    bell_duration_samples,
    bell_names,
    render_bell,
)
from kindvoice.sound.breath import breathe_cues, cue_tone

__all__ = [
    "BED_REFERENCE_LUFS",
    "DEFAULT_BELL",
    "Bed",
    "background_descriptions",
    "background_names",
    "bell_descriptions",
    "bell_duration_samples",
    "bell_names",
    "breathe_cues",
    "cue_tone",
    "make_bed",
    "render_bell",
]
