"""The MP3 encoder that splits the stream into shares encoded on several threads: the
same bytes whatever the number of threads, joins that decode as cleanly as the rest,
the exact length, and the always-right fallback (two shares encoded as one).

Real lameenc, real files, decoded by ffmpeg (imageio-ffmpeg) and read by mutagen."""

from __future__ import annotations

import threading
from pathlib import Path

import mutagen.mp3
import numpy as np
import pytest

from kindvoice.export import mp3
from kindvoice.export.mp3 import Mp3Stream

from kv_testing import decode

RATE = 48_000
SHARE = mp3._SHARE_FRAMES * mp3._SAMPLES_PER_FRAME


def music(seconds: float, seed: int = 1) -> np.ndarray:
    """Stereo test audio with what a session has: a noise bed, tones that come and go,
    a loud burst across the first join (the encoder's reservoir drains there)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    t = np.arange(n) / RATE
    bed = np.cumsum(rng.standard_normal((n, 2)), axis=0)
    bed -= np.linspace(bed[0], bed[-1], n)
    bed *= 0.05 / np.abs(bed).max()
    tone = 0.2 * np.sin(2 * np.pi * 220 * t) * (np.sin(2 * np.pi * 0.1 * t) > 0)
    burst = np.zeros(n)
    if n > SHARE + RATE:
        burst[SHARE - RATE : SHARE + RATE] = 0.4 * rng.standard_normal(2 * RATE)
    out = bed + (tone + burst)[:, None]
    return np.clip(out, -0.9, 0.9).astype(np.float32)


def encode(
    path: Path, audio: np.ndarray, workers: int | None = None, block: int = RATE, kbps: int = 128
) -> Path:
    with open(path, "wb") as f:
        stream = Mp3Stream(f, audio.shape[1], kbps, 7, workers=workers)
        for i in range(0, len(audio), block):
            stream.write(audio[i : i + block])
        stream.finish(len(audio))
    return path


def error_db(decoded: np.ndarray, source: np.ndarray, where: slice) -> float:
    diff = decoded[where].astype(np.float64) - source[where]
    return float(10 * np.log10(np.mean(diff**2)))


AUDIO_SECONDS = 100.0  # four shares, three joins


@pytest.fixture(scope="module")
def source() -> np.ndarray:
    return music(AUDIO_SECONDS)


@pytest.fixture(scope="module")
def split(tmp_path_factory: pytest.TempPathFactory, source: np.ndarray) -> Path:
    return encode(tmp_path_factory.mktemp("mp3") / "split.mp3", source, workers=2)


@pytest.fixture(scope="module")
def whole(tmp_path_factory: pytest.TempPathFactory, source: np.ndarray, split: Path) -> Path:
    """The same audio by one encoder from start to end (one share longer than it)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(mp3, "_SHARE_FRAMES", 10**9)
        return encode(tmp_path_factory.mktemp("mp3") / "whole.mp3", source)


def test_the_same_bytes_with_any_number_of_threads_and_blocks(
    tmp_path: Path, source: np.ndarray, split: Path
) -> None:
    one = encode(tmp_path / "one.mp3", source, workers=1)
    four = encode(tmp_path / "four.mp3", source, workers=4, block=7_777)
    assert one.read_bytes() == split.read_bytes() == four.read_bytes()


def test_it_really_splits(split: Path, whole: Path) -> None:
    assert split.read_bytes() != whole.read_bytes()


def test_exact_length_by_ffmpeg_and_mutagen(split: Path, source: np.ndarray) -> None:
    assert len(decode(split)) == len(source)
    assert mutagen.mp3.MP3(split).info.length == pytest.approx(AUDIO_SECONDS, abs=1e-3)


def test_joins_decode_as_cleanly_as_one_encoder(
    split: Path, whole: Path, source: np.ndarray
) -> None:
    a, b = decode(split), decode(whole)
    assert len(a) == len(b) == len(source)
    for k in range(1, int(AUDIO_SECONDS * RATE) // SHARE + 1):
        join = k * SHARE
        # from just before the boundary to past the last frame the join may fall on
        near = slice(join - 2_400, join + (mp3._SPLICE_FRAMES + 2) * mp3._SAMPLES_PER_FRAME)
        assert error_db(a, source, near) <= error_db(b, source, near) + 1.0, k
        worst_split = np.abs(a[near] - source[near]).max()
        worst_whole = np.abs(b[near] - source[near]).max()
        assert worst_split <= 1.5 * worst_whole + 1e-3, k
    everywhere = slice(0, len(source))
    assert error_db(a, source, everywhere) <= error_db(b, source, everywhere) + 0.5


def test_without_a_clean_join_two_shares_become_one_encode(
    tmp_path: Path, source: np.ndarray, whole: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fallback: with every join refused, each share is encoded again together with
    the one before, which ends as one encoder over the whole stream: the same bytes."""
    monkeypatch.setattr(mp3, "_join", lambda *args: None)
    merged = encode(tmp_path / "merged.mp3", source, workers=2)
    assert merged.read_bytes() == whole.read_bytes()


def test_a_short_stream_is_one_plain_encode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    audio = music(12.0)
    short = encode(tmp_path / "short.mp3", audio, workers=2)
    monkeypatch.setattr(mp3, "_SHARE_FRAMES", 10**9)
    assert short.read_bytes() == encode(tmp_path / "plain.mp3", audio).read_bytes()
    assert len(decode(short)) == len(audio)


def test_mono_64k_splits_and_keeps_its_length(tmp_path: Path) -> None:
    audio = music(70.0)[:, :1]
    path = tmp_path / "mono.mp3"
    with open(path, "wb") as f:
        stream = Mp3Stream(f, 1, 64, 7, workers=2)
        for i in range(0, len(audio), RATE):
            stream.write(audio[i : i + RATE])
        stream.finish(len(audio))
    assert len(decode(path, channels=1)) == len(audio)


def test_abort_stops_the_encoder_threads(tmp_path: Path) -> None:
    audio = music(70.0)
    before = threading.active_count()
    with open(tmp_path / "dropped.mp3", "wb") as f:
        stream = Mp3Stream(f, 2, 128, 7, workers=2)
        for i in range(0, len(audio), RATE):
            stream.write(audio[i : i + RATE])
        stream.abort()
        stream.abort()
    for thread in threading.enumerate():
        if thread.name.startswith("mp3"):
            thread.join(timeout=10)
    assert not [t for t in threading.enumerate() if t.name.startswith("mp3")]
    assert threading.active_count() <= before


@pytest.mark.parametrize("bitrate", [64, 96])
def test_low_stereo_bitrates_stay_48_khz_and_exact(tmp_path: Path, bitrate: int) -> None:
    """LAME would resample stereo at 64 (to 24 kHz) and 96 kbps (to 32 kHz), a layout with
    no Info frame, 48 ms long in every player; the output rate is held at 48 kHz, so the
    stream is split like any other and ffmpeg and mutagen read its exact length."""
    audio = music(40.0)
    path = encode(tmp_path / f"s{bitrate}.mp3", audio, workers=2, kbps=bitrate)
    assert path.read_bytes()[:2] == b"\xff\xfb"  # MPEG-1 (the Info frame's header)
    assert len(decode(path)) == len(audio)
    assert mutagen.mp3.MP3(path).info.length == pytest.approx(40.0, abs=1e-6)
