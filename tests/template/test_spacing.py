"""The least silence around speech: two phrases never run into one, a bell never strikes
on a word, whatever the template writes (section edges, short written pauses, repeats).
The same is checked on the real timeline of every bundled track at its default in
``tests/test_pacing_evenness.py`` (which plans those timelines once for both checks)."""

from __future__ import annotations

from pathlib import Path

from kindvoice.settings import (
    MIN_BELL_GAP_MS,
    MIN_PHRASE_GAP_MS,
    PACES,
)
from kindvoice.template.gating import select
from kindvoice.template.model import Node, Pause, Repeat
from kindvoice.template.parse import parse_template

MEDITATIONS = Path(__file__).resolve().parents[2] / "meditations"
TRACKS = sorted(p for p in MEDITATIONS.rglob("*.md") if p.name != "TEMPLATE_FORMAT.md")


def parse(body: str) -> list[Node]:
    script = parse_template(f"---\ntitle: T\n---\n{body}", "t.md")
    played = select(script, 10 * 60_000)
    return [node for section in played.sections for node in section.body]


def shape(nodes: list[Node]) -> list[str]:
    out = []
    for node in nodes:
        if isinstance(node, Pause):
            out.append("P" if node.paragraph else f"{node.min_ms}ms")
        elif isinstance(node, Repeat):
            out.append(f"repeat({','.join(shape(list(node.body)))})")
        else:
            out.append(type(node).__name__)
    return out


def test_every_pace_leaves_at_least_the_least_gap_between_paragraphs() -> None:
    assert all(p.paragraph_gap_ms >= MIN_PHRASE_GAP_MS for p in PACES.values())


def test_a_section_that_starts_with_speech_after_speech_gets_a_paragraph_gap() -> None:
    assert shape(parse("## One\nEnd of one.\n## Two\nStart of two.\n")) == [
        "Speech",
        "P",
        "Speech",
    ]


def test_a_short_written_pause_is_topped_up_and_a_long_one_kept() -> None:
    assert shape(parse("One. [pause 300ms] Two.\n")) == ["Speech", "300ms", "500ms", "Speech"]
    assert shape(parse("One. [pause 2s] Two.\n")) == ["Speech", "2000ms", "Speech"]


def test_a_bell_after_speech_waits_and_speech_after_a_bell_does_not() -> None:
    need = f"{MIN_BELL_GAP_MS}ms"
    assert shape(parse("Last words.\n[bell]\nFirst words.\n")) == [
        "Speech",
        need,
        "Bell",
        "Speech",
    ]
    assert shape(parse("Words.\n\n[pause 1s]\n[bell]\n")) == ["Speech", "1000ms", "500ms", "Bell"]


def test_a_repeat_whose_rounds_meet_in_speech_gets_a_gap_between_rounds() -> None:
    nodes = parse("Before.\n[repeat 2~4]\nMay I be kind.\n[/repeat]\n")
    assert shape(nodes) == ["Speech", "P", "repeat(Speech,P)"]
    once = parse("[repeat 1]\nOnce.\n[/repeat]\n")
    assert shape(once) == ["repeat(Speech)"]
