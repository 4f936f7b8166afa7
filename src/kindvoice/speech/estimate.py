"""How long a slow voice will take to say a phrase, known from the text alone.

Kokoro costs about a CPU-second per second of speech, so measuring a practice's feasible
range by speaking it took minutes on a cold cache. Its length is predictable instead: the
articulation grows with the letters spoken (per voice, calibrated on the bundled
library by ``scripts/calibrate_estimate.py``), scaled by the rate (Kokoro's speed is not
linear: 0.9 to 0.8 slows it by about 1.17, an exponent of 1.33), plus the pauses the pace
sets at the sentence ends and commas inside the phrase. Every estimate comes with a
margin on each side (``Articulation.margin``: at least what bounds every practice of the
calibration, and about its worst relative error on a practice), so a range built from
the long side never starts below what the voice can do and one from the short side never
ends above it. The render still speaks every phrase and fits the length to the sample.
"""

from __future__ import annotations

from dataclasses import dataclass

from kindvoice.speech.pauses import marks

RATE_EXPONENT = 1.33


@dataclass(frozen=True)
class Articulation:
    """Seconds of speech for a phrase of ``letters`` at ``rate``: ``(a + b * letters)``
    at the calibration rate, scaled by ``(rate_cal / rate) ** RATE_EXPONENT``; ``comma``
    is what a comma costs on average, in comma gaps: the share of commas the voice pauses
    at, times how long (above 1 when its own pauses there run longer than the pace's gap,
    which is never shortened)."""

    a_s: float
    b_s: float
    rate_cal: float
    comma: float = 0.7
    margin: float = 0.15  # relative, each side: the calibration's worst practice, and room


#: by Kokoro voice pack, fitted on the bundled library (see the module docstring), with
#: KOKORO_FORMAT 4's style rows (about 6 % slower than 3's). In the comments: the phrases
#: fitted, the worst error of a practice's total, and the least margin whose short and
#: long sides bound every practice (``scripts/calibrate_estimate.py`` prints all three)
CALIBRATED: dict[str, Articulation] = {
    "af_heart": Articulation(0.616, 0.06754, 0.8, 1.58, 0.17),  # 66: 12.9 %, 15.5 %
    "ef_dora": Articulation(0.846, 0.07026, 0.8, 0.68, 0.12),  # 66: 7.9 %, 3.6 %
    "ff_siwis": Articulation(0.838, 0.06556, 0.8, 1.07, 0.18),  # 35: 18.2 %, 15.4 %
    "if_sara": Articulation(0.760, 0.06734, 0.8, 1.24, 0.28),  # 37: 36.9 %, 27.1 %
    "pf_dora": Articulation(0.662, 0.07528, 0.8, 0.00, 0.31),  # 36: 36.3 %, 31.0 %
}
#: a voice not calibrated yet: a middle articulation, and a wide margin
FALLBACK = Articulation(0.30, 0.0760, 0.8, 0.7, 0.20)
SURE_SENTENCES = 0.85  # the share of sentence ends a voice surely pauses at
SURE_COMMAS = 0.3  # and of commas


def letters(text: str) -> int:
    return sum(ch.isalpha() for ch in text)


def articulation_seconds(text: str, voice_pack: str, rate: float) -> float:
    """The central estimate of a phrase's speech without the pace's gaps, in seconds."""
    fit = CALIBRATED.get(voice_pack, FALLBACK)
    return float((fit.a_s + fit.b_s * letters(text)) * (fit.rate_cal / rate) ** RATE_EXPONENT)


def phrase_seconds(
    text: str, voice_pack: str, rate: float, sentence_gap_ms: int, comma_gap_ms: int
) -> tuple[float, float, float]:
    """(short, central, long) estimates of a phrase's length in seconds."""
    fit = CALIBRATED.get(voice_pack, FALLBACK)
    margin = fit.margin
    speech = articulation_seconds(text, voice_pack, rate)
    found = marks(text)
    sentence_s = sum(m.sentence for m in found) * sentence_gap_ms / 1000.0
    comma_s = (len(found) - sum(m.sentence for m in found)) * comma_gap_ms / 1000.0
    # a mark the voice does not pause at gets no gap: the short side counts few of them
    short = speech * (1 - margin) + SURE_SENTENCES * sentence_s + SURE_COMMAS * comma_s
    central = speech + sentence_s + fit.comma * comma_s
    return short, central, speech * (1 + margin) + sentence_s + max(1.0, fit.comma) * comma_s
