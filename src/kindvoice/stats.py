"""What a listener hears in a prepared render, counted: spoken words, words a minute,
the longest stretch without speech.

These figures guard the scripts' density (``tests/test_content_density.py``) and are
printed by ``scripts/content_stats.py``; they come from the timeline, so nothing is mixed
or encoded to get them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kindvoice.audio import samples_to_s
from kindvoice.pipeline import Prepared

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


def count_words(text: str) -> int:
    """Words as a listener hears them ("I'm" is one word; numbers written as words)."""
    return len(_WORD.findall(text))


@dataclass(frozen=True)
class SpeechStats:
    """Figures of one prepared render; times in seconds."""

    total_s: float
    speech_s: float
    words: int
    longest_silence_s: float

    @property
    def words_per_minute(self) -> float:
        return self.words / (self.total_s / 60.0) if self.total_s > 0 else 0.0


def speech_stats(prepared: Prepared) -> SpeechStats:
    """Count the speech events of ``prepared``'s timeline; the longest silence runs
    between two spoken phrases, or from the start or to the end of the track."""
    timeline = prepared.timeline
    speech = sorted(timeline.speech, key=lambda e: e.start)
    words = sum(count_words(e.text) for e in speech)
    longest, last_end = 0, 0
    for event in speech:
        longest = max(longest, event.start - last_end)
        last_end = max(last_end, event.end)
    longest = max(longest, timeline.total - last_end)
    return SpeechStats(
        total_s=samples_to_s(timeline.total),
        speech_s=samples_to_s(sum(e.length for e in speech)),
        words=words,
        longest_silence_s=samples_to_s(longest),
    )
