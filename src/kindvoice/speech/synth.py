"""Parallel phrase synthesis in worker processes, in front of the phrase cache.

pyttsx3 (espeakng-loader's libespeak-ng) and Piper (its own espeak bridge) crash when
they share a process, so no engine ever runs in the main process: engines are built in
"spawn" worker processes, one per worker, and the main process only reads the cache
(``engine_identity`` needs neither library), so a warm-cache render starts no worker.

Errors cross the process boundary as plain data (``_Failure``) and are raised again in
the main process as the same ``KindvoiceError`` class with the same message.
"""

from __future__ import annotations

import concurrent.futures
import ctypes
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kindvoice import errors
from kindvoice.audio import Mono
from kindvoice.errors import EngineError, KindvoiceError, SpeechStopped
from kindvoice.speech import sentences
from kindvoice.speech.base import (
    Engine,
    EngineSpec,
    VoiceInfo,
    engine_class,
    engine_identity,
    quoted,
    read_in_process,
)
from kindvoice.speech.cache import PhraseCache

log = logging.getLogger(__name__)

# No phrase takes anywhere near this long (a sentence is ~10 ms with espeak, ~0.1 s with
# Piper); a worker silent for this long has hung. Slow engines scale it (Engine.slowness).
PHRASE_TIMEOUT_S = 120.0


def phrase_timeout_s(engine: str) -> float:
    """How long a worker of ``engine`` may go without finishing a phrase before it counts
    as hung."""
    return PHRASE_TIMEOUT_S * engine_class(engine).slowness


Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class _Failure:
    """A KindvoiceError as picklable data (click exceptions do not unpickle)."""

    cls_name: str
    message: str
    state: dict[str, Any] = field(default_factory=dict)


def _portable(exc: KindvoiceError) -> _Failure:
    state = {k: v for k, v in vars(exc).items() if isinstance(v, (str, int, float, type(None)))}
    return _Failure(type(exc).__name__, exc.message, state)


def _restore(failure: _Failure) -> KindvoiceError:
    cls = getattr(errors, failure.cls_name, EngineError)
    if not (isinstance(cls, type) and issubclass(cls, KindvoiceError)):
        cls = EngineError
    err = cls.__new__(cls)
    KindvoiceError.__init__(err, failure.message)
    err.__dict__.update(failure.state)
    return err


# --- worker side: one engine per worker process --------------------------------------

PR_SET_PDEATHSIG = 1  # prctl option (linux/prctl.h): a signal for when the parent dies
WATCHDOG_S = 0.5  # how often a worker looks whether its parent is still there


def die_with_parent() -> None:
    """End this (worker) process when the process that started it ends, however it ends
    (SIGTERM, SIGKILL, a crash): Linux's PR_SET_PDEATHSIG sends SIGKILL at once, and a
    watchdog thread that sees the parent change (every system, and the case where the
    parent died before prctl) ends the process too. Without this, killing kindvoice
    alone left its speech workers and the resource tracker running for ever."""
    parent = multiprocessing.parent_process()
    parent_pid = parent.pid if parent is not None and parent.pid else os.getppid()
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # no libc symbol: the watchdog still works
            log.debug("PR_SET_PDEATHSIG is not available")
    if os.getppid() != parent_pid:
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(WATCHDOG_S)
        os._exit(1)

    threading.Thread(target=watch, name="kindvoice-parent-watchdog", daemon=True).start()


_engine: Engine | None = None
_engine_failure: _Failure | None = None
_cache: PhraseCache | None = None


def _init_worker(spec: EngineSpec | None, cache_root: Path | None, log_level: int) -> None:
    global _engine, _engine_failure, _cache
    die_with_parent()
    logging.basicConfig(level=log_level, format="%(processName)s %(name)s: %(message)s")
    # a worker has nothing to say on the user's standard output (pyttsx3's espeak driver
    # prints "Audio saved to ..." for every phrase): only the command's own lines go there
    sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - for the process's life
    _cache = PhraseCache(cache_root) if cache_root is not None else None
    if spec is None:
        return
    try:
        engine = engine_class(spec.engine)
        engine.setup_worker()  # e.g. one thread per worker
        _engine = engine(spec)
    except KindvoiceError as exc:
        _engine_failure = _portable(exc)
    except Exception as exc:  # a library's own error: report it, don't break the pool
        _engine_failure = _portable(EngineError(f"Cannot start the {spec.engine} engine: {exc}"))


def _keep(key: str | None, audio: Mono) -> Mono:
    """``audio`` stored under ``key`` (first writer wins) and as stored."""
    if _cache is not None and key is not None:
        try:
            # the cache is the one source: play what it holds (another render's, if first)
            return _cache.put_first(key, audio)
        except OSError as exc:  # a full or read-only cache must not stop the render
            log.warning("Cannot write the phrase cache %s: %s", _cache.root, exc)
    return audio


def _speak(
    text: str, key: str | None, level_st: float | None = None, plain_key: str | None = None
) -> Mono | _Failure:
    """``text`` spoken (and kept under ``key``); with ``level_st``, spoken plain (or read
    plain from ``plain_key``, kept there) and shaped to that level by the engine."""
    if _engine_failure is not None or _engine is None:
        return _engine_failure or _Failure("EngineError", "The speech worker has no engine.")
    try:
        if level_st is None:
            return _keep(key, sentences.speak(_engine, text))  # a long phrase: a few calls
        plain = _cache.get(plain_key) if _cache is not None and plain_key is not None else None
        if plain is None:
            plain = _keep(plain_key, sentences.speak(_engine, text))
        return _keep(key, _engine.shape(plain, level_st))
    except KindvoiceError as exc:
        return _portable(exc)
    except Exception as exc:
        return _portable(
            EngineError(f"The {_engine.name} engine failed on the phrase {quoted(text)}: {exc}")
        )


def _speak_length(
    text: str, key: str | None, level_st: float | None = None, plain_key: str | None = None
) -> int | _Failure:
    """``_speak``, answering only the phrase's length: its samples stay in the worker (and
    the cache), so measuring a long script never gathers its speech in the main process."""
    audio = _speak(text, key, level_st, plain_key)
    return audio if isinstance(audio, _Failure) else len(audio)


def _check() -> _Failure | None:
    return _engine_failure


def _voices(engine_name: str) -> list[VoiceInfo] | _Failure:
    try:
        return engine_class(engine_name).voices()
    except KindvoiceError as exc:
        return _portable(exc)
    except Exception as exc:
        return _portable(EngineError(f"Cannot list the {engine_name} voices: {exc}"))


# --- main side -----------------------------------------------------------------------


@contextmanager
def _pool(
    workers: int, spec: EngineSpec | None = None, cache: PhraseCache | None = None
) -> Iterator[ProcessPoolExecutor]:
    """A spawn pool whose workers build ``spec``'s engine (if any); killed on any error
    or Ctrl-C."""
    level = logging.getLogger("kindvoice").getEffectiveLevel()
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_init_worker,
        initargs=(spec, cache.root if cache else None, level),
    )
    try:
        yield pool
    except BaseException:
        # A hung or crashed worker must not keep the interpreter from exiting.
        # Stop the workers first, then wait for the pool's manager thread to see them go:
        # leaving that thread behind made the interpreter's exit hook write to a closed
        # pipe ("Exception ignored ... Bad file descriptor" on stderr).
        processes = list((getattr(pool, "_processes", None) or {}).values())
        for process in processes:
            process.terminate()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    else:
        pool.shutdown(wait=True)


class _WorkerCrash(EngineError):
    """A worker process died (a crash in the engine's native code, or killed)."""


#: how often a speech run with a ``stop`` event looks at it while phrases are spoken, in s
STOP_POLL_S = 0.25
#: the stop flag of every speech run in this context that was given none of its own: a web
#: job sets its cancel flag here, so a render it runs stops speaking when nobody waits
AMBIENT_STOP: ContextVar[threading.Event | None] = ContextVar("kindvoice_stop", default=None)


def _result(
    future: concurrent.futures.Future[Any], what: str, timeout_s: float | None = None
) -> Any:
    try:
        out = future.result(timeout=PHRASE_TIMEOUT_S if timeout_s is None else timeout_s)
    except concurrent.futures.TimeoutError:
        raise EngineError(f"The speech worker hung while {what}.") from None
    except BrokenProcessPool:
        raise _WorkerCrash(f"The speech worker crashed while {what}.") from None
    if isinstance(out, _Failure):
        raise _restore(out)
    return out


def check_engine(spec: EngineSpec) -> None:
    """Build the engine in a worker so a missing package, unknown voice or corrupt model
    fails before any work (``EngineError``/``UnknownNameError``)."""
    engine_class(spec.engine)  # an unknown engine name needs no worker
    with _pool(1, spec) as pool:
        _result(
            pool.submit(_check),
            f"starting the {spec.engine} engine",
            phrase_timeout_s(spec.engine),
        )


def list_voices(engine_name: str) -> list[VoiceInfo]:
    """The voices ``engine_name`` offers on this machine (asked in a worker)."""
    engine_class(engine_name)
    with _pool(1) as pool:
        voices: list[VoiceInfo] = _result(
            pool.submit(_voices, engine_name), f"listing the {engine_name} voices"
        )
    return voices


def _speak_all(
    spec: EngineSpec,
    texts: Sequence[str],
    keys: dict[str, str],
    cache: PhraseCache | None,
    workers: int | None,
    found: dict[str, Mono],
    unique: Sequence[str],
    progress: Progress | None,
    stop: threading.Event | None = None,
    shaped: Mapping[str, tuple[float, str | None]] | None = None,
) -> None:
    """Speak ``texts`` in a pool of workers, filling ``found`` as phrases finish (a text in
    ``shaped`` at its level, from its plain entry's key); raises ``SpeechStopped`` (the
    workers are stopped) once ``stop`` is set."""
    shaped = shaped or {}
    n_workers = max(1, min(workers or os.cpu_count() or 1, len(texts)))
    log.debug("starting %d %s workers", n_workers, spec.engine)
    # longest first, so the last phrases to finish are short and no worker waits alone
    ordered = sorted(texts, key=len, reverse=True)
    with _pool(n_workers, spec, cache) as pool:
        speak = _speak_length if isinstance(found, _LengthsOnly) else _speak
        futures = {
            pool.submit(speak, text, keys.get(text), *shaped.get(text, (None, None))): text
            for text in ordered
        }
        pending = set(futures)
        timeout_s = phrase_timeout_s(spec.engine)
        last_done = time.monotonic()
        while pending:
            slice_s = timeout_s if stop is None else min(STOP_POLL_S, timeout_s)
            done, pending = wait(pending, timeout=slice_s, return_when=FIRST_COMPLETED)
            if stop is not None and stop.is_set():
                raise SpeechStopped("The speech was stopped: nobody waits for it any more.")
            if done:
                last_done = time.monotonic()
            elif time.monotonic() - last_done >= timeout_s:
                stuck = futures[next(iter(pending))]
                raise EngineError(
                    f"The {spec.engine} engine stopped responding: no phrase finished in "
                    f"{timeout_s:.0f} s (waiting on {quoted(stuck)})."
                )
            for future in done:
                text = futures.pop(future)  # the future holds its audio: let it go
                found[text] = _result(future, f"speaking the phrase {quoted(text)}")
                if progress is not None:
                    progress(len(found), len(unique))


class _LengthsOnly(dict[str, Mono]):
    """Phrases kept as their lengths: each audio stored as zero-stride zeros of its length
    (``len`` and slicing work; no memory per sample)."""

    def __setitem__(self, text: str, audio: Mono | int) -> None:
        import numpy as np

        n = audio if isinstance(audio, int) else len(audio)  # workers answer lengths only
        super().__setitem__(text, np.broadcast_to(np.zeros(1, np.float32), (n,)))


def synthesize_phrases(
    spec: EngineSpec,
    texts: Sequence[str],
    cache: PhraseCache | None,
    workers: int | None = None,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
    lengths_only: bool = False,
    levels: Mapping[str, float] | None = None,
) -> dict[str, Mono]:
    """Every distinct text -> its audio (float32 mono, house rate, trimmed and ramped).
    ``lengths_only``: placeholders of each audio's length, holding no samples (a long
    script's check needs lengths, not gigabytes of speech). ``levels``: text -> its pitch
    level (semitones) for an engine that ``shapes``; a level never changes a length, so
    ``lengths_only`` speaks plain phrases, and a shaped one is made from the plain one.

    Cache hits are read here; the misses are spoken by ``workers`` processes (None: one
    per core, at most one per miss), which store them in the cache (None: no cache).
    ``progress(done, total)`` counts distinct texts. Engine failures raise ``EngineError``
    naming the phrase; a worker that finishes nothing for ``phrase_timeout_s`` is hung.
    ``stop`` (default ``AMBIENT_STOP``'s) ends the run within ``STOP_POLL_S``: the workers
    stop and ``SpeechStopped`` is raised (the phrases spoken so far stay cached).
    """
    unique = list(dict.fromkeys(texts))
    stop = stop if stop is not None else AMBIENT_STOP.get()
    if engine_class(spec.engine).in_process:  # reads files (recorded takes): no worker
        return read_in_process(spec, unique, progress)
    found: dict[str, Mono] = _LengthsOnly() if lengths_only else {}
    wanted = {} if lengths_only or not engine_class(spec.engine).shapes else dict(levels or {})
    keys: dict[str, str] = {}
    shaped: dict[str, tuple[float, str | None]] = {
        t: (wanted[t], None) for t in unique if t in wanted
    }
    if cache is not None:
        keys, shaped = cache.look_up(engine_identity(spec), unique, wanted, found)
    misses = [text for text in unique if text not in found]
    log.info("%d phrases: %d cached, %d to synthesize", len(unique), len(found), len(misses))
    if progress is not None:
        progress(len(found), len(unique))

    # a crashed worker takes its pool down: start a fresh pool once for what is left
    for attempt in range(2):
        left = [text for text in misses if text not in found]
        if not left:
            break
        try:
            _speak_all(spec, left, keys, cache, workers, found, unique, progress, stop, shaped)
        except _WorkerCrash as crash:
            if attempt == 1:
                raise EngineError(crash.message) from None
            log.warning("%s Starting a new speech worker.", crash.message)
    return {text: found[text] for text in unique}
