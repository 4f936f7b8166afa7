"""Every bundled practice validates, fits its whole length range, and renders exactly."""

from __future__ import annotations

from pathlib import Path

import pytest
import soundfile
from mutagen.wave import WAVE

from kindvoice.pipeline import prepare, render
from kindvoice.settings import MixSettings, RenderRequest, VoiceSettings
from kindvoice.template.library import list_practices
from kindvoice.template.parse import load_template

PRACTICES = [ref.id for ref in list_practices() if ref.origin == "bundled"]
EXPECTED = {
    "self-compassion-break",
    "compassionate-letter",
    "friend-perspective",
    "soothing-touch",
    "morning-intention",
    "affectionate-breathing",
    "loving-kindness",
    "compassionate-body-scan",
    "soften-soothe-allow",
    "work-setback",
    "heartbreak-and-loss",
    "evening-reflection",
    "timer",
    "one-minute-break",
    "timer-intervals",
    "inner-critic",
    "relationships-repair",
    "boundaries",
    "caregiver-burnout",
    "talk-what-is-self-compassion",
    "talk-myths",
    "talk-when-kindness-hurts",
}


def minutes_of(practice: str) -> tuple[float, float, float]:
    ref = next(r for r in list_practices() if r.id == practice)
    m = load_template(ref.path).meta.minutes
    return m.min, m.default, m.max


def test_the_library_has_every_practice_of_the_catalogue() -> None:
    assert set(PRACTICES) == EXPECTED


@pytest.mark.parametrize("practice", PRACTICES)
def test_plan_is_feasible_across_the_whole_range(practice: str) -> None:
    for minutes in minutes_of(practice):
        request = RenderRequest(practice, Path("x.wav"), length_ms=minutes * 60_000)
        prepared = prepare(request)
        assert prepared.timeline.total == round(minutes * 60 * 48_000)
        # every line it plays is one the script holds (the rendered transcripts below)
        assert {e.key for e in prepared.timeline.speech} <= set(prepared.script.speech_texts())


def render_wav(tmp_path: Path, practice: str, minutes: float, engine: str) -> Path:
    out = tmp_path / f"{practice}-{minutes:g}-{engine}.wav"
    request = RenderRequest(
        practice=practice,
        output=out,
        length_ms=minutes * 60_000,
        voice=VoiceSettings(engine=engine),
        mix=MixSettings(background="none" if engine == "piper" else None),
    )
    result = render(request)
    assert result.path == out
    info = soundfile.info(str(out))
    assert info.frames == round(minutes * 60 * 48_000)  # exact to the sample
    # the transcript in the file is what the script says, in the order it says it
    lyrics = WAVE(out).tags.getall("USLT")[0].text
    spoken = [line for line in lyrics.splitlines() if line and not line.startswith("## ")]
    assert spoken == [e.text for e in result.prepared.timeline.speech]
    # every line is one the script plays at this length ([rotate] alternatives a short
    # session never reaches are the only ones allowed to be missing)
    assert set(spoken) <= {s.text for s in result.prepared.script.phrases().values()}
    return out


# Whole renders: one script of each shape at its minimum (every script is planned to the
# sample at its minimum, default and maximum above; mixing, mastering and tagging do not
# depend on which script it is, and rendering all 22 would cost the suite minutes).
RENDER_SAMPLE = [
    "self-compassion-break",  # gated blocks and [rotate]
    "compassionate-body-scan",  # the longest script
    "loving-kindness",  # [repeat] that grows with the length
    "one-minute-break",
    "talk-myths",
    "timer-intervals",
]


def test_the_render_sample_is_in_the_library() -> None:
    assert set(RENDER_SAMPLE) <= set(PRACTICES)


@pytest.mark.slow
@pytest.mark.parametrize("practice", RENDER_SAMPLE)
def test_renders_at_minimum_with_espeak(tmp_path: Path, practice: str) -> None:
    low, _, _ = minutes_of(practice)
    render_wav(tmp_path, practice, low, "pyttsx3").unlink()


# At the default length, one script of each shape renders too (every default is planned
# exactly above; a whole render of each would cost the suite minutes it does not have).
@pytest.mark.slow
@pytest.mark.parametrize("practice", ["self-compassion-break", "loving-kindness", "talk-myths"])
def test_renders_at_default_with_espeak(tmp_path: Path, practice: str) -> None:
    _, default, _ = minutes_of(practice)
    render_wav(tmp_path, practice, default, "pyttsx3").unlink()


# Piper speaks one of each shape (a practice with rotating lines, the longest script, a
# talk, a timer) rather than all 22: every script already renders with espeak above, and
# the test suite's time budget goes to the Kokoro tests instead.
PIPER_SAMPLE = ["self-compassion-break", "compassionate-body-scan", "talk-myths", "timer-intervals"]


def test_the_piper_sample_is_in_the_library() -> None:
    assert set(PIPER_SAMPLE) <= set(PRACTICES)


@pytest.mark.slow
@pytest.mark.piper
@pytest.mark.parametrize("practice", PIPER_SAMPLE)
def test_renders_at_minimum_with_the_neural_voice(tmp_path: Path, practice: str) -> None:
    low, _, _ = minutes_of(practice)
    render_wav(tmp_path, practice, low, "piper").unlink()
