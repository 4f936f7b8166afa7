"""The phrase cache: keys, round trips, corruption detection, concurrent writers."""

from __future__ import annotations

import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from kindvoice.speech.cache import PhraseCache

IDENTITY = {"engine": "pyttsx3", "voice": "en-us", "rate": "1.0"}


def _tone(n: int = 4800, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-0.5, 0.5, n).astype(np.float32)


def test_key_is_stable_and_depends_on_identity_and_text() -> None:
    key = PhraseCache.key(IDENTITY, "Breathe in.")
    assert key == PhraseCache.key(dict(reversed(list(IDENTITY.items()))), "Breathe in.")
    assert len(key) == 64
    assert key != PhraseCache.key(IDENTITY, "Breathe out.")
    assert key != PhraseCache.key({**IDENTITY, "rate": "0.9"}, "Breathe in.")


def test_round_trip_info_and_clear(tmp_path: Path) -> None:
    cache = PhraseCache(tmp_path)
    key = cache.key(IDENTITY, "hello")
    assert cache.get(key) is None
    audio = _tone()
    cache.put(key, audio)
    back = cache.get(key)
    assert back is not None and back.dtype == np.float32
    np.testing.assert_array_equal(back, audio)
    assert cache.path(key).parent.name == key[:2]
    entries, size = cache.info()
    assert entries == 1 and size > audio.nbytes
    assert cache.clear() == 1
    assert cache.info() == (0, 0)
    assert cache.get(key) is None


def test_env_var_sets_the_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KINDVOICE_CACHE_DIR", str(tmp_path))
    assert PhraseCache().root == tmp_path / "speech"


@pytest.mark.parametrize("damage", ["truncate", "flip", "empty"])
def test_corrupt_entry_is_a_miss_and_removed(
    tmp_path: Path, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    cache = PhraseCache(tmp_path)
    key = cache.key(IDENTITY, "hello")
    cache.put(key, _tone())
    path = cache.path(key)
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        data = data[: len(data) - 100]
    elif damage == "flip":
        data[-10] ^= 0xFF
    else:
        data = bytearray()
    path.write_bytes(bytes(data))
    with caplog.at_level(logging.DEBUG, logger="kindvoice.speech.cache"):
        assert cache.get(key) is None
    assert not path.exists()
    assert "corrupt" in caplog.text
    assert cache.info() == (0, 0)


def test_bad_key_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        PhraseCache(tmp_path).path("../../etc/passwd")


def _hammer(root: Path, seed: int) -> int:
    """Write and read the same few keys many times; count reads that came back wrong."""
    cache = PhraseCache(root)
    bad = 0
    for i in range(60):
        key = cache.key(IDENTITY, f"phrase {i % 3}")
        cache.put(key, _tone(20_000, seed=i % 3))
        got = cache.get(key)
        if got is not None and not np.array_equal(got, _tone(20_000, seed=i % 3)):
            bad += 1
    return bad


def test_concurrent_writers_never_expose_a_partial_entry(tmp_path: Path) -> None:
    with ProcessPoolExecutor(4, mp_context=multiprocessing.get_context("spawn")) as pool:
        bad = list(pool.map(_hammer, [tmp_path] * 4, range(4)))
    assert bad == [0, 0, 0, 0]
    cache = PhraseCache(tmp_path)
    assert cache.info()[0] == 3
    assert not list(tmp_path.glob("*/.tmp-*"))
