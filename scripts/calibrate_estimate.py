"""Fit the text-length estimate of a Kokoro voice on the bundled library, and check it.

    .venv/bin/python scripts/calibrate_estimate.py [--voice heart] [--phrases 60] [--workers 2]

Speaks a spread of the library's phrases in the voice's language (every Nth phrase of
every practice, shortest to longest; through the phrase cache, so a second run is quick)
at the default practice pace, plain (the intonation a script asks for is set afterwards
and never changes a length), fits ``seconds = (a + b * letters) + gaps`` by least squares
(the gaps the pace sets at the sentence ends and commas inside each phrase, the comma
share fitted too), then prints the fitted ``Articulation`` for ``speech/estimate.py`` and,
with the coefficients now in the package, each practice's sampled speech: spoken against
estimated, and whether the short and long sides bound it. The worst relative error sets
the voice's margin in ``speech/estimate.py``.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

from kindvoice.audio import SAMPLE_RATE
from kindvoice.settings import VoiceSettings
from kindvoice.speech import estimate, kokoro_voices
from kindvoice.speech.base import choose_voice
from kindvoice.speech.cache import PhraseCache
from kindvoice.speech.pauses import marks
from kindvoice.speech.synth import synthesize_phrases
from kindvoice.template.parse import load_template

ROOT = Path(__file__).resolve().parents[1] / "meditations"


def library(language: str) -> dict[str, list[str]]:
    """Practice file -> its spoken texts, for the bundled practices in ``language``."""
    folder = ROOT if language.startswith("en") else ROOT / language
    found: dict[str, list[str]] = {}
    for path in sorted(folder.glob("*.md")):
        if path.name == "TEMPLATE_FORMAT.md":
            continue
        script = load_template(path)
        if script.meta.kind != "timer":
            found[path.stem] = list(script.spoken_texts().values())
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voice", default="heart")
    parser.add_argument("--phrases", type=int, default=60, help="about this many in all")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    voice = kokoro_voices.find_voice(args.voice)
    spec = choose_voice(VoiceSettings(engine="kokoro", voice=voice.name))
    texts = library(voice.language.split("-")[0] if voice.language != "pt-BR" else "pt-BR")
    every = max(1, sum(len(t) for t in texts.values()) // args.phrases)
    sample = {p: sorted(t, key=len)[::every] for p, t in texts.items()}
    unique = sorted({t for ts in sample.values() for t in ts})
    print(f"{voice.name} at {spec.rate:g}: speaking {len(unique)} phrases", file=sys.stderr)
    audio = synthesize_phrases(spec, unique, PhraseCache(), args.workers)
    seconds = {t: len(a) / SAMPLE_RATE for t, a in audio.items()}

    # seconds - sentence gaps = a + b * letters + q * comma gaps
    rows, target = [], []
    for text in unique:
        found = marks(text)
        sentences = sum(m.sentence for m in found)
        commas = len(found) - sentences
        rows.append([1.0, estimate.letters(text), commas * spec.comma_gap_ms / 1000])
        target.append(seconds[text] - sentences * spec.sentence_gap_ms / 1000)
    (a, b, q), *_ = np.linalg.lstsq(np.array(rows), np.array(target), rcond=None)
    share = max(q, 0.0)  # above 1: the voice's own comma pauses run longer than the gap
    print(f'    "{voice.pack}": Articulation({a:.3f}, {b:.5f}, {spec.rate:g}, {share:.2f}),')

    worst = 0.0
    fit = estimate.CALIBRATED.get(voice.pack, estimate.FALLBACK)
    totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0, 0.0])
    for practice, ts in sample.items():
        for text in ts:
            short, central, long = estimate.phrase_seconds(
                text, voice.pack, spec.rate, spec.sentence_gap_ms, spec.comma_gap_ms
            )
            row = totals[practice]
            row[0] += seconds[text]
            row[1] += short
            row[2] += central
            row[3] += long
            row[4] += estimate.articulation_seconds(text, voice.pack, spec.rate)
    print(f"{'practice':28} spoken  central  error   short..long  bounded")
    needed = 0.0  # the least margin whose short and long sides bound every practice
    for practice, (spoken, short, central, long, speech) in sorted(totals.items()):
        error = central / spoken - 1
        worst = max(worst, abs(error))
        long_gaps, short_gaps = long - speech * (1 + fit.margin), short - speech * (1 - fit.margin)
        needed = max(needed, (spoken - long_gaps) / speech - 1, 1 - (spoken - short_gaps) / speech)
        inside = "yes" if short <= spoken <= long else "NO"
        print(
            f"{practice:28} {spoken:6.1f} {central:8.1f} {error:+6.1%}"
            f"  {short:6.1f}..{long:<6.1f} {inside}"
        )
    print(
        f"worst error on a practice: {worst:.1%}; the least margin that bounds every practice:"
        f" {needed:.1%} (margin in the package: {fit.margin:.0%})"
    )


if __name__ == "__main__":
    main()
