"""Issue 21's prosody trial: a section's intonation shape applied after synthesis, measured.

    .venv/bin/python scripts/intonation_trial.py --speak 30 --style far --save far.npz
    .venv/bin/python scripts/intonation_trial.py --phrases far.npz --method psola
        [--top 2.5 --step 1.25 --floor -2.5 --lift 1.25] [--wav shaped.wav]

Kokoro speaks each phrase on its own, so every sentence sits at one pitch level (issue
21's "level SD") and, from one style row per length, starts on the same rise ("onset
r"). The trial tries two remedies on the first phrases of a practice (the
self-compassion break by default), in script order:

- ``--speak N --style base|hash|far`` speaks the first N phrases with Kokoro (run it
  under ``flock /work/kokoro.lock nice -n 5``; about a CPU-second per second of speech)
  with the style row's prosody half (columns 128:) taken from the phrase's own row
  (base), a row chosen by the text's hash (hash), or a row 150-300 tokens longer (far),
  and saves the phrases' audio (``--save``);
- ``--phrases FILE`` shapes saved phrases: a teacher's declination over the sentences
  of a section (the defaults: the best shape measured), ``--top`` semitones at a
  section's start, ``--step`` down per sentence (a sentence is a phrase's part between
  pauses of 0.7 s or more) to ``--floor``, lifted by ``--lift`` after a pause of 3 s or
  more, applied with ``--method``: ``own``
  (the TD-PSOLA below, numpy only), ``psola`` (Praat's overlap-add through
  praat-parselmouth, GPL-3.0, ``pip install praat-parselmouth``), ``rubberband``
  (pedalboard's PitchShift, GPL-3.0) or ``none``.

It prints voice_meter's onset r and level SD, the shifts used, the CPU time of the
shaping, and writes the phrases one second apart to ``--wav`` for ``dnsmos.py`` (speech
DNSMOS) and ``recognize.py --text-file`` (Whisper WER). The TD-PSOLA moves the pitch of
stretches of a phrase and keeps its length to the sample: pitch marks one period apart
on the voiced stretches (the period from a normalised autocorrelation, median-smoothed;
each mark where the waveform best repeats the last period, by normalised
cross-correlation), Hann grains as wide as two of the marks' own spacings, taken from the
nearest mark and laid a shifted period apart at the same times; unvoiced stretches get
unshifted pseudo-marks. Without the smoothing, the normalised search and the spacing-wide
grains it cost DNSMOS OVRL 0.07-0.1 more than Praat's; with them, none.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import logging
import sys
import time
from pathlib import Path

import numpy as np
import numpy.typing as npt
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent))
from kindvoice.audio import SAMPLE_RATE
from kindvoice.template.model import Pause, Speech, walk
from kindvoice.template.parse import load_template
from voice_meter import FRAME, SENTENCE_GAP_S, frame_levels, prosody, runs, sentences

log = logging.getLogger("intonation_trial")
PRACTICE = Path(__file__).resolve().parents[1] / "meditations" / "self-compassion-break.md"
LONG_PAUSE_MS = 3000  # a pause at least this long starts a new paragraph (a lift)
HOP_MS = 10.0  # the pitch track's step
WINDOW_MS = 40.0  # the autocorrelation window
LOWEST_HZ, HIGHEST_HZ = 60.0, 420.0
VOICED_CORRELATION = 0.6  # a frame whose best normalised autocorrelation is lower is unvoiced
QUIET_DB = -35.0  # frames this far under the loudest are unvoiced
UNVOICED_STEP_MS = 5.0  # pseudo-mark spacing on unvoiced stretches
MARK_SEARCH = 0.2  # a mark is searched this share of a period either side of its guess

Stretches = list[tuple[int, int, float]]  # (start, end) in samples, semitones


def pitch_periods(x: npt.NDArray[np.float32], rate: int) -> npt.NDArray[np.float64]:
    """The period in samples per ``HOP_MS`` frame (0: unvoiced)."""
    hop = round(rate * HOP_MS / 1000)
    win = round(rate * WINDOW_MS / 1000)
    n = max(0, (len(x) - win) // hop + 1)
    out = np.zeros(max(n, 0))
    if n == 0:
        return out
    lo, hi = int(rate / HIGHEST_HZ), int(rate / LOWEST_HZ)
    nfft = 1 << int(np.ceil(np.log2(2 * win)))
    index = np.arange(win)[None, :] + hop * np.arange(n)[:, None]
    level_all = 10 * np.log10(np.mean(x[index].astype(np.float64) ** 2, axis=1) + 1e-20)
    loud = level_all >= level_all.max() + QUIET_DB
    taper = np.hanning(win)
    lag_norm = np.correlate(taper, taper, mode="full")[win - 1 : win - 1 + hi + 1]
    for start in range(0, n, 512):
        rows = index[start : start + 512]
        frames = x[rows].astype(np.float64)
        frames = (frames - frames.mean(axis=1, keepdims=True)) * taper
        spec = np.fft.rfft(frames, nfft)
        ac = np.fft.irfft(np.abs(spec) ** 2, nfft)[:, : hi + 1] / lag_norm
        ac = ac / np.maximum(ac[:, :1], 1e-20)
        band = ac[:, lo : hi + 1]
        best = band.max(axis=1)
        # the shortest lag nearly as strong as the best: no octave-down errors
        first = np.argmax(band >= 0.9 * best[:, None], axis=1) + lo
        # refine to the local peak after the first strong lag
        for k, lag in enumerate(first):
            while lag + 1 <= hi and ac[k, lag + 1] > ac[k, lag]:
                lag += 1
            first[k] = lag
        voiced = (best >= VOICED_CORRELATION) & loud[start : start + 512]
        out[start : start + 512] = np.where(voiced, first, 0)
    from scipy.signal import medfilt

    smooth = medfilt(out, 5)
    return np.where((out > 0) & (smooth > 0), smooth, 0.0)


def _marks(
    x: npt.NDArray[np.float32], rate: int, periods: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """(mark positions, the period at each, whether it is voiced), in samples."""
    hop = round(rate * HOP_MS / 1000)
    centre = round(rate * WINDOW_MS / 2000)
    step = max(1, round(rate * UNVOICED_STEP_MS / 1000))

    def period_at(t: int) -> float:
        k = int(np.clip(round((t - centre) / hop), 0, len(periods) - 1)) if len(periods) else 0
        return float(periods[k]) if len(periods) else 0.0

    marks: list[int] = []
    lengths: list[int] = []
    voiced: list[bool] = []
    t = 0
    while t < len(x):
        period = period_at(t)
        if period <= 0:
            marks.append(t)
            lengths.append(step)
            voiced.append(False)
            t += step
            continue
        reach = max(1, round(MARK_SEARCH * period))
        guess = t if not voiced or not voiced[-1] else marks[-1] + round(period)
        a, b = max(0, guess - reach), min(len(x), guess + reach + 1)
        if not voiced or not voiced[-1]:
            a, b = t, min(len(x), t + round(period))
        if b <= a:
            break
        if voiced and voiced[-1]:
            # the candidate whose period looks most like the last one: steady marks
            half = round(period / 2)
            prev = marks[-1]
            template = x[max(0, prev - half) : prev + half].astype(np.float64)
            lo_, hi_ = a - (prev - max(0, prev - half)), b + half
            if lo_ >= 0 and hi_ <= len(x) and len(template) > 1:
                around = x[lo_:hi_].astype(np.float64)
                score = np.correlate(around, template, mode="valid")
                energy = np.convolve(around**2, np.ones(len(template)), mode="valid")
                score = score / np.sqrt(np.maximum(energy, 1e-20))
                peak = a + int(np.argmax(score[: b - a]))
            else:
                peak = a + int(np.argmax(x[a:b]))
        else:
            peak = a + int(np.argmax(x[a:b]))
        if marks and peak <= marks[-1]:
            peak = marks[-1] + max(1, round(period))
            if peak >= len(x):
                break
        marks.append(peak)
        lengths.append(max(2, round(period)))
        voiced.append(True)
        t = peak + max(1, round(period))
    spaced = np.asarray(lengths, dtype=np.int64)
    for i in range(len(marks) - 1):
        if voiced[i] and voiced[i + 1]:
            gap = marks[i + 1] - marks[i]
            spaced[i] = int(np.clip(gap, 0.7 * lengths[i], 1.3 * lengths[i]))
    lengths = list(spaced)
    return (
        np.asarray(marks, dtype=np.int64),
        np.asarray(lengths, dtype=np.int64),
        np.asarray(voiced, dtype=bool),
    )


def shift_pitch(
    x: npt.NDArray[np.float32],
    rate: int,
    semitones: list[tuple[int, int, float]],
) -> npt.NDArray[np.float32]:
    """``x`` with the pitch of each ``(start, end, semitones)`` stretch (samples) moved by
    that many semitones, everything else as it was; the length is ``len(x)`` exactly."""
    if not len(x) or all(abs(s) < 1e-6 for _, _, s in semitones):
        return x
    ratio_at = np.ones(len(x))
    for a, b, s in semitones:
        ratio_at[max(0, a) : max(0, b)] = 2.0 ** (s / 12.0)
    marks, periods, voiced = _marks(x, rate, pitch_periods(x, rate))
    if not len(marks):
        return x
    y = np.zeros(len(x) + 4 * int(periods.max()) + 2)
    weight = np.zeros_like(y)
    pad = 2 * int(periods.max()) + 1
    source = np.concatenate([np.zeros(pad), x.astype(np.float64), np.zeros(pad)])
    t = float(marks[0])
    k = 0
    while t < len(x):
        while k + 1 < len(marks) and abs(marks[k + 1] - t) <= abs(marks[k] - t):
            k += 1
        period = int(periods[k])
        ratio = ratio_at[min(int(t), len(x) - 1)] if voiced[k] else 1.0
        grain_window = np.hanning(2 * period + 1)
        m = int(marks[k]) + pad
        grain = source[m - period : m + period + 1] * grain_window
        at = round(t) + pad - period
        if at >= 0:
            y[at : at + len(grain)] += grain
            weight[at : at + len(grain)] += grain_window
        t += period / ratio
    body = slice(pad, pad + len(x))
    out = y[body] / np.maximum(weight[body], 0.5)
    # the head before the first mark and any tail the grains did not reach: as they were
    head = int(marks[0])
    out[:head] = x[:head]
    return out.astype(np.float32)


# --- the shape: where each phrase's sentences sit in their section --------------------


def places(practice: Path) -> list[str]:
    """Each phrase's place in script order: "section" (a section's first), "lift" (after
    a long pause) or "next"."""
    script = load_template(practice, {"name": ""})
    out: list[str] = []
    for section in script.sections:
        place = "section"
        for node in walk(section.body):
            if isinstance(node, Speech):
                out.append(place)
                place = "next"
            elif isinstance(node, Pause) and node.min_ms >= LONG_PAUSE_MS and place != "section":
                place = "lift"
    return out


def sentence_cuts(x: npt.NDArray[np.float32]) -> list[int]:
    """Where a phrase's sentences start and end (voice_meter's cut: pauses of 0.7 s)."""
    level = frame_levels(x)
    quiet = runs(level < level.max() - 40)
    cuts = [(a + b) // 2 * FRAME for a, b in quiet if (b - a) * 0.01 >= SENTENCE_GAP_S]
    return [0, *cuts, len(x)]


def shape(
    audio: list[npt.NDArray[np.float32]], where: list[str], args: argparse.Namespace
) -> list[Stretches]:
    """Per phrase, its sentences' shifts: a declination over a section, lifted after a
    long pause."""
    level = args.top
    plan: list[Stretches] = []
    for x, place in zip(audio, where, strict=False):
        if place == "section":
            level = args.top
        elif place == "lift":
            level = min(args.top, level + args.lift)
        stretches: Stretches = []
        for a, b in itertools.pairwise(sentence_cuts(x)):
            stretches.append((a, b, level))
            if b - a > SAMPLE_RATE // 2:
                level = max(level - args.step, args.floor)
        plan.append(stretches)
    return plan


def praat_psola(x: npt.NDArray[np.float32], stretches: Stretches) -> npt.NDArray[np.float32]:
    import parselmouth
    from parselmouth.praat import call

    sound = parselmouth.Sound(x.astype(np.float64), sampling_frequency=SAMPLE_RATE)
    manipulation = call(sound, "To Manipulation", 0.01, 60, 500)
    tier = call(manipulation, "Extract pitch tier")
    expr = "0"
    for _, b, s in reversed(stretches):
        expr = f"if x < {b / SAMPLE_RATE:.4f} then {s:.4f} else {expr} fi"
    call(tier, "Formula", f"self * 2^(({expr})/12)")
    call([tier, manipulation], "Replace pitch tier")
    y = call(manipulation, "Get resynthesis (overlap-add)").values[0].astype(np.float32)
    return np.pad(y, (0, max(0, len(x) - len(y))))[: len(x)]


def rubber_band(x: npt.NDArray[np.float32], stretches: Stretches) -> npt.NDArray[np.float32]:
    from pedalboard import Pedalboard, PitchShift

    out = []
    for a, b, s in stretches:
        piece = x[a:b].astype(np.float32)
        shifted = Pedalboard([PitchShift(semitones=s)])(piece, SAMPLE_RATE)
        out.append(np.asarray(shifted).reshape(-1)[: len(piece)])
    return np.concatenate(out)


# --- speaking the phrases with a style variant ------------------------------------------


def speak(texts: list[str], style: str) -> list[npt.NDArray[np.float32]]:
    """The phrases spoken by Kokoro heart at the practice rate, the style row's prosody
    half from ``style``'s row."""
    from kindvoice.settings import VoiceSettings
    from kindvoice.speech.base import choose_voice
    from kindvoice.speech.kokoro_engine import KokoroEngine

    engine = KokoroEngine(choose_voice(VoiceSettings(engine="kokoro")))
    styles = engine._styles.copy()
    out = []
    for text in texts:
        ids = [c for c in engine._g2p(text) if c in engine._vocab]
        own = min(len(ids), len(styles)) - 1
        row = styles[own].copy()
        digest = int(hashlib.sha256(text.encode()).hexdigest(), 16)
        if style == "hash":
            row[..., 128:] = styles[digest % len(styles)][..., 128:]
        elif style == "far":
            row[..., 128:] = styles[min(own + 150 + digest % 150, len(styles) - 1)][..., 128:]
        engine._styles = styles.copy()
        engine._styles[own] = row
        out.append(np.asarray(engine.synthesize(text), dtype=np.float32))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--practice", type=Path, default=PRACTICE)
    parser.add_argument("--speak", type=int, help="speak this many first phrases")
    parser.add_argument("--style", choices=("base", "hash", "far"), default="base")
    parser.add_argument("--save", type=Path, help="where --speak keeps the phrases (.npz)")
    parser.add_argument("--phrases", type=Path, help="phrases saved by --speak")
    parser.add_argument("--method", choices=("none", "own", "psola", "rubberband"))
    parser.add_argument("--top", type=float, default=2.5, help="semitones at a section's start")
    parser.add_argument("--step", type=float, default=1.25, help="semitones down a sentence")
    parser.add_argument("--floor", type=float, default=-2.5, help="the lowest, semitones")
    parser.add_argument("--lift", type=float, default=1.25, help="semitones up after a pause")
    parser.add_argument("--wav", type=Path, help="the phrases one second apart")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    where = places(args.practice)
    if args.speak:
        script = load_template(args.practice, {"name": ""})
        texts = [n.spoken for s in script.sections for n in walk(s.body) if isinstance(n, Speech)][
            : args.speak
        ]
        started = time.process_time()
        audio = speak(texts, args.style)
        log.info("spoke %d phrases: %.0f CPU s", len(audio), time.process_time() - started)
        if args.save:
            np.savez(args.save, *audio)
    elif args.phrases:
        saved = np.load(args.phrases)
        audio = [saved[f"arr_{i}"] for i in range(len(saved.files))]
    else:
        parser.error("give --speak N or --phrases FILE")
    plan = shape(audio, where, args) if args.method not in (None, "none") else []
    started = time.process_time()
    if args.method == "own":
        audio = [shift_pitch(x, SAMPLE_RATE, s) for x, s in zip(audio, plan, strict=True)]
    elif args.method == "psola":
        audio = [praat_psola(x, s) for x, s in zip(audio, plan, strict=True)]
    elif args.method == "rubberband":
        audio = [rubber_band(x, s) for x, s in zip(audio, plan, strict=True)]
    shaping_s = time.process_time() - started
    onset_r, level_sd, n = prosody([s for x in audio for s in sentences(x)])
    shifts = [s for stretches in plan for _, _, s in stretches] or [0.0]
    seconds = sum(len(x) for x in audio) / SAMPLE_RATE
    log.info(
        "%s: onset r %.2f, level SD %.2f st (%d sentences); shifts %+.1f..%+.1f st;"
        " %.1f s of speech, shaped in %.1f CPU s",
        args.method or "none",
        onset_r,
        level_sd,
        n,
        min(shifts),
        max(shifts),
        seconds,
        shaping_s,
    )
    if args.wav:
        gap = np.zeros(SAMPLE_RATE, np.float32)
        sf.write(args.wav, np.concatenate([p for x in audio for p in (x, gap)][:-1]), SAMPLE_RATE)


if __name__ == "__main__":
    main()
