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

Landed: the engine now takes every style row's prosody half from the text's hash
(``KokoroEngine._style``, KOKORO_FORMAT 4), so ``--style`` reproduces only "hash"; the
TD-PSOLA is ``kindvoice.speech.psola`` and the shape ``template.intonation`` with
``speech.shaping``.

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
from kindvoice.speech.psola import Stretches, shift_pitch
from kindvoice.template.model import Pause, Speech, walk
from kindvoice.template.parse import load_template
from voice_meter import FRAME, SENTENCE_GAP_S, frame_levels, prosody, runs, sentences

log = logging.getLogger("intonation_trial")
PRACTICE = Path(__file__).resolve().parents[1] / "meditations" / "self-compassion-break.md"
LONG_PAUSE_MS = 3000  # a pause at least this long starts a new paragraph (a lift)


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
