"""How long a slow voice will take to say a phrase, known from the text alone.

Kokoro costs about a CPU-second per second of speech, so measuring a practice's feasible
range by speaking it took minutes on a cold cache. Its length is predictable instead: the
articulation grows with the letters spoken (per voice, calibrated on the bundled
library by ``scripts/calibrate_estimate.py``), scaled by the rate (Kokoro's speed is not
linear: 0.9 to 0.8 slows it by about 1.17, an exponent of 1.33), plus the pauses the pace
sets at the sentence ends and commas inside the phrase. Every estimate comes with a
margin on each side (``Articulation.margin``: the calibration's worst relative error on
a practice, with room to spare), so a range built from the long side never starts below
what the voice can do and one from the short side never ends above it. The render still
speaks every phrase and fits the length to the sample.
"""

from __future__ import annotations

from dataclasses import dataclass

from kindvoice.speech.pauses import marks

RATE_EXPONENT = 1.33


@dataclass(frozen=True)
class Articulation:
    """Seconds of speech for a phrase of ``letters`` at ``rate``: ``(a + b * letters)``
    at the calibration rate, scaled by ``(rate_cal / rate) ** RATE_EXPONENT``; ``comma``
    is the share of commas the voice pauses at."""

    a_s: float
    b_s: float
    rate_cal: float
    comma: float = 0.7
    margin: float = 0.15  # relative, each side: the calibration's worst practice, and room


#: by Kokoro voice pack, fitted on the bundled library (see the module docstring)
CALIBRATED: dict[str, Articulation] = {
    "af_heart": Articulation(0.014, 0.07871, 0.8, 0.48, 0.10),  # 76 phrases, worst 7.4 %
    # 30 phrases each from here on (worst practice 11-13 %: one or two phrases a practice)
    "ef_dora": Articulation(0.300, 0.07734, 0.8, 0.70),
    "ff_siwis": Articulation(0.101, 0.07290, 0.8, 1.00),
    "if_sara": Articulation(0.463, 0.07626, 0.8, 0.52),
    "pf_dora": Articulation(0.471, 0.07320, 0.8, 0.75),
}
#: a voice not calibrated yet: a middle articulation, and a wide margin
FALLBACK = Articulation(0.30, 0.0760, 0.8, 0.7, 0.20)
SURE_SENTENCES = 0.85  # the share of sentence ends a voice surely pauses at
SURE_COMMAS = 0.3  # and of commas


def letters(text: str) -> int:
    return sum(ch.isalpha() for ch in text)


def phrase_seconds(
    text: str, voice_pack: str, rate: float, sentence_gap_ms: int, comma_gap_ms: int
) -> tuple[float, float, float]:
    """(short, central, long) estimates of a phrase's length in seconds."""
    fit = CALIBRATED.get(voice_pack, FALLBACK)
    margin = fit.margin
    speech = (fit.a_s + fit.b_s * letters(text)) * (fit.rate_cal / rate) ** RATE_EXPONENT
    found = marks(text)
    sentence_s = sum(m.sentence for m in found) * sentence_gap_ms / 1000.0
    comma_s = (len(found) - sum(m.sentence for m in found)) * comma_gap_ms / 1000.0
    # a mark the voice does not pause at gets no gap: the short side counts few of them
    short = speech * (1 - margin) + SURE_SENTENCES * sentence_s + SURE_COMMAS * comma_s
    central = speech + sentence_s + fit.comma * comma_s
    return short, central, speech * (1 + margin) + sentence_s + comma_s
