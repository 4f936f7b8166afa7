"""A teacher's own recorded voice, end to end with real audio.

The "teacher's takes" are real speech (espeak-ng through the pyttsx3 engine) recorded
badly, as at home: each phrase at its own level (up to 14 dB quieter), with pink noise
and 50 Hz hum under it and a second of room before and after, saved in the formats
phones and studio software give (wav, flac, mp3, webm/opus, m4a/aac). They are imported
with ``kindvoice voices import``, rendered at several lengths with ``--voice
recorded:anna``, and the renders are checked by instruments independent of kindvoice:
the length by ffmpeg (imageio-ffmpeg's binary) and mutagen, the loudness by pyloudnorm,
and the words by a recognizer (Whisper base through faster-whisper, scripts/recognize.py).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mutagen.mp3
import numpy as np
import pytest
import soundfile as sf
from mutagen.id3 import ID3

from kindvoice.speech.base import EngineSpec
from kindvoice.speech.cleaning import TAKE_LUFS, loudness_lufs
from kindvoice.speech.synth import synthesize_phrases
from kindvoice.speech.takes import RecordedVoice, phrase_stem
from kindvoice.template.gating import select
from kindvoice.template.library import resolve_practice
from kindvoice.template.parse import load_template

from kv_testing import decode, ffmpeg_exe, kindvoice, load_recognizer

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
RATE = 48_000
FORMATS = (".wav", ".flac", ".mp3", ".webm", ".m4a")


def phrases(practice: str, minutes: float) -> list[str]:
    """The written texts ``practice`` plays at ``minutes``."""
    script = load_template(resolve_practice(practice))
    return list(select(script, minutes * 60_000.0).spoken_texts())


def pink_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / RATE)
    spectrum[1:] /= np.sqrt(f[1:])
    spectrum[0] = 0
    pink = np.fft.irfft(spectrum, n)
    return pink / np.sqrt(np.mean(pink**2))


def quietest_100ms_db(x: np.ndarray) -> float:
    """The level (dBFS RMS) of the quietest 100 ms stretch of ``x``, in 10 ms steps."""
    frame = RATE // 100
    n = len(x) // frame
    power = np.mean(x[: n * frame].astype(np.float64).reshape(n, frame) ** 2, axis=1)
    window = np.convolve(power, np.ones(10) / 10, "valid")
    return float(10 * np.log10(window.min() + 1e-15))


def record_badly(texts: list[str], folder: Path, seed: int = 3) -> dict[str, float]:
    """Speak ``texts`` with espeak and save each as a noisy take at its own level, named
    as ``voices export`` says, in turn in every format; returns each file's gain in dB."""
    folder.mkdir(parents=True, exist_ok=True)
    spec = EngineSpec("pyttsx3", None, 0.9)
    audio = synthesize_phrases(spec, texts, None, 2)
    # espeak at this rate says about 2.6 words a second; a phrase far shorter than that
    # is one of its rare cut-off outputs, not a take a teacher would keep: speak it again
    short = [t for t in texts if len(audio[t]) < 0.15 * RATE * len(t.split())]
    audio.update(synthesize_phrases(spec, short, None, 1))
    rng = np.random.default_rng(seed)
    gains: dict[str, float] = {}
    for i, text in enumerate(texts):
        gain_db = float(rng.uniform(-14.0, 0.0))
        room = np.zeros(RATE, dtype=np.float64)
        x = np.concatenate([room, audio[text] * 10 ** (gain_db / 20), room])
        t = np.arange(len(x)) / RATE
        noise = 10 ** (-52 / 20) * pink_noise(len(x), rng) + 0.003 * np.sin(2 * np.pi * 50 * t)
        wav = folder / f"{phrase_stem(text)}.wav"
        sf.write(wav, (x + noise).astype(np.float32), RATE, subtype="PCM_16")
        suffix = FORMATS[i % len(FORMATS)]
        if suffix != ".wav":
            target = wav.with_suffix(suffix)
            subprocess.run(
                [ffmpeg_exe(), "-v", "error", "-y", "-i", str(wav), str(target)], check=True
            )
            wav.unlink()
        gains[text] = gain_db
    return gains


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A library folder of this module's own ($KINDVOICE_LIBRARY)."""
    root = tmp_path_factory.mktemp("library")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KINDVOICE_LIBRARY", str(root))
        yield root


@pytest.fixture(scope="module")
def takes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The teacher's takes: the one-minute break at one minute (not the two phrases only
    its two-minute version plays) and the self-compassion break below five minutes."""
    folder = tmp_path_factory.mktemp("takes")
    texts = phrases("one-minute-break", 1) + phrases("self-compassion-break", 3)
    record_badly(list(dict.fromkeys(texts)), folder)  # the two share "May I be kind ..."
    return folder


@pytest.fixture(scope="module")
def anna(library: Path, takes: Path) -> RecordedVoice:
    run = kindvoice("voices", "import", "anna", str(takes))
    assert run.code == 0, run.stderr
    assert "Kept" in run.stdout
    return RecordedVoice("anna")


def test_export_names_each_phrase_as_import_reads_it() -> None:
    run = kindvoice("voices", "export", "one-minute-break")
    assert run.code == 0, run.stderr
    for text in phrases("one-minute-break", 2):
        assert f"{phrase_stem(text)}" in run.stdout
        assert text in run.stdout
    # the two phrases only the two-minute version plays say so
    assert run.stdout.count("(only 2 minutes)") == 2
    stem = phrase_stem("This is a hard moment.")
    assert (
        stem.startswith("this-is-a-hard-moment-") and len(stem) == len("this-is-a-hard-moment-") + 8
    )


def test_import_trims_denoises_and_levels_every_take(anna: RecordedVoice, takes: Path) -> None:
    kept = anna.takes()
    texts = phrases("one-minute-break", 1) + phrases("self-compassion-break", 3)
    assert set(texts) <= set(kept)
    before, after = [], []
    for text in texts:
        original = next(takes.glob(f"{phrase_stem(text)}.*"))
        raw = decode(original, channels=1)[:, 0]
        clean = anna.audio(text)
        before.append(loudness_lufs(raw[RATE:-RATE]))  # speech only, as given
        after.append(loudness_lufs(clean))
        # trimmed to the speech: most of the second of room each side is gone
        assert len(clean) < len(raw) - 1.2 * RATE, original.name
        # the noise is gone: the quietest 100 ms (the room kept before the first word)
        # sits far further below the voice than the room did in the take as given
        room_before = before[-1] - quietest_100ms_db(raw)  # type: ignore[operator]
        room_after = after[-1] - quietest_100ms_db(clean)  # type: ignore[operator]
        assert room_before < 40, original.name
        assert room_after > room_before + 25, original.name
    assert all(value is not None for value in before + after)
    spread_after = max(after) - min(after)  # type: ignore[type-var,operator]
    assert max(before) - min(before) > 8.0  # type: ignore[type-var,operator]
    assert spread_after < 1.0
    assert np.mean(after) == pytest.approx(TAKE_LUFS, abs=0.5)  # type: ignore[arg-type]


def test_record_lists_what_is_missing_and_the_lengths_recorded(anna: RecordedVoice) -> None:
    run = kindvoice("record", "one-minute-break", "--voice", "anna")
    assert run.code == 0, run.stderr
    first = run.stdout.splitlines()[0]
    assert "10 of 12 phrases recorded; enough for 1:15 to 1:" in first
    for text in set(phrases("one-minute-break", 2)) - set(phrases("one-minute-break", 1)):
        assert phrase_stem(text) in run.stdout
    # the self-compassion break: the short version is recorded, five minutes up is not
    run = kindvoice("record", "self-compassion-break", "--voice", "recorded:anna")
    assert run.code == 0, run.stderr
    assert "enough for 3 to " in run.stdout.splitlines()[0]
    assert "[5 to 30 minutes]" in run.stdout


recognize = load_recognizer()


@pytest.fixture(scope="module")
def model() -> Any:
    return recognize.load_model(threads=1)


@pytest.mark.parametrize(
    ("practice", "minutes"),
    [("one-minute-break", 1), ("self-compassion-break", 3), ("self-compassion-break", 4.5)],
)
def test_renders_in_the_recorded_voice_are_exact_loud_and_heard(
    anna: RecordedVoice, model: Any, tmp_path: Path, practice: str, minutes: float
) -> None:
    import pyloudnorm

    out = tmp_path / f"{practice}-{minutes:g}.mp3"
    # the voice alone at 4.5 minutes: BS.1770's gate then reads the voice, which is what is
    # mastered (with long pauses a background pulls the reading of the whole mix down)
    background = ["--background", "none"] if minutes == 4.5 else []
    run = kindvoice(
        "build",
        practice,
        "--voice",
        "recorded:anna",
        "--minutes",
        str(minutes),
        *background,
        "-o",
        str(out),
    )
    assert run.code == 0, run.stderr
    expected = minutes * 60.0
    audio = decode(out)
    assert len(audio) / RATE == pytest.approx(expected, abs=0.05)
    assert mutagen.mp3.MP3(out).info.length == pytest.approx(expected, abs=0.05)
    lufs = pyloudnorm.Meter(RATE).integrated_loudness(audio.astype(np.float64))
    assert lufs == pytest.approx(-16.0, abs=1.0)
    tags = ID3(out)
    assert str(tags["TXXX:kindvoice voice"]) == "recorded voice anna"
    transcript = tags.getall("USLT")[0].text
    assert transcript.startswith("Voice: recorded voice anna")
    # the recognizer hears the teacher's words (the takes, cleaned, in the render)
    reference = "\n".join(line for line in transcript.splitlines()[1:] if not line.startswith("#"))
    error, _ = recognize.wer(reference, recognize.transcribe(model, out, "en"))
    assert error < 0.25


def test_a_length_not_fully_recorded_is_refused_in_one_line(
    anna: RecordedVoice, tmp_path: Path
) -> None:
    out = tmp_path / "two.mp3"
    run = kindvoice(
        "build", "one-minute-break", "--voice", "recorded:anna", "--minutes", "2", "-o", str(out)
    )
    assert run.code == 5
    message = run.stderr.strip()
    assert len(message.splitlines()) == 1
    assert "needs 2 phrases the recorded voice 'anna' lacks" in message
    assert "fully recorded: 1:15 to 1:" in message
    assert "--fill-with" in message
    assert not out.exists()


def test_fill_with_a_synthetic_voice_says_so(anna: RecordedVoice, tmp_path: Path) -> None:
    out = tmp_path / "two.mp3"
    run = kindvoice(
        "build",
        "one-minute-break",
        "--voice",
        "recorded:anna",
        "--fill-with",
        "pyttsx3",
        "--minutes",
        "2",
        "-o",
        str(out),
    )
    assert run.code == 0, run.stderr
    assert len(decode(out)) == pytest.approx(120 * RATE, abs=0.05 * RATE)
    voice = str(ID3(out)["TXXX:kindvoice voice"])
    assert voice.startswith("recorded voice anna (2 of 12 phrases by pyttsx3 voice")


def test_bad_takes_get_one_clear_line_and_nothing_is_lost(
    anna: RecordedVoice, tmp_path: Path
) -> None:
    folder = tmp_path / "bad"
    text = phrases("one-minute-break", 2)[3]  # one of the two not recorded yet
    assert not anna.has(text)
    stem = phrase_stem(text)
    folder.mkdir()
    t = np.arange(3 * RATE) / RATE
    speechlike = np.sin(2 * np.pi * 220 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t))
    sf.write(folder / f"{stem}.wav", np.clip(speechlike * 2.5, -1, 1), RATE)  # clipped
    before = dict(anna.takes())
    run = kindvoice("voices", "import", "anna", str(folder))
    assert run.code != 0
    assert "too loud" in run.stderr and "move back from the microphone" in run.stderr
    (folder / f"{stem}.wav").unlink()
    sf.write(folder / f"{stem}.flac", np.zeros(2 * RATE), RATE)  # silence
    run = kindvoice("voices", "import", "anna", str(folder))
    assert "holds no speech" in run.stderr
    (folder / f"{stem}.flac").unlink()
    noise = 0.05 * np.random.default_rng(0).standard_normal(180 * RATE)
    sf.write(folder / f"{stem}.wav", noise, RATE, subtype="PCM_16")  # 3 minutes of noise
    run = kindvoice("voices", "import", "anna", str(folder))
    assert "longer than 120 s" in run.stderr
    (folder / f"{stem}.wav").unlink()
    (folder / f"{stem}.mp3").write_text("not audio at all\n")
    run = kindvoice("voices", "import", "anna", str(folder))
    assert "not an audio file ffmpeg can read" in run.stderr
    for line in run.stderr.strip().splitlines()[:1]:
        assert line.startswith("Refused")
    assert anna.takes() == before
    assert not anna.has(text)


def test_a_take_is_replaced_only_when_asked(anna: RecordedVoice, takes: Path) -> None:
    run = kindvoice("voices", "import", "anna", str(takes))
    assert run.code == 0, run.stderr
    assert "already had a take and keep it" in run.stdout
    assert "Kept 0 new takes" in run.stdout


def test_takes_are_listed_and_deleted(library: Path, tmp_path: Path) -> None:
    text = "This is a hard moment."
    record_badly([text], tmp_path / "one")
    assert kindvoice("voices", "import", "ben", str(tmp_path / "one")).code == 0
    listed = kindvoice("voices", "takes", "ben")
    assert phrase_stem(text) in listed.stdout and text in listed.stdout
    refused = kindvoice("voices", "delete", "ben")
    assert refused.code == 2 and "--yes" in refused.stderr
    gone = kindvoice("voices", "delete", "ben", "--take", phrase_stem(text), "--yes")
    assert gone.code == 0, gone.stderr
    assert RecordedVoice("ben").takes() == {}
    assert kindvoice("voices", "delete", "ben", "--yes").code == 0
    assert not (library / "voices" / "ben").exists()
    unknown = kindvoice(
        "build", "one-minute-break", "--voice", "recorded:ben", "-o", str(tmp_path / "x.mp3")
    )
    assert unknown.code == 4 and "Unknown recorded voice 'ben'" in unknown.stderr


def test_the_library_folder_follows_the_environment(library: Path) -> None:
    from kindvoice.settings import default_library

    assert default_library() == library
    assert os.environ["KINDVOICE_LIBRARY"] == str(library)


def test_a_reworded_phrase_is_shown_as_changed(anna: RecordedVoice, tmp_path: Path) -> None:
    template = (ROOT / "meditations" / "one-minute-break.md").read_text(encoding="utf-8")
    reworded = tmp_path / "one-minute-break.md"
    reworded.write_text(
        template.replace("This is a hard moment.", "This is a very hard moment."), "utf-8"
    )
    run = kindvoice("record", str(reworded), "--voice", "anna")
    assert run.code == 0, run.stderr
    assert "9 of 12 phrases recorded" in run.stdout
    assert phrase_stem("This is a very hard moment.") in run.stdout
    assert "(changed since recorded: the take says 'This is a hard moment.')" in run.stdout


def test_a_voice_is_saved_whole_as_a_zip(anna: RecordedVoice, tmp_path: Path) -> None:
    import zipfile

    out = tmp_path / "anna.zip"
    run = kindvoice("voices", "zip", "anna", "-o", str(out))
    assert run.code == 0, run.stderr
    names = zipfile.ZipFile(out).namelist()
    takes = anna.takes()
    assert "anna/voice.json" in names
    for take in takes.values():
        assert f"anna/takes/{take.stem}.flac" in names
        assert any(n.startswith(f"anna/originals/{take.stem}.") for n in names)
    with zipfile.ZipFile(out) as archive:
        first = next(iter(takes.values()))
        data = archive.read(f"anna/takes/{first.stem}.flac")
    assert data == anna.take_path(first.stem).read_bytes()
    again = kindvoice("voices", "zip", "anna", "-o", str(out))
    assert again.code == 2 and "--force" in again.stderr
