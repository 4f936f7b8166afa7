"""Making espeak-ng available to pyttsx3 without a system package.

pyttsx3's espeak driver loads ``libespeak-ng.so.1`` by name. Linux machines without the
system package still work when the library shipped in the ``espeakng-loader`` wheel is
preloaded (the loader then finds it by its soname) and ``ESPEAK_DATA_PATH`` points at its
data. It is loaded locally, not into the global symbol namespace: global symbols would
take over the private copy that phonemizer loads for Kokoro's other languages, whose
voice list then came back empty ("language es is not supported") in a process that had
spoken with pyttsx3 first.
Call ``ensure_espeak()`` before importing pyttsx3, and only inside a speech worker
process: Piper's own espeak-ng crashes when both share a process.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import importlib.metadata
import logging
import os

log = logging.getLogger(__name__)

_SYSTEM_LIBRARY = "espeak-ng"
_loaded = False


def _system_library() -> str | None:
    return ctypes.util.find_library(_SYSTEM_LIBRARY)


def ensure_espeak() -> None:
    """Preload the wheel's libespeak-ng when the system has none (idempotent)."""
    global _loaded
    if _loaded or _system_library():
        _loaded = True
        return
    try:
        import espeakng_loader
    except ImportError:
        # Nothing to preload: pyttsx3 will report the missing library itself.
        log.debug("no system libespeak-ng and no espeakng-loader")
        return
    ctypes.CDLL(espeakng_loader.get_library_path(), mode=ctypes.RTLD_LOCAL)
    os.environ["ESPEAK_DATA_PATH"] = espeakng_loader.get_data_path()
    log.debug("preloaded %s", espeakng_loader.get_library_path())
    _loaded = True


def espeak_identity() -> str:
    """Which espeak-ng speaks, without loading it (part of the phrase cache key)."""
    system = _system_library()
    if system:
        return f"system {system}"
    try:
        return f"espeakng-loader {importlib.metadata.version('espeakng-loader')}"
    except importlib.metadata.PackageNotFoundError:
        return "missing"
