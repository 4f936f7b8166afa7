"""Synthesized bells: singing bowls, a temple bell and a small chime (modal synthesis).

A struck bowl rings in a few inharmonic modes (near 1 : 2.83 : 5.42 : 8.77 for a bowl).
Each mode is a slightly detuned pair of sines, because a real bowl is never perfectly
round: the pair beats, which is the bowl's slow "wobble". Every mode decays
exponentially, the higher ones faster, so the sound darkens as it rings. A few
milliseconds of raised-cosine onset and a puff of band-passed noise stand in for the
mallet.

The length solver needs a bell's timeline length before anything is rendered, so
``bell_duration_samples`` computes it from the model alone: the ring-out lasts until
the modal envelope has fallen ``RING_OUT_DB`` below its start, and its last part is
faded to exactly zero. Renders are cached (the mixer reuses them) and read-only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from kindvoice.audio import SAMPLE_RATE, Mono, s_to_samples
from kindvoice.errors import UnknownNameError, UsageError

DEFAULT_BELL = "bowl"
RING_OUT_DB = -45.0  # a bell's ring-out ends where its modal envelope reaches this level

_F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class _BellModel:
    """The modal model of one kind of bell. Tuples hold one value per mode."""

    description: str
    fundamental_hz: float
    ratios: tuple[float, ...]  # mode frequency / fundamental
    amps: tuple[float, ...]  # initial amplitude of each mode (the pair's sum)
    decay_s: tuple[float, ...]  # amplitude time constant (1/e) of each mode
    beat_hz: tuple[float, ...]  # detuning within each pair: the wobble rate
    attack_ms: float  # raised-cosine onset: the mallet's softness
    noise_level: float  # mallet noise, relative to the first mode's amplitude
    noise_band_hz: tuple[float, float]
    noise_decay_ms: float
    strike_interval_s: float  # time between strikes of ``[bell 3]``
    fade_s: float  # the last part of the ring-out fades to exactly zero


_BELLS: dict[str, _BellModel] = {
    "bowl": _BellModel(
        description="Singing bowl: warm, about 220 Hz, rings for about 10 s.",
        fundamental_hz=220.0,
        ratios=(1.0, 2.83, 5.42, 8.77),
        amps=(1.0, 0.5, 0.22, 0.1),
        decay_s=(2.2, 1.2, 0.7, 0.45),
        beat_hz=(0.35, 0.5, 0.7, 0.9),
        attack_ms=5.0,
        noise_level=0.02,
        noise_band_hz=(800.0, 4000.0),
        noise_decay_ms=12.0,
        strike_interval_s=5.0,
        fade_s=1.0,
    ),
    "soft": _BellModel(
        description="Soft bowl: lower and gentler, a muffled mallet, rings for about 12 s.",
        fundamental_hz=165.0,
        ratios=(1.0, 2.83, 5.42, 8.77),
        amps=(1.0, 0.3, 0.1, 0.04),
        decay_s=(2.4, 1.4, 0.8, 0.5),
        beat_hz=(0.3, 0.45, 0.6, 0.8),
        attack_ms=15.0,
        noise_level=0.006,
        noise_band_hz=(300.0, 1500.0),
        noise_decay_ms=20.0,
        strike_interval_s=6.0,
        fade_s=1.2,
    ),
    "bright": _BellModel(
        description="Temple bell: brighter and clearer, a harder strike, rings for about 8 s.",
        fundamental_hz=311.0,
        ratios=(1.0, 2.83, 5.42, 8.77, 12.7),
        amps=(1.0, 0.8, 0.6, 0.4, 0.25),
        decay_s=(1.9, 1.5, 1.1, 0.8, 0.5),
        beat_hz=(0.4, 0.6, 0.8, 1.0, 1.3),
        attack_ms=2.0,
        noise_level=0.03,
        noise_band_hz=(2000.0, 8000.0),
        noise_decay_ms=8.0,
        strike_interval_s=4.0,
        fade_s=0.8,
    ),
    "chime": _BellModel(
        description="Small chime: high (C6) and short, rings for about 4 s.",
        fundamental_hz=1046.5,
        ratios=(1.0, 2.76, 5.40),  # a free bar's modes
        amps=(1.0, 0.35, 0.12),
        decay_s=(0.8, 0.35, 0.18),
        beat_hz=(0.6, 0.9, 1.2),
        attack_ms=1.0,
        noise_level=0.02,
        noise_band_hz=(4000.0, 12000.0),
        noise_decay_ms=4.0,
        strike_interval_s=1.5,
        fade_s=0.5,
    ),
}


def bell_names() -> list[str]:
    """The bells kindvoice can strike, default first."""
    return [DEFAULT_BELL, *sorted(n for n in _BELLS if n != DEFAULT_BELL)]


def bell_descriptions() -> dict[str, str]:
    """One line per bell, for ``kindvoice sounds`` and the README."""
    return {name: _BELLS[name].description for name in bell_names()}


def _model(name: str) -> _BellModel:
    try:
        return _BELLS[name]
    except KeyError:
        raise UnknownNameError("bell", name, bell_names()) from None


def bell_partials_hz(name: str) -> list[float]:
    """The model's mode frequencies in Hz (the centre of each detuned pair)."""
    model = _model(name)
    return [model.fundamental_hz * r for r in model.ratios]


def _ring_out_samples(model: _BellModel) -> int:
    """Samples until the summed modal envelope is ``RING_OUT_DB`` below its start."""
    amps = np.asarray(model.amps)
    taus = np.asarray(model.decay_s)
    floor = amps.sum() * 10.0 ** (RING_OUT_DB / 20.0)
    lo, hi = 0.0, float(taus.max()) * 20.0
    for _ in range(60):  # bisection: the envelope falls monotonically
        mid = 0.5 * (lo + hi)
        if float((amps * np.exp(-mid / taus)).sum()) > floor:
            lo = mid
        else:
            hi = mid
    return math.ceil(hi * SAMPLE_RATE)


def _check_strikes(strikes: int) -> None:
    if strikes < 1:
        raise UsageError(f"A bell needs at least 1 strike, got {strikes}; use [bell] or [bell 2].")


def bell_duration_samples(name: str, strikes: int = 1) -> int:
    """Timeline length of ``[bell name strikes]`` in samples, without rendering:
    ``(strikes - 1) * strike_interval + ring_out``."""
    model = _model(name)
    _check_strikes(strikes)
    interval = s_to_samples(model.strike_interval_s)
    return (strikes - 1) * interval + _ring_out_samples(model)


def _raised_cosine(n: int) -> _F64:
    """0 -> 1 over ``n`` samples (first value exactly 0)."""
    return 0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, n, endpoint=False))


def _strike(model: _BellModel, seed: int) -> _F64:
    """One strike, ring-out length, unnormalised, starting and ending at exactly 0."""
    n = _ring_out_samples(model)
    rng = np.random.default_rng(seed)
    t = np.arange(n) / SAMPLE_RATE
    y = np.zeros(n)
    for ratio, amp, tau, beat in zip(
        model.ratios, model.amps, model.decay_s, model.beat_hz, strict=True
    ):
        centre = model.fundamental_hz * ratio
        # The seed nudges the wobble rate and the pair's phases, so two seeds sound like
        # two strikes of the same bowl, never like two different bowls.
        half_beat = 0.5 * beat * rng.uniform(0.9, 1.1)
        phases = rng.uniform(0.0, 2.0 * np.pi, size=2)
        pair = np.sin(2 * np.pi * (centre - half_beat) * t + phases[0])
        pair += np.sin(2 * np.pi * (centre + half_beat) * t + phases[1])
        y += 0.5 * amp * np.exp(-t / tau) * pair
    if model.noise_level > 0:
        from scipy import signal  # imported here: scipy is slow to import

        k = min(n, s_to_samples(12 * model.noise_decay_ms / 1000))
        sos = signal.butter(2, model.noise_band_hz, btype="bandpass", fs=SAMPLE_RATE, output="sos")
        puff = signal.sosfilt(sos, rng.standard_normal(k))
        puff *= np.exp(-t[:k] / (model.noise_decay_ms / 1000)) / max(np.abs(puff).max(), 1e-12)
        y[:k] += model.noise_level * puff
    attack = max(2, s_to_samples(model.attack_ms / 1000))
    y[:attack] *= _raised_cosine(attack)
    fade = min(n // 2, s_to_samples(model.fade_s))
    y[n - fade :] *= _raised_cosine(fade)[::-1]  # reversed, it ends at exactly 0
    return y


@lru_cache(maxsize=32)
def render_bell(name: str, strikes: int = 1, strength: float = 1.0, seed: int = 0) -> Mono:
    """Render ``strikes`` strikes of bell ``name``: float32 mono at the house rate,
    exactly ``bell_duration_samples(name, strikes)`` long, peak ``strength`` (0 < x <= 1)
    over the whole sequence. Later strikes add onto earlier ring-outs. Cached, read-only.
    """
    model = _model(name)
    _check_strikes(strikes)
    if not 0.0 < strength <= 1.0:
        raise UsageError(f"Bell strength must be in (0, 1], got {strength}.")
    one = _strike(model, seed)
    interval = s_to_samples(model.strike_interval_s)
    out = np.zeros(bell_duration_samples(name, strikes))
    for k in range(strikes):
        out[k * interval : k * interval + len(one)] += one
    out *= strength / np.abs(out).max()
    mono: Mono = out.astype(np.float32)
    mono.flags.writeable = False
    return mono
