"""Parallel synthesis: cache first, misses in spawn workers, errors carried back."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

from kindvoice.errors import EngineError
from kindvoice.speech import synth
from kindvoice.speech.base import EngineSpec, engine_identity
from kindvoice.speech.cache import PhraseCache
from kindvoice.speech.synth import synthesize_phrases

from kv_testing import kindvoice

SPEC = EngineSpec("pyttsx3")
TEXTS = [
    "This is a moment of suffering.",
    "Everyone struggles sometimes.",
    "May I be kind to myself.",
    "May I give myself the compassion I need.",
    "Breathe in, and let the breath go.",
    "You are not alone.",
]


def _no_pool(*args: object, **kwargs: object) -> None:
    raise AssertionError("a warm cache must not start workers")


def test_warm_cache_starts_no_worker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = PhraseCache(tmp_path)
    cold = synthesize_phrases(SPEC, TEXTS, cache, workers=2)
    assert list(cold) == TEXTS
    assert cache.info()[0] == len(TEXTS)

    monkeypatch.setattr(synth, "ProcessPoolExecutor", _no_pool)
    warm = synthesize_phrases(SPEC, TEXTS, cache, workers=2)
    assert cache.info()[0] == len(TEXTS)
    for text in TEXTS:
        np.testing.assert_array_equal(warm[text], cold[text])
    # Neither engine library ever entered the main process.
    assert "pyttsx3" not in sys.modules and "piper" not in sys.modules


def test_workers_fill_the_cache_under_the_main_process_key(tmp_path: Path) -> None:
    cache = PhraseCache(tmp_path)
    out = synthesize_phrases(SPEC, TEXTS[:2], cache)
    identity = engine_identity(SPEC)
    for text in TEXTS[:2]:
        stored = cache.get(cache.key(identity, text))
        assert stored is not None
        np.testing.assert_array_equal(stored, out[text])


def _envelope(audio: np.ndarray, n: int) -> np.ndarray:
    frames = audio[: n // 960 * 960].reshape(-1, 960)  # 20 ms frames
    return np.sqrt(np.mean(frames**2, axis=1))


def test_two_workers_match_one() -> None:
    # espeak-ng carries a little state from one utterance to the next, so only a
    # worker's first phrase (the longest: phrases go out longest first) is bit-identical;
    # the rest match in length and envelope.
    one = synthesize_phrases(SPEC, TEXTS, None, workers=1)
    two = synthesize_phrases(SPEC, TEXTS, None, workers=2)
    assert list(one) == list(two) == TEXTS
    first = max(TEXTS, key=len)
    np.testing.assert_array_equal(one[first], two[first])
    for text in TEXTS:
        a, b = one[text], two[text]
        assert abs(len(a) - len(b)) < 0.03 * len(a)  # seen: 1.4 % on a loaded machine
        n = min(len(a), len(b))
        assert np.corrcoef(_envelope(a, n), _envelope(b, n))[0, 1] > 0.98


def test_no_cache_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KINDVOICE_CACHE_DIR", str(tmp_path))
    out = synthesize_phrases(SPEC, TEXTS[:1], None)
    assert len(out[TEXTS[0]]) > 0
    assert list(tmp_path.iterdir()) == []


def test_corrupt_entry_is_synthesized_again(tmp_path: Path) -> None:
    cache = PhraseCache(tmp_path)
    first = synthesize_phrases(SPEC, TEXTS[:1], cache)[TEXTS[0]]
    path = cache.path(cache.key(engine_identity(SPEC), TEXTS[0]))
    path.write_bytes(path.read_bytes()[:-64])
    again = synthesize_phrases(SPEC, TEXTS[:1], cache)[TEXTS[0]]
    np.testing.assert_array_equal(again, first)  # a fresh worker's first phrase
    assert cache.get(cache.key(engine_identity(SPEC), TEXTS[0])) is not None


def test_duplicates_and_progress() -> None:
    seen: list[tuple[int, int]] = []
    out = synthesize_phrases(
        SPEC, [TEXTS[0], TEXTS[1], TEXTS[0]], None, progress=lambda d, t: seen.append((d, t))
    )
    assert list(out) == TEXTS[:2]
    assert seen[0] == (0, 2) and seen[-1] == (2, 2)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_a_failing_phrase_is_named(tmp_path: Path) -> None:
    with pytest.raises(EngineError, match=r"no audio for the phrase '\.\.\.'") as info:
        synthesize_phrases(SPEC, [TEXTS[0], "...", TEXTS[1]], PhraseCache(tmp_path), workers=2)
    assert info.value.exit_code == 6


def test_a_silent_worker_counts_as_hung(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # No worker can start in a millisecond, so the main process sees no progress.
    monkeypatch.setattr(synth, "PHRASE_TIMEOUT_S", 0.001)
    with pytest.raises(EngineError, match="stopped responding"):
        synthesize_phrases(SPEC, TEXTS[:2], PhraseCache(tmp_path), workers=1)


def _children(pid: int) -> list[int]:
    """The speech worker processes of ``pid`` (from /proc; not the resource tracker)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) != pid:
                continue
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                command = cmdline.read()
            if b"spawn_main" in command and b"resource_tracker" not in command:
                found.append(int(entry))
    return found


@pytest.mark.piper
def test_a_killed_worker_is_replaced_and_the_phrases_still_come(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import signal
    import threading
    import time

    texts = [f"Breathe in slowly, and let number {i} settle in the body." for i in range(24)]
    cache = PhraseCache(tmp_path / "cache")
    result: dict[str, object] = {}

    def run() -> None:
        try:
            result["audio"] = synthesize_phrases(EngineSpec("piper"), texts, cache, workers=1)
        except Exception as exc:  # pragma: no cover - reported by the assertion below
            result["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.monotonic() + 240  # a loaded machine starts Piper slowly
    killed = False
    while time.monotonic() < deadline and not killed:
        for child in _children(os.getpid()):
            # wait until the worker has spoken something, so the kill lands mid-work
            if cache.info()[0] >= 2:
                os.kill(child, signal.SIGKILL)
                killed = True
                break
        time.sleep(0.05)
    thread.join(timeout=300)
    assert killed
    assert any("crashed" in r.getMessage() for r in caplog.records)
    assert "error" not in result, result.get("error")
    audio = result["audio"]
    assert isinstance(audio, dict) and set(audio) == set(texts)


def test_only_kindvoice_writes_to_standard_output(tmp_path: Path) -> None:
    """pyttsx3's driver prints "Audio saved to ..." for every phrase it speaks; a speech
    worker's standard output goes nowhere, so a build prints its one summary line."""
    out = tmp_path / "x.mp3"
    template = tmp_path / "t.md"
    template.write_text(
        "---\ntitle: T\nminutes: 0.5\n---\nOne.\n\n[pause 1s~]\n\nTwo.\n", encoding="utf-8"
    )
    run = kindvoice("build", str(template), "--engine", "pyttsx3", "--no-cache", "-o", str(out))
    assert run.code == 0, run.stderr
    assert run.stdout.splitlines() == [run.stdout.strip()]
    assert run.stdout.startswith("0:30 (30.000 s)") and "Audio saved" not in run.stdout
