"""``sounds preview``: a bell's strikes or a stretch of background, faded in and out,
through the true-peak limiter into a file (``encode.encode_blocks``), at the levels a
session gives them."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from kindvoice.audio import SAMPLE_RATE, Stereo, db_to_gain, ms_to_samples, s_to_samples
from kindvoice.errors import UnknownNameError
from kindvoice.export.encode import Writer, encode_blocks, format_for
from kindvoice.mix.mixer import BLOCK_SAMPLES
from kindvoice.settings import ExportSettings, MixSettings
from kindvoice.sound.beds import BED_REFERENCE_LUFS, background_names, make_bed
from kindvoice.sound.bells import bell_names, render_bell

log = logging.getLogger(__name__)

# Backgrounds preview at EBU R128 programme level: clearly audible alone, never loud. (In
# a session they sit 20 LU under the voice, rising up to 6 LU in long silences.)
PREVIEW_BED_LUFS = -23.0
PREVIEW_LEAD_IN_S = 1.0  # before a bell's first strike


def render_sound_preview(
    name: str, output: Path, seconds: float = 30.0, strikes: int = 3, seed: int = 0
) -> tuple[Path, int, bool]:
    """Render ``seconds`` of background ``name`` (any ``--background`` spec), or the
    strikes of bell ``name``, to ``output``; returns (path, samples, needs headphones).

    A bell is placed after a second of silence and the file lasts until it has rung out,
    at least ``seconds``. Raises ``UnknownNameError`` listing bells and backgrounds."""
    format_for(output)  # an unknown extension fails before any work
    export, mix = ExportSettings(), MixSettings()
    key = name.strip().lower()
    simple = all(c not in name for c in "+@:/.")  # a path is a music file
    if simple and key not in bell_names() and key not in background_names():
        raise UnknownNameError("sound", name, [*bell_names(), *background_names()])

    if key in bell_names():
        peak = db_to_gain(export.target_lufs + mix.bell_level_lu)  # as in a session
        bell = render_bell(key, strikes, peak, seed)
        lead = s_to_samples(PREVIEW_LEAD_IN_S)
        total = max(s_to_samples(seconds), lead + len(bell) + SAMPLE_RATE)
        bell_track = np.zeros(total, dtype=np.float32)
        bell_track[lead : lead + len(bell)] = bell
        bed = None
        stereo = False
    else:
        bed = make_bed(name, seed)
        total = s_to_samples(seconds)
        gain = db_to_gain(PREVIEW_BED_LUFS - BED_REFERENCE_LUFS)
        fade_in, fade_out = ms_to_samples(mix.fade_in_ms), ms_to_samples(mix.fade_out_ms)
        stereo = bed.needs_stereo

    def blocks() -> Iterator[Stereo]:
        for start in range(0, total, BLOCK_SAMPLES):
            n = min(BLOCK_SAMPLES, total - start)
            if bed is None:
                yield np.repeat(bell_track[start : start + n, None], 2, axis=1)
            else:
                t = np.arange(start, start + n, dtype=np.float64)
                ramp = np.clip(np.minimum(t / fade_in, (total - 1 - t) / fade_out), 0.0, 1.0)
                shape = gain * (0.5 - 0.5 * np.cos(np.pi * ramp))  # raised-cosine fades
                yield bed.render(n) * shape[:, None].astype(np.float32)

    writer = Writer(output, 2, export.bitrate, export.lame_quality)
    try:
        _, limiter_db = encode_blocks(blocks(), writer, export.true_peak_ceiling_db)
        writer.finish()
        path = writer.commit()
    except BaseException:
        writer.abort()
        raise
    log.info("preview limiter took off at most %.1f dB", limiter_db)
    return path, writer.samples, stereo
