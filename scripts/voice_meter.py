"""How a voice guides, measured as a listener hears one render (issue 21's meters).

    .venv/bin/python scripts/voice_meter.py PRACTICE [--minutes N] [--engine E] [--voice V]

Renders PRACTICE with no background into a temporary WAV (through the phrase cache) and
prints, against the script's own words:

- pace: words a minute across stretches of talk (voiced 10 ms frames, gaps under 2 s
  merged into one stretch) and inside phrases (words over the phrases' own length);
- the least silence between two phrases and between speech and a bell (the timeline);
- prosody: sentences are the phrases' parts between pauses of 0.7 s or more; their
  pitch (an autocorrelation tracker, 70-400 Hz) in semitones: the mean pairwise
  correlation of their first 600 ms ("onset r", one rise repeated reads like a list) and
  the spread of their mean levels ("level SD");
- what PocketSphinx (its US English model ships in the wheel) hears: the word error rate
  against the transcript (English scripts only).
"""

from __future__ import annotations

import argparse
import itertools
import re
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

from kindvoice.audio import SAMPLE_RATE
from kindvoice.export.tags import transcript
from kindvoice.pipeline import RenderResult, render
from kindvoice.settings import MixSettings, RenderRequest, VoiceSettings

FRAME = SAMPLE_RATE // 100  # 10 ms
STRETCH_GAP_S = 2.0
SENTENCE_GAP_S = 0.7
ONSET_S = 0.6


def words(text: str) -> list[str]:
    return re.findall(r"[\w']+", text.lower())


def frame_levels(x: np.ndarray) -> np.ndarray:
    n = len(x) // FRAME
    e = np.mean(x[: n * FRAME].astype(np.float64).reshape(n, FRAME) ** 2, axis=1)
    return 10 * np.log10(e + 1e-20)


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) frame indices of the True runs."""
    out, i, n = [], 0, len(mask)
    while i < n:
        if mask[i]:
            j = i
            while j < n and mask[j]:
                j += 1
            out.append((i, j))
            i = j
        else:
            i += 1
    return out


def stretches_s(x: np.ndarray) -> float:
    """Seconds of talk: voiced frames, with gaps under 2 s merged."""
    level = frame_levels(x)
    voiced = runs(level > np.percentile(level[level > -100], 95) - 35)
    merged: list[list[int]] = []
    for a, b in voiced:
        if merged and (a - merged[-1][1]) * 0.01 < STRETCH_GAP_S:
            merged[-1][1] = b
        else:
            merged.append([a, b])
    return sum(b - a for a, b in merged) * 0.01


def f0_track(x: np.ndarray) -> np.ndarray:
    """Pitch in Hz per 10 ms hop (NaN where unvoiced), 30 ms windows."""
    win, lo, hi = 3 * FRAME, SAMPLE_RATE // 400, SAMPLE_RATE // 70
    level = frame_levels(x)
    loud = np.percentile(level[level > -100], 95) - 30
    out = np.full(len(level), np.nan)
    for n in range(len(level)):
        seg = x[n * FRAME : n * FRAME + win].astype(np.float64)
        if len(seg) < win or level[n] < loud:
            continue
        seg = seg - seg.mean()
        ac = np.correlate(seg, seg, mode="full")[win - 1 :]
        if ac[0] <= 0:
            continue
        ac = ac / ac[0]
        lag = lo + int(np.argmax(ac[lo:hi]))
        if ac[lag] > 0.5:
            out[n] = SAMPLE_RATE / lag
    return out


def sentences(phrase: np.ndarray) -> list[np.ndarray]:
    """A phrase cut at its pauses of 0.7 s or more."""
    level = frame_levels(phrase)
    quiet = runs(level < level.max() - 40)
    cuts = [0] + [(a + b) // 2 * FRAME for a, b in quiet if (b - a) * 0.01 >= SENTENCE_GAP_S]
    cuts.append(len(phrase))
    return [phrase[a:b] for a, b in itertools.pairwise(cuts) if b - a > SAMPLE_RATE // 2]


def prosody(pieces: list[np.ndarray]) -> tuple[float, float, int]:
    """(onset r, level SD in semitones, sentences measured)."""
    tracks = [f0_track(p) for p in pieces]
    voiced = np.concatenate([t[np.isfinite(t)] for t in tracks])
    ref = float(np.median(voiced))
    onsets, levels = [], []
    n_onset = round(ONSET_S * 100)
    for t in tracks:
        st = 12 * np.log2(t / ref)
        good = np.isfinite(st)
        if good.sum() < 10:
            continue
        levels.append(float(np.nanmean(st)))
        head = st[:n_onset]
        if np.isfinite(head).sum() >= n_onset // 2:
            idx = np.arange(n_onset)
            ok = np.isfinite(head)
            onsets.append(np.interp(idx, idx[: len(head)][ok], head[ok]))
    pairs = [
        float(np.corrcoef(a, b)[0, 1])
        for a, b in itertools.combinations(onsets, 2)
        if np.std(a) > 0 and np.std(b) > 0
    ]
    return float(np.mean(pairs)), float(np.std(levels)), len(levels)


def wer(ref: list[str], hyp: list[str]) -> float:
    d = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, d[0] = d[0], i
        for j, h in enumerate(hyp, 1):
            prev, d[j] = d[j], min(d[j] + 1, d[j - 1] + 1, prev + (r != h))
    return d[len(hyp)] / max(len(ref), 1)


def recognize(x: np.ndarray) -> list[str]:
    from pocketsphinx import Decoder
    from scipy.signal import resample_poly

    pcm = np.clip(resample_poly(x, 1, 3) * 32767, -32768, 32767).astype(np.int16)
    decoder = Decoder(samprate=16000)
    decoder.start_utt()
    decoder.process_raw(pcm.tobytes(), full_utt=True)
    decoder.end_utt()
    hyp = decoder.hyp()
    return hyp.hypstr.lower().split() if hyp is not None else []


def measure(result: RenderResult, audio: np.ndarray, english: bool) -> None:
    timeline = result.prepared.timeline
    said = transcript(timeline)
    spoken = [w for line in said.splitlines() if not line.startswith("## ") for w in words(line)]
    talk_s = stretches_s(audio)
    phrases_s = sum(e.length for e in timeline.speech) / SAMPLE_RATE
    print(f"length                   {result.seconds:.3f} s, {len(spoken)} words")
    print(f"pace, stretches of talk  {len(spoken) / talk_s * 60:.1f} words a minute")
    print(f"pace, inside phrases     {len(spoken) / phrases_s * 60:.1f} words a minute")
    phrase_gap = bell_gap = float("inf")
    for a, b in itertools.pairwise(timeline.events):
        gap = (b.start - a.end) / SAMPLE_RATE
        if a.kind == b.kind == "speech":
            phrase_gap = min(phrase_gap, gap)
        elif a.kind == "speech" and b.kind == "bell":
            bell_gap = min(bell_gap, gap)
    print(f"least gap, phrases       {phrase_gap:.3f} s")
    print(f"least gap, speech-bell   {bell_gap:.3f} s")
    pieces = [
        s for e in timeline.speech for s in sentences(audio[e.start : e.end])
    ]  # every sentence, as heard
    onset_r, level_sd, n = prosody(pieces)
    print(f"prosody                  onset r {onset_r:.2f}, level SD {level_sd:.2f} st ({n})")
    if english:
        heard = recognize(audio)
        print(f"recognizer WER           {wer(spoken, heard):.3f} ({len(heard)} words heard)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("practice")
    parser.add_argument("--minutes", type=float)
    parser.add_argument("--engine")
    parser.add_argument("--voice")
    parser.add_argument("--language")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        out = Path(work) / "bare.wav"
        request = RenderRequest(
            args.practice,
            out,
            length_ms=args.minutes * 60_000 if args.minutes else None,
            voice=VoiceSettings(engine=args.engine, voice=args.voice),
            mix=MixSettings(background="none"),
            language=args.language,
            force=False,
        )
        result = render(request)
        audio, rate = sf.read(out, dtype="float32", always_2d=True)
        assert rate == SAMPLE_RATE
        mono = audio.mean(axis=1)
    english = result.prepared.script.language.lower().startswith("en")
    print(f"{args.practice}: {result.prepared.engine_label}")
    measure(result, mono, english)


if __name__ == "__main__":
    sys.exit(main())
