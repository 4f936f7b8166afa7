"""The Kokoro model's onnxruntime session, with its graph optimised once and kept.

Building a session from the model optimises its graph every time: about 8-11 s of a
speech worker's start on a 2-core machine, paid again by every worker of every render.
So the first start saves the graph optimised to onnxruntime's portable "extended" level
(``models/`` beside the phrase cache; the file name carries the model's identity and the
onnxruntime version) and later starts load that file, about 2 s. Machine-specific layout
optimisations are applied at load, never saved, so a cache folder shared by cluster
machines stays right for each. The model packages are still read and checked (sha256) on
every start: a damaged install is refused whatever the cache holds.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path
from typing import Any

from kindvoice import files
from kindvoice.errors import EngineError
from kindvoice.speech import kokoro_voices

log = logging.getLogger(__name__)


def _kept_path(ort_version: str) -> Path:
    from kindvoice.speech.cache import default_root

    name = hashlib.sha256(f"{kokoro_voices.model_identity()}|{ort_version}".encode()).hexdigest()
    return default_root().parent / "models" / f"kokoro-{name[:24]}.onnx"


def load_session(threads: int | None) -> Any:
    """An ``InferenceSession`` of the Kokoro model (``threads``: intra-op threads, None:
    onnxruntime's default); ``EngineError`` when the model cannot be loaded."""
    try:
        import onnxruntime
    except ImportError:
        raise EngineError("The kokoro engine needs onnxruntime: pip install onnxruntime") from None

    def options(level: Any) -> Any:
        chosen = onnxruntime.SessionOptions()
        chosen.graph_optimization_level = level
        if threads:
            chosen.intra_op_num_threads = threads
            chosen.inter_op_num_threads = 1
        return chosen

    levels = onnxruntime.GraphOptimizationLevel
    model = kokoro_voices.model_bytes()  # checked on every start
    kept = _kept_path(onnxruntime.__version__)
    try:
        if not kept.is_file():
            kept.parent.mkdir(parents=True, exist_ok=True)
            handle, temp = files.temp_beside(kept)
            os.close(handle)
            try:
                saving = options(levels.ORT_ENABLE_EXTENDED)
                saving.optimized_model_filepath = str(temp)
                onnxruntime.InferenceSession(model, saving, providers=["CPUExecutionProvider"])
                files.put_in_place(temp, kept, durable=False)
            finally:
                temp.unlink(missing_ok=True)
        return onnxruntime.InferenceSession(
            str(kept), options(levels.ORT_ENABLE_ALL), providers=["CPUExecutionProvider"]
        )
    except OSError as exc:  # no room or no rights for the kept graph: optimise in memory
        log.debug("cannot keep the optimised Kokoro graph in %s: %s", kept.parent, exc)
    except Exception as exc:  # a damaged kept file: drop it and build from the model
        log.warning("the kept Kokoro graph %s did not load (%s); rebuilding it", kept, exc)
        kept.unlink(missing_ok=True)
    try:
        return onnxruntime.InferenceSession(
            model, options(levels.ORT_ENABLE_ALL), providers=["CPUExecutionProvider"]
        )
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise EngineError(
            f"Cannot load the Kokoro model ({reason}). Unset {kokoro_voices.MODEL_ENV} or"
            " point it at a kokoro-v1.0.onnx, or reinstall kindvoice."
        ) from exc
