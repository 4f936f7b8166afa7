"""The background registry: names, descriptions, and ``make_bed`` (with layering).

Adding a background is one small module in this package (a ``Bed`` subclass) and one
line in ``_BEDS``. A spec may layer beds with ``+`` and give each layer a level in dB
relative to the reference: ``"rain@-3+drone@-8"``. Layers add, so two layers at 0 dB
are about 3 LU louder than the reference; give levels to keep the sum at it. A layer
``music:PATH`` is the listener's own music file (``music.py``); it is not in ``_BEDS``,
whose names each render alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

from kindvoice.audio import db_to_gain
from kindvoice.errors import UnknownNameError, UsageError
from kindvoice.sound.beds.base import BED_REFERENCE_LUFS, F64, Bed, Seed, measure_lufs
from kindvoice.sound.beds.binaural import BinauralBed, IsochronicBed
from kindvoice.sound.beds.drone import DroneBed
from kindvoice.sound.beds.music import PREFIX, is_music, make_music_bed, parse_music_layer
from kindvoice.sound.beds.noise import BrownBed, PinkBed
from kindvoice.sound.beds.ocean import OceanBed
from kindvoice.sound.beds.rain import RainBed
from kindvoice.sound.beds.silence import SilenceBed

__all__ = [
    "BED_REFERENCE_LUFS",
    "Bed",
    "LayeredBed",
    "background_descriptions",
    "background_names",
    "check_background",
    "make_bed",
    "measure_lufs",
]

# name -> (factory taking a seed, one-line description)
_BEDS: dict[str, tuple[Callable[[Seed], Bed], str]] = {
    "none": (SilenceBed, "Silence: the voice alone."),
    "brown": (BrownBed, "Brown noise: a deep, soft rumble, like a distant waterfall."),
    "pink": (PinkBed, "Pink noise: an even, gentle hush, brighter than brown."),
    "drone": (DroneBed, "Warm drone: a slowly breathing pad on A with its fifth and octave."),
    "rain": (RainBed, "Rain: steady soft rain with the occasional droplet."),
    "ocean": (OceanBed, "Ocean: surf swelling and receding every 8-12 seconds."),
    "binaural-delta": (
        partial(BinauralBed, beat_hz=2.0),
        "Binaural beat at 2 Hz (200 Hz carrier); stereo only, use headphones.",
    ),
    "binaural-theta": (
        partial(BinauralBed, beat_hz=6.0),
        "Binaural beat at 6 Hz (200 Hz carrier); stereo only, use headphones.",
    ),
    "binaural-alpha": (
        partial(BinauralBed, beat_hz=10.0),
        "Binaural beat at 10 Hz (200 Hz carrier); stereo only, use headphones.",
    ),
    "isochronic": (IsochronicBed, "Isochronic tone: a soft 220 Hz tone pulsing 6 times a second."),
}

# A layer's level in dB relative to the reference: quieter than -60 is silence, and more
# than +12 buries the voice under clipped noise
MIN_LEVEL_DB = -60.0
MAX_LEVEL_DB = 12.0

# One layer of a spec: a name, optionally "@" and a level in dB ("rain", "drone@-8").
_LAYER = re.compile(
    r"^\s*(?P<name>[A-Za-z0-9_-]+)\s*(?:@\s*(?P<db>[-+]?\d+(?:\.\d+)?)\s*(?:dB)?)?\s*$"
)
# "+" separates layers only where a whole layer follows (a name with an optional level, or
# music:), so "rain@+3+drone" splits correctly and a music path may contain "+".
_SPLIT = re.compile(
    r"\+(?=\s*(?:music:|[A-Za-z][A-Za-z0-9_-]*\s*(?:@\s*[-+]?\d+(?:\.\d+)?\s*(?:dB)?)?\s*(?:\+|$)))",
    re.IGNORECASE,
)


def background_names() -> list[str]:
    """The background names, in the registry's order (quietest and simplest first)."""
    return list(_BEDS)


def background_descriptions() -> dict[str, str]:
    """One line per background, for ``kindvoice sounds`` and the README."""
    return {name: description for name, (_, description) in _BEDS.items()}


class LayeredBed(Bed):
    """Several beds summed, each with its own gain (linear, relative to the reference)."""

    def __init__(self, layers: list[tuple[Bed, float]]) -> None:
        super().__init__()
        self.layers = layers
        self.needs_stereo = any(bed.needs_stereo for bed, _ in layers)

    def _render(self, n: int) -> F64:
        out = np.zeros((n, 2))
        for bed, gain in self.layers:
            out += gain * bed.render(n)
        return out


def _parse(spec: str) -> list[tuple[str, float]]:
    """``"rain@-3+drone"`` -> ``[("rain", -3.0), ("drone", 0.0)]``; names not checked,
    levels held to ``MIN_LEVEL_DB`` .. ``MAX_LEVEL_DB``."""
    layers = []
    for part in _SPLIT.split(spec):
        if is_music(part):  # the path keeps its case; the level is read off its end
            path, start, level_db = parse_music_layer(part)
            layers.append((f"music:{path}" + (f"#t={start}" if start else ""), level_db))
            continue
        match = _LAYER.match(part)
        if match is None:
            music = _bare_music(part)
            if music is not None:
                layers.append(music)
                continue
            raise UsageError(
                f"Cannot read background layer '{part.strip()}' in '{spec}'; "
                "write name or name@dB, joined by +, e.g. rain@-3+drone@-8, "
                "or music:PATH for a music file of yours, e.g. music:calm.mp3@-6."
            )
        layers.append((match["name"].lower(), float(match["db"] or 0.0)))
    for part, (_, level_db) in zip(_SPLIT.split(spec), layers, strict=True):
        if not MIN_LEVEL_DB <= level_db <= MAX_LEVEL_DB:
            raise UsageError(
                f"Background level {level_db:g} dB in '{part.strip()}' is out of range: give "
                f"{MIN_LEVEL_DB:g} to +{MAX_LEVEL_DB:g} dB (0 is the usual level), e.g. rain@-6."
            )
    return layers


def _bare_music(part: str) -> tuple[str, float] | None:
    """A layer that is a path to an existing file (``~/Music/rain.mp3@-6``), read as
    ``music:`` would read it; None if no such file."""
    try:
        path, start, level_db = parse_music_layer(PREFIX + part.strip())
    except UsageError:
        return None
    if not Path(path).expanduser().is_file():
        return None
    path = str(Path(path).expanduser())
    return f"{PREFIX}{path}" + (f"#t={start}" if start else ""), level_db


def check_background(spec: str) -> None:
    """Check a background spec (names and levels) without making any sound: raises
    ``UnknownNameError`` or ``UsageError`` as ``make_bed`` would. For forms and plans
    that want to refuse a bad background before any render."""
    for layer, _ in _parse(spec):
        if layer not in _BEDS and not is_music(layer):
            raise UnknownNameError("background", layer, [*background_names(), "music:PATH"])


def make_bed(name: str, seed: int = 0) -> Bed:
    """A fresh bed for ``name``: one registry name, or layers like ``"rain@-3+drone@-8"``.

    The same name and seed give the same samples. Raises ``UnknownNameError`` (with the
    choices) for an unknown name and ``UsageError`` for a spec that cannot be read.
    """
    check_background(name)
    layers = _parse(name)
    if len(layers) == 1 and layers[0][1] == 0.0:
        return _factory(layers[0][0])(seed)
    # Layer i > 0 gets its own seed, so "brown+brown" is two streams, not one doubled;
    # layer 0 keeps the plain seed, so "rain@-3" is exactly "rain", 3 dB down.
    return LayeredBed(
        [
            (_factory(layer)(seed if i == 0 else (seed, i)), db_to_gain(level_db))
            for i, (layer, level_db) in enumerate(layers)
        ]
    )


def _factory(layer: str) -> Callable[[Seed], Bed]:
    """The constructor (taking a seed) for one parsed layer."""
    return partial(make_music_bed, layer) if is_music(layer) else _BEDS[layer][0]
