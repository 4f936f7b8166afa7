"""``[pace slower]`` / ``[pace faster]``: a section's voice slower or faster from the marker
to the section's end, the same words at two paces kept apart, and the errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kindvoice.errors import TemplateError
from kindvoice.lengths import Voicing, measure_speech
from kindvoice.settings import PACE_SHIFTS, RenderRequest, VoiceSettings
from kindvoice.speech.base import EngineSpec, paced
from kindvoice.template.model import Speech
from kindvoice.template.parse import parse_template

FRONT = "---\ntitle: Pace test\nminutes: {min: 1, default: 2, max: 4}\n---\n"
BODY = """## Arriving

Rest here for a moment.

[pause 2s~]

## Deeper

Rest here for a moment.

[pace slower]

Rest here for a moment.

Let the breath be easy.

## After

Let the breath be easy.
"""


def speech(script_body: str) -> list[Speech]:
    script = parse_template(FRONT + script_body, "t.md")
    return [node for node in script.nodes() if isinstance(node, Speech)]


def test_the_marker_holds_to_the_end_of_its_section() -> None:
    paces = [(s.text, s.pace) for s in speech(BODY)]
    assert paces == [
        ("Rest here for a moment.", "normal"),
        ("Rest here for a moment.", "normal"),
        ("Rest here for a moment.", "slower"),
        ("Let the breath be easy.", "slower"),
        ("Let the breath be easy.", "normal"),  # a new section starts at the normal pace
    ]


def test_the_same_words_at_two_paces_are_two_sounds_with_one_written_text() -> None:
    script = parse_template(FRONT + BODY, "t.md")
    phrases = script.phrases()
    assert len(phrases) == 4
    assert {s.text for s in phrases.values()} == {
        "Rest here for a moment.",
        "Let the breath be easy.",
    }
    assert sorted(s.pace for s in phrases.values()) == ["normal", "normal", "slower", "slower"]


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        ("[pace]", "Unknown pace: write one of [pace slower], [pace normal], [pace faster]"),
        ("[pace sloww]", "Unknown pace 'sloww'"),
        ("[pace slower please]", "Unknown pace 'slower please'"),
    ],
)
def test_a_bad_pace_names_the_choices_where_it_is_written(marker: str, message: str) -> None:
    with pytest.raises(TemplateError) as info:
        parse_template(FRONT + f"## One\n\nHello.\n\n{marker}\n", "t.md")
    assert str(info.value).startswith("t.md:9:1: ")
    assert message in str(info.value)


def test_a_pace_inside_a_block_is_refused() -> None:
    body = "## One\n\n[from 3m]\n[pace slower]\nHello.\n[/from]\n"
    with pytest.raises(TemplateError) as info:
        parse_template(FRONT + body, "t.md")
    assert "t.md:8:1: Put [pace] outside the [from] block" in str(info.value)


def test_a_slower_voice_speaks_more_slowly_and_leaves_longer_silences() -> None:
    spec = EngineSpec("kokoro", "heart", 0.8, 1000, 380)
    slower, faster = paced(spec, "slower"), paced(spec, "faster")
    assert paced(spec, "normal") is spec
    assert slower.rate == pytest.approx(0.8 * PACE_SHIFTS["slower"].rate)
    assert slower.sentence_gap_ms > spec.sentence_gap_ms > faster.sentence_gap_ms
    assert slower.comma_gap_ms > spec.comma_gap_ms > faster.comma_gap_ms


@pytest.mark.slow
def test_espeak_says_the_slower_phrase_longer_and_the_transcript_keeps_the_words(
    tmp_path: Path, own_cache: Path
) -> None:
    path = tmp_path / "pace.md"
    path.write_text(FRONT + BODY, encoding="utf-8")
    from kindvoice.pipeline import prepare

    request = RenderRequest(str(path), None, voice=VoiceSettings(engine="pyttsx3"))
    prepared = prepare(request)
    script = prepared.script
    measure, audio = measure_speech(Voicing.of(request), script)
    keys = {(s.text, s.pace): key for key, s in script.phrases().items()}
    normal = audio[keys["Rest here for a moment.", "normal"]]
    slower = audio[keys["Rest here for a moment.", "slower"]]
    # espeak's words-a-minute scale with the rate: 1 / 0.9 longer, give or take its rounding
    assert len(slower) / len(normal) == pytest.approx(1 / PACE_SHIFTS["slower"].rate, rel=0.06)
    assert not np.array_equal(normal[: len(normal) // 2], slower[: len(normal) // 2])
    said = [e.text for e in prepared.timeline.speech]
    assert said == [s.text for s in speech(BODY)]
    assert {e.key for e in prepared.timeline.speech} == set(measure.speech_samples)
