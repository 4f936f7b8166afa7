"""End to end: the real CLI, real engines, real MP3s, read back with independent tools."""

from __future__ import annotations

from pathlib import Path

import mutagen.mp3
import pytest
from mutagen.id3 import ID3

from kindvoice.speech.cache import PhraseCache
from kindvoice.template.gating import select
from kindvoice.template.library import resolve_practice
from kindvoice.template.parse import load_template

from kv_testing import decode, ebur128, kindvoice

pytestmark = pytest.mark.slow

SECTIONS = len(load_template(resolve_practice("self-compassion-break")).sections)


def check_length(path: Path, minutes: float) -> None:
    """Decoded by ffmpeg (the Info frame tells it the encoder delay and padding) and read
    by mutagen: both must give the requested length to well within 50 ms."""
    expected = minutes * 60.0
    decoded = len(decode(path)) / 48_000
    assert decoded == pytest.approx(expected, abs=0.05)
    assert mutagen.mp3.MP3(path).info.length == pytest.approx(expected, abs=0.05)


def check_tags(path: Path) -> None:
    tags = ID3(path)
    assert tags.version[:2] == (2, 3)
    assert str(tags["TIT2"]) == "The Self-Compassion Break"
    assert str(tags["TCON"]) == "Meditation"
    lyrics = tags.getall("USLT")[0].text
    assert "This is a moment of suffering." in lyrics
    assert "May I be kind to myself." in lyrics
    chapters = sorted(tags.getall("CHAP"), key=lambda c: c.start_time)
    assert len(chapters) == SECTIONS
    assert [str(c.sub_frames["TIT2"]) for c in chapters][:2] == ["Arriving", "A difficulty"]
    assert chapters[0].start_time == 0
    assert chapters[-1].end_time == pytest.approx(mutagen.mp3.MP3(path).info.length * 1000, abs=2)
    assert len(tags.getall("CTOC")) == 1


@pytest.mark.parametrize("minutes", [3, 12])
def test_pyttsx3_builds_exact_lengths(tmp_path: Path, minutes: int) -> None:
    out = tmp_path / f"scb-{minutes}.mp3"
    run = kindvoice("build", "self-compassion-break", "--minutes", str(minutes), "-o", str(out))
    assert run.code == 0, run.stderr
    assert str(out) in run.stdout
    check_length(out, minutes)
    check_tags(out)


@pytest.mark.piper
@pytest.mark.parametrize("minutes", [3, 7])
def test_piper_builds_exact_lengths(tmp_path: Path, minutes: int) -> None:
    out = tmp_path / f"scb-joe-{minutes}.mp3"
    run = kindvoice(
        "build",
        "self-compassion-break",
        "--engine",
        "piper",
        "--minutes",
        str(minutes),
        "-o",
        str(out),
    )
    assert run.code == 0, run.stderr
    check_length(out, minutes)
    check_tags(out)


def test_impossible_length_names_the_range_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "short.mp3"
    run = kindvoice("build", "self-compassion-break", "--minutes", "2", "-o", str(out))
    assert run.code == 5
    assert '"self-compassion-break" runs ' in run.stderr
    assert "2:00 asked" in run.stderr
    assert "Traceback" not in run.stderr
    assert list(tmp_path.iterdir()) == []


def test_other_lengths_reuse_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a cache of its own: the run's shared cache grows under other tests at the same time
    monkeypatch.setenv("KINDVOICE_CACHE_DIR", str(tmp_path / "cache"))
    cache = PhraseCache()
    first = kindvoice(
        "build",
        "self-compassion-break",
        "--minutes",
        "7",
        "--background",
        "brown",
        "-o",
        str(tmp_path / "a.mp3"),
    )
    assert first.code == 0, first.stderr
    before = cache.info()
    assert before[0] > 0
    second = kindvoice(
        "build", "self-compassion-break", "--minutes", "12", "-o", str(tmp_path / "b.mp3")
    )
    assert second.code == 0, second.stderr
    # only the lines the longer session adds (blocks gated in at 12 min) were spoken anew
    script = load_template(resolve_practice("self-compassion-break"))

    def lines(minutes: int) -> set[str]:
        return set(select(script, minutes * 60_000).spoken_texts().values())

    added = lines(12) - lines(7)
    assert added  # the longer session does add lines, so the count below means something
    assert cache.info()[0] == before[0] + len(added)


def test_voice_alone_meets_the_loudness_targets(tmp_path: Path) -> None:
    out = tmp_path / "voice.mp3"
    run = kindvoice(
        "build", "self-compassion-break", "--minutes", "4", "--background", "none", "-o", str(out)
    )
    assert run.code == 0, run.stderr
    meter = ebur128(out)
    assert meter.integrated_lufs == pytest.approx(-16.0, abs=1.0)
    assert meter.true_peak_dbtp <= -1.0


def test_mono_meets_the_mono_target(tmp_path: Path) -> None:
    out = tmp_path / "mono.mp3"
    run = kindvoice(
        "build",
        "self-compassion-break",
        "--minutes",
        "3",
        "--background",
        "none",
        "--mono",
        "-o",
        str(out),
    )
    assert run.code == 0, run.stderr
    info = mutagen.mp3.MP3(out).info
    assert info.channels == 1
    assert info.bitrate == 64_000
    meter = ebur128(out)
    assert meter.integrated_lufs == pytest.approx(-19.0, abs=1.0)
    assert meter.true_peak_dbtp <= -1.0


@pytest.mark.parametrize("suffix", [".wav", ".flac"])
def test_lossless_formats_are_sample_exact(tmp_path: Path, suffix: str) -> None:
    import soundfile

    out = tmp_path / f"scb{suffix}"
    run = kindvoice("build", "self-compassion-break", "--minutes", "3", "-o", str(out))
    assert run.code == 0, run.stderr
    info = soundfile.info(str(out))
    assert info.frames == 3 * 60 * 48_000
    assert info.channels == 2
    assert len(decode(out)) == 3 * 60 * 48_000


def test_unknown_engine_lists_the_choices(tmp_path: Path) -> None:
    run = kindvoice(
        "build", "self-compassion-break", "--engine", "pipr", "-o", str(tmp_path / "x.mp3")
    )
    assert run.code == 4
    assert "Unknown engine 'pipr'" in run.stderr
    assert "piper" in run.stderr and "pyttsx3" in run.stderr
    assert "Traceback" not in run.stderr
    assert list(tmp_path.iterdir()) == []


def test_unknown_practice_suggests_the_closest(tmp_path: Path) -> None:
    run = kindvoice("build", "self-compasion-break", "-o", str(tmp_path / "x.mp3"))
    assert run.code == 4
    assert "self-compassion-break" in run.stderr
    assert list(tmp_path.iterdir()) == []


def test_existing_output_survives_a_failed_render(tmp_path: Path) -> None:
    out = tmp_path / "keep.mp3"
    out.write_bytes(b"precious")
    run = kindvoice("build", "self-compassion-break", "--minutes", "1", "--force", "-o", str(out))
    assert run.code == 5
    assert out.read_bytes() == b"precious"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.mp3"]
