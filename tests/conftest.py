"""Fixtures for every test: an isolated phrase cache and the fast default engine. The
shared helpers (the CLI, the instruments) are in kv_testing.py, a module with a name of
its own (tests/web has a conftest.py too)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session", autouse=True)
def isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One phrase cache for the whole run, never the user's own. Under pytest-xdist the
    workers share it (the cache's writes are atomic and the first writer wins), so a
    phrase is spoken once per run, not once per worker."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    root = shared / "kindvoice-cache"
    root.mkdir(exist_ok=True)
    old = os.environ.get("KINDVOICE_CACHE_DIR")
    os.environ["KINDVOICE_CACHE_DIR"] = str(root)
    yield root
    if old is None:
        os.environ.pop("KINDVOICE_CACHE_DIR", None)
    else:
        os.environ["KINDVOICE_CACHE_DIR"] = old


@pytest.fixture(scope="session", autouse=True)
def fast_default_engine() -> Iterator[None]:
    """espeak-ng speaks whenever a test names no engine: the mixing, export and publishing
    tests need a voice, not a natural one, and Kokoro costs about a CPU-second per second
    of speech. The tests of the default (Kokoro) drop the variable themselves."""
    old = os.environ.get("KINDVOICE_ENGINE")
    os.environ["KINDVOICE_ENGINE"] = "pyttsx3"
    yield
    if old is None:
        os.environ.pop("KINDVOICE_ENGINE", None)
    else:
        os.environ["KINDVOICE_ENGINE"] = old


@pytest.fixture
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A phrase cache of this test's own, empty at the start: every phrase a command speaks
    lands there first, so ``kv_testing.spoken_phrases`` tells whether any speech happened."""
    root = tmp_path / "own-cache"
    monkeypatch.setenv("KINDVOICE_CACHE_DIR", str(root))
    return root
