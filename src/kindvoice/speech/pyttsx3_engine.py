"""The pyttsx3 engine: espeak-ng voices, always available, fast and robotic.

pyttsx3 is imported lazily, inside a speech worker process only (see ``synth.py``):
its espeak-ng and Piper's crash when they share a process. With the espeak driver one
``save_to_file`` is queued per ``runAndWait()`` (several queued saves write only the
last file); the file is 22,050 Hz mono WAV and the driver announces it on stdout, which
we swallow.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import io
import logging
import re
import shutil
import tempfile
import time
import weakref
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from kindvoice.audio import Mono
from kindvoice.errors import EngineError, UnknownNameError
from kindvoice.owners import left_over, owner_tag
from kindvoice.speech.base import Engine, EngineSpec, VoiceInfo, finish_phrase
from kindvoice.speech.espeak import ensure_espeak, espeak_identity

log = logging.getLogger(__name__)

# espeak-ng's own normal pace; rate 1.0 means this many words per minute. (The pyttsx3
# driver would start at 200.)
NORMAL_WPM = 175
_PREFERRED_DEFAULTS = ("gmw/en-us", "en-us")
_ATTEMPTS = 3
# a phrase shorter than this share of its words at the nominal pace was cut: the driver
# wrote the file at an orphaned earlier phrase's end (seen 1 in about 210 phrases under
# load, 0.74 s of a 4.64 s phrase); espeak's shortest words take about 0.6 of it
_LEAST_SHARE = 0.3
# an engine's folder for its phrase files: the prefix, then the owner's pid
_FOLDER_PREFIX = "kindvoice-espeak-"


def _pyttsx3_version() -> str:
    try:
        return importlib.metadata.version("pyttsx3")
    except importlib.metadata.PackageNotFoundError:
        raise EngineError("The pyttsx3 engine needs pyttsx3: pip install pyttsx3") from None


def _init_pyttsx3() -> Any:
    ensure_espeak()
    try:
        import pyttsx3
    except ImportError as exc:
        raise EngineError(f"The pyttsx3 engine needs pyttsx3: pip install pyttsx3 ({exc})") from exc
    try:
        return pyttsx3.init("espeak")
    except Exception as exc:
        raise EngineError(
            f"Cannot start espeak-ng for pyttsx3 ({exc}). Install espeak-ng "
            "(apt install espeak-ng) or pip install espeakng-loader."
        ) from exc


def _disable_stop(engine: Any) -> None:
    """Make the espeak driver's ``stop()`` a no-op: we never interrupt speech.

    ``runAndWait()`` calls ``stop()``, which cancels espeak and sets a "stopping" flag
    whenever espeak's thread still looks busy. When the phrase then finishes first, the
    flag survives and cancels the NEXT phrase at once, which is saved as an empty WAV
    (measured: about 1 phrase in 100 with two busy workers, pyttsx3 2.99).
    """
    driver = getattr(getattr(engine, "proxy", None), "_driver", None)
    if driver is not None and hasattr(driver, "stop"):
        driver.stop = lambda: None


def _read_when_written(wav: Path, limit_s: float = 10.0) -> tuple[npt.NDArray[np.float32], int]:
    """The WAV espeak is writing, once it is complete (empty if it never appears).

    Python's wave module writes the header (with the final frame count) before the
    data, so a file is complete when its size holds every frame the header announces."""

    import soundfile as sf  # loaded by the engine's __init__ already (see there)

    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        try:
            info = sf.info(str(wav))
            if wav.stat().st_size >= 44 + info.frames * 2 * info.channels:
                samples, sample_rate = sf.read(wav, dtype="float32", always_2d=True)
                return samples, int(sample_rate)
        except (OSError, RuntimeError):  # not there yet, or the header half written
            pass
        time.sleep(0.005)
    return np.zeros((0, 1), dtype=np.float32), 22_050


def _voice_infos(driver: Any) -> list[VoiceInfo]:
    default_id = _default_voice_id(driver)
    infos = []
    for v in driver.getProperty("voices"):
        language = v.languages[0] if v.languages else ""
        infos.append(VoiceInfo(v.id, v.name, str(language), v.id == default_id))
    return infos


def _default_voice_id(driver: Any) -> str:
    voices = driver.getProperty("voices")
    for wanted in _PREFERRED_DEFAULTS:
        for v in voices:
            if v.id == wanted or wanted in (v.languages or []):
                return str(v.id)
    return str(driver.getProperty("voice"))


def _resolve_voice(requested: str, voices: list[VoiceInfo]) -> VoiceInfo:
    """Match an espeak voice by id ("gmw/en-us"), short id ("en-us"), name or language."""
    wanted = requested.strip().casefold()
    for field in ("id", "short_id", "name", "language"):
        for v in voices:
            value = v.id.rpartition("/")[2] if field == "short_id" else getattr(v, field)
            if str(value).casefold() == wanted:
                return v
    raise UnknownNameError("voice", requested, [v.id.rpartition("/")[2] for v in voices])


# The voices a page offers of espeak-ng's some 140, by the names its engine resolves (short
# id or language): the default, a few English accents, and the other languages the Kokoro
# voices speak.
OFFERED_VOICES = (
    VoiceInfo("en-us", "American English (the default)", "en-US", True),
    VoiceInfo("en-gb", "British English", "en-GB"),
    VoiceInfo("en-gb-x-rp", "British English, Received Pronunciation", "en-GB"),
    VoiceInfo("en-gb-scotland", "Scottish English", "en-GB"),
    VoiceInfo("en-029", "Caribbean English", "en"),
    VoiceInfo("es", "Spanish (Spain)", "es"),
    VoiceInfo("es-419", "Spanish (Latin America)", "es"),
    VoiceInfo("fr", "French", "fr"),
    VoiceInfo("it", "Italian", "it"),
    VoiceInfo("pt-br", "Brazilian Portuguese", "pt-BR"),
)


class Pyttsx3Engine(Engine):
    """espeak-ng through pyttsx3; voice by espeak id or name, rate 1.0 = 175 wpm."""

    name: ClassVar[str] = "pyttsx3"
    voices_named_by_language: ClassVar[bool] = True
    label: ClassVar[str] = "espeak-ng: robotic, instant (drafts)"
    default_voice: ClassVar[str] = "en-us"

    @classmethod
    def voice_for_language(cls, language: str) -> str | None:
        # espeak-ng has a voice for nearly every language, named by its code
        return None if language.casefold() in ("en", "en-us") else language.casefold()

    def __init__(self, spec: EngineSpec) -> None:
        super().__init__(spec)
        if spec.rate <= 0:
            raise EngineError(f"Speech rate must be above 0, got {spec.rate}.")
        # soundfile (libsndfile through cffi) is loaded now, before espeak's thread runs:
        # loaded for the first phrase instead, while espeak spoke, it crashed the worker
        # about one run in three (Spanish phrases, under the tests' load)
        import soundfile  # noqa: F401

        self._driver = _init_pyttsx3()
        _disable_stop(self._driver)
        voices = _voice_infos(self._driver)
        if spec.voice is None:
            self._voice = next((v for v in voices if v.default), voices[0])
        else:
            self._voice = _resolve_voice(spec.voice, voices)
        self._driver.setProperty("voice", self._voice.id)
        self._driver.setProperty("rate", round(NORMAL_WPM * spec.rate))
        _remove_dead_folders()  # a killed worker could not remove its own
        self._folder = Path(tempfile.mkdtemp(prefix=f"{_FOLDER_PREFIX}{owner_tag()}."))
        self._count = 0
        # workers are stopped, not closed: remove the folder when the engine goes away
        weakref.finalize(self, shutil.rmtree, self._folder, True)
        log.debug("pyttsx3 voice %s at %.2f", self._voice.id, spec.rate)

    @classmethod
    def identity_for(cls, spec: EngineSpec) -> dict[str, str]:
        # The voice as asked (normalised): resolving names would need espeak loaded.
        # Two spellings of one voice only cost a duplicate cache entry. espeak adds its
        # own sentence pauses, so the sentence gap is not part of the identity.
        return {
            "engine": cls.name,
            "pyttsx3": _pyttsx3_version(),
            "espeak": espeak_identity(),
            "voice": (spec.voice or "default").strip().casefold(),
            "rate": repr(float(spec.rate)),
        }

    def close(self) -> None:
        shutil.rmtree(self._folder, ignore_errors=True)

    def synthesize(self, text: str) -> Mono:
        if not text.strip():
            raise EngineError(f"The pyttsx3 engine cannot speak an empty phrase {text!r}.")
        least_s = _LEAST_SHARE * len(re.findall(r"\w+", text)) * 60 / (NORMAL_WPM * self.spec.rate)
        best: tuple[npt.NDArray[np.float32], int] = (np.zeros((0, 1), np.float32), 22_050)
        for _ in range(_ATTEMPTS):
            samples, sample_rate = self._speak_to_wav(text)
            if len(samples) > len(best[0]):
                best = samples, sample_rate
            if len(samples) and len(samples) / sample_rate >= least_s:
                break
            # The driver saved an empty file (rarer than 1 in 1000 phrases) or a cut one
            # (an orphaned phrase's end): let espeak's thread finish it, then try again.
            log.debug("espeak saved %d samples for %r; trying again", len(samples), text)
            self._wait_idle()
        return finish_phrase(best[0].mean(axis=1), best[1], text)

    def _speak_to_wav(self, text: str) -> tuple[npt.NDArray[np.float32], int]:
        """Speak into a fresh file name in this engine's own folder. The folder outlives
        the phrase, so a write that espeak's thread finishes late (an orphaned phrase)
        lands harmlessly instead of failing; an empty result means "try again"."""
        self._count += 1
        wav = self._folder / f"phrase-{self._count}.wav"
        with contextlib.redirect_stdout(io.StringIO()):  # "Audio saved to ..."
            self._driver.save_to_file(text, str(wav))
            self._driver.runAndWait()
        samples, sample_rate = _read_when_written(wav)
        with contextlib.suppress(OSError):
            wav.unlink()
        log.debug("espeak: %d samples at %d Hz for %r", len(samples), sample_rate, text)
        return samples, sample_rate

    def _wait_idle(self, limit_s: float = 5.0) -> None:
        from pyttsx3.drivers import _espeak

        deadline = time.monotonic() + limit_s
        while _espeak.IsPlaying() and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(0.05)  # its last callbacks come just after it reports idle

    @classmethod
    def offered_voices(cls) -> list[VoiceInfo]:
        return list(OFFERED_VOICES)

    @classmethod
    def voices(cls) -> list[VoiceInfo]:
        return _voice_infos(_init_pyttsx3())


def _remove_dead_folders() -> None:
    """Remove the phrase folders of engines whose process is gone (``owners.left_over``:
    the temporary folder may be shared by several machines)."""
    for folder in Path(tempfile.gettempdir()).glob(f"{_FOLDER_PREFIX}*"):
        if left_over(folder, folder.name.removeprefix(_FOLDER_PREFIX).split(".", 1)[0]):
            shutil.rmtree(folder, ignore_errors=True)
