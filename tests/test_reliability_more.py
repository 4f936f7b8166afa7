"""Reliability, round two (issue 16, items 14-16): a bare music path as a background, named
pipes and odd characters in inputs, a breath too short to hear, batch's pace check, a
poisoned phrase cache, temporary folders of killed workers, exact MP3 lengths at every
stereo bitrate, and an empty render."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import mutagen.mp3
import numpy as np
import pytest
import soundfile as sf

from kindvoice.errors import LengthError, TemplateError, UsageError
from kindvoice.export.encode import Writer
from kindvoice.owners import host_tag
from kindvoice.publish.course import CoursePlan, Session
from kindvoice.publish.course_pages import playlist_text
from kindvoice.publish.manifest import read_manifest
from kindvoice.sound.beds import check_background, make_bed
from kindvoice.sound.beds.music import MusicBed
from kindvoice.speech.cache import PhraseCache
from kindvoice.template.parse import load_template

from kv_testing import decode, kindvoice

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


# --- item 15: named pipes, odd characters, short breaths, pace, cache, temp folders ----

SHORT = "---\ntitle: Short\n---\n\nBreathe in, and let it go.\n\n[pause 2s~]\n\nRest here.\n"


@pytest.mark.parametrize(
    ("command", "name"),
    [
        (["validate"], "t.md"),
        (["build", "--engine", "pyttsx3", "-o", "x.mp3"], "t.md"),
        (["batch"], "rows.csv"),
        (["course"], "plan.yaml"),
    ],
)
def test_a_named_pipe_is_refused_not_waited_on(
    tmp_path: Path, command: list[str], name: str
) -> None:
    fifo = tmp_path / name
    os.mkfifo(fifo)
    run = kindvoice(*command[:1], str(fifo), *command[1:], cwd=tmp_path, timeout=30)
    assert run.code in (2, 3), run.stderr
    assert "not a regular file" in run.stderr and run.stderr.count("Error") == 1


def test_a_line_separator_in_a_csv_cell_stays_in_its_row(tmp_path: Path) -> None:
    manifest = tmp_path / "rows.csv"
    manifest.write_text(
        'practice,minutes,title,output\nself-compassion-break,3,"Calm\u2028Now",a.mp3\n',
        encoding="utf-8",
    )
    rows = read_manifest(manifest)
    assert len(rows) == 1 and rows[0]["title"] == "Calm\u2028Now" and rows[0]["output"] == "a.mp3"


def test_line_breaks_in_titles_add_no_playlist_entries() -> None:
    plan = CoursePlan(
        title="Three\nWeeks\u2028of Kindness",
        practices=("x",),
        count=1,
        start_minutes=5,
        end_minutes=5,
    )
    session = Session(
        number=1,
        practice="x",
        minutes=5,
        title="Day 1:\nevil.mp3",
        summary="",
        file_name="01-x.mp3",
    )
    text = playlist_text(plan, [session], [300])
    assert text.splitlines() == [
        "#EXTM3U",
        "#PLAYLIST:Three Weeks of Kindness",
        "#EXTINF:300,kindvoice - Day 1: evil.mp3",
        "01-x.mp3",
    ]


@pytest.mark.parametrize("phase", ["in=0.0001", "out=0.2", "in=61"])
def test_a_breath_too_short_or_long_is_refused_at_its_line(tmp_path: Path, phase: str) -> None:
    template = tmp_path / "b.md"
    template.write_text(f"---\ntitle: B\n---\n\nHello.\n\n[breathe 200 {phase}]\n")
    with pytest.raises(TemplateError, match=r"b\.md:7:1: .*0\.5 to 60 seconds"):
        load_template(template)


def test_batch_checks_the_rate_range_as_build_does(tmp_path: Path) -> None:
    manifest = tmp_path / "rows.csv"
    manifest.write_text("practice,minutes,rate,output\nself-compassion-break,3,9,a.mp3\n")
    run = kindvoice("batch", str(manifest), timeout=60)
    built = kindvoice(
        "build", "self-compassion-break", "--rate", "9", "-o", str(tmp_path / "b.mp3")
    )
    # one rule (the field table): the same range in the row's words and the option's
    assert built.code == 2 and "must be between 0.5 and 2; got 9" in built.stderr, built.stderr
    assert run.code == 8 and "Row 1: 'rate' must be between 0.5 and 2; got 9" in run.stdout
    assert not (tmp_path / "a.mp3").exists() and not (tmp_path / "b.mp3").exists()


def poison(cache: Path) -> int:
    """Rewrite every entry of ``cache`` as NaN (a valid checksum): returns how many."""
    phrases = PhraseCache(cache / "speech")
    keys = [p.stem for p in cache.rglob("*.kvp") if not p.name.startswith(".")]
    for key in keys:
        audio = phrases.get(key)
        assert audio is not None
        phrases.put(key, np.full_like(audio, np.nan))
    return len(keys)


def test_dead_workers_folders_go_and_a_nan_cache_entry_is_spoken_again(tmp_path: Path) -> None:
    """A real render on a cold cache (so speech workers start) with TMPDIR of its own: the
    folder of a killed worker (a dead pid) is removed, the render leaves none; then every
    cache entry is poisoned with NaN and the next render speaks the phrases again."""
    (tmp_path / "t.md").write_text(SHORT)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    left = tmp_path / "tmp" / f"kindvoice-espeak-{dead.pid}@{host_tag()}.x1y2z3"
    left.mkdir(parents=True)
    env = {
        **os.environ,
        "TMPDIR": str(tmp_path / "tmp"),
        "KINDVOICE_CACHE_DIR": str(tmp_path / "c"),
    }
    args = ("build", "t.md", "--engine", "pyttsx3", "--minutes", "0.25", "--no-sidecars")
    run = kindvoice(*args, "-o", "a.wav", cwd=tmp_path, env=env, timeout=120)
    assert run.code == 0, run.stderr
    assert list((tmp_path / "tmp").iterdir()) == []
    assert poison(tmp_path / "c") >= 2
    run = kindvoice(*args, "-o", "b.wav", cwd=tmp_path, env=env, timeout=120)
    assert run.code == 0, run.stderr
    audio = decode(tmp_path / "b.wav")
    assert np.isfinite(audio).all() and np.abs(audio).max() < 0.95
    assert np.abs(audio).max() > 0.1  # the voice is there
    entries = list((tmp_path / "c").rglob("*.kvp"))
    assert entries and all(
        np.isfinite(PhraseCache(tmp_path / "c" / "speech").get(p.stem)).all() for p in entries
    )


def test_a_nan_cache_entry_is_a_miss_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    phrases = PhraseCache(tmp_path)
    key = "ab" * 32
    phrases.put(key, np.array([0.1, np.inf, 0.2], dtype=np.float32))
    assert phrases.get(key) is None
    assert "NaN or inf" in caplog.text
    assert not phrases.path(key).exists()
