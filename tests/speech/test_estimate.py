"""A slow voice's lengths known from the text: nothing spoken for a plan or a range on a
cold cache, and the estimate's sides bound what the voice really does."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from kindvoice.lengths import Voicing, estimate_speech, measure_speech, played_layout
from kindvoice.settings import VoiceSettings
from kindvoice.speech.estimate import phrase_seconds
from kindvoice.speech.samples import sample_template
from kindvoice.template.fit import feasible_range
from kindvoice.template.library import bundled_dir
from kindvoice.template.parse import load_template

from kv_testing import kindvoice


def test_more_letters_more_time_and_a_slower_rate_longer() -> None:
    short = phrase_seconds("Rest here.", "af_heart", 0.8, 1000, 380)
    long = phrase_seconds(
        "Rest here, and let the breath find its own way.", "af_heart", 0.8, 1000, 380
    )
    assert short[0] < short[1] < short[2]
    assert long[1] > short[1]
    slower = phrase_seconds("Rest here.", "af_heart", 0.6, 1000, 380)
    assert slower[1] > short[1]
    # a sentence end inside the phrase adds the pace's sentence gap (1 s), a comma its gap
    # (0.38 s) and the voice's own pause beyond it: less
    two = phrase_seconds("Rest here. Stay here.", "af_heart", 0.8, 1000, 380)
    one = phrase_seconds("Rest here, stay here.", "af_heart", 0.8, 1000, 380)
    assert two[1] - one[1] > 0.3
    assert one[1] - phrase_seconds("Rest here stay here.", "af_heart", 0.8, 1000, 380)[1] > 0.38


def test_fast_engines_are_spoken_not_estimated() -> None:
    voicing = Voicing(VoiceSettings(engine="pyttsx3"))
    script = load_template(Path(__file__).parents[2] / "meditations" / "one-minute-break.md")
    assert estimate_speech(voicing, script) is None


def cold_env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("KINDVOICE_ENGINE", None)  # the default voice, Kokoro
    env["KINDVOICE_CACHE_DIR"] = str(tmp_path / "cold")
    return env


def spoken_entries(tmp_path: Path) -> list[Path]:
    return list((tmp_path / "cold").rglob("*.kvp"))


def test_plan_and_validate_on_a_cold_cache_speak_nothing(tmp_path: Path) -> None:
    env = cold_env(tmp_path)
    plan = kindvoice("plan", "self-compassion-break", env=env)
    assert plan.code == 0, plan.stderr
    assert "kokoro voice heart at rate 0.8 (estimated from the text)" in plan.stdout
    assert "Phrase lengths estimated from the text" in plan.stdout
    assert "Total   6:00.000" in plan.stdout
    valid = kindvoice("validate", str(bundled_dir() / "one-minute-break.md"), env=env)
    assert valid.code == 0, valid.stderr + valid.stdout
    assert spoken_entries(tmp_path) == []  # no phrase was spoken: no cache entry exists


@pytest.mark.slow
def test_the_estimate_bounds_what_kokoro_really_says() -> None:
    # the voice sample (spoken by the Kokoro end-to-end tests too: one cache entry each)
    script = load_template(sample_template())
    kokoro = VoiceSettings(engine="kokoro")  # the tests default to espeak
    voicing = Voicing(kokoro)
    guess = estimate_speech(dataclasses.replace(voicing, use_cache=False), script)
    assert guess is not None
    real, _ = measure_speech(voicing, script)
    spoken = sum(real.speech_samples.values())
    assert sum(guess.short.speech_samples.values()) <= spoken
    assert spoken <= sum(guess.long.speech_samples.values())
    # so the range from the text lies inside the range the voice can really fill
    length_ms = script.meta.minutes.default * 60_000
    low_guess = feasible_range(played_layout(script, guess.long, length_ms)[1])[0]
    high_guess = feasible_range(played_layout(script, guess.short, length_ms)[1])[1]
    low, high = feasible_range(played_layout(script, real, length_ms)[1])
    assert low <= low_guess
    assert high is not None and high_guess is not None and high_guess <= high
