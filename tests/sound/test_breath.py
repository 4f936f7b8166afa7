"""Breathing cue tones and their placement in a ``[breathe]`` passage."""

from __future__ import annotations

import numpy as np
import pytest

from kindvoice.audio import SAMPLE_RATE, ms_to_samples
from kindvoice.errors import UnknownNameError, UsageError
from kindvoice.sound.breath import CUE_KINDS, breathe_cues, cue_tone


def pitch_hz(x: np.ndarray) -> float:
    """Dominant frequency of a short stretch (zero-padded FFT, ~1 Hz bins)."""
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x)), n=SAMPLE_RATE))
    return float(np.argmax(spectrum))


@pytest.mark.parametrize("kind", CUE_KINDS)
def test_tone_shape(kind: str) -> None:
    tone = cue_tone(kind)
    assert tone.dtype == np.float32 and tone.ndim == 1
    assert 0.6 * SAMPLE_RATE <= len(tone) <= 1.0 * SAMPLE_RATE
    assert np.abs(tone).max() == pytest.approx(1.0, abs=1e-6)
    assert tone[0] == 0.0 and abs(tone[-1]) < 1e-6
    assert np.abs(np.diff(tone)).max() < 0.1  # a soft tone: no clicks
    assert not tone.flags.writeable


def test_in_rises_out_falls_hold_is_steady() -> None:
    def first_and_last_pitch(kind: str) -> tuple[float, float]:
        tone = cue_tone(kind).astype(np.float64)
        quarter = len(tone) // 4
        return pitch_hz(tone[quarter : 2 * quarter]), pitch_hz(tone[2 * quarter : 3 * quarter])

    early, late = first_and_last_pitch("in")
    assert late > early + 20
    early, late = first_and_last_pitch("out")
    assert late < early - 20
    early, late = first_and_last_pitch("hold")
    assert abs(late - early) < 5
    # and the three are told apart by pitch, not only by direction
    centres = [pitch_hz(cue_tone(k).astype(np.float64)) for k in CUE_KINDS]
    assert len({round(c / 20) for c in centres}) == 3


def test_cue_offsets_follow_the_phases() -> None:
    cues = breathe_cues(4000, 2000, 6000, 3)
    offsets = [offset for offset, _, _ in cues]
    cycle = ms_to_samples(12_000)
    expected = []
    for breath in range(3):
        expected += [breath * cycle, breath * cycle + ms_to_samples(4000)]
        expected += [breath * cycle + ms_to_samples(6000)]
    assert offsets == expected
    assert [kind for _, kind, _ in cues] == list(CUE_KINDS * 3)
    tones = [tone for _, _, tone in cues]
    assert all(tone is cue_tone(kind) for tone, kind in zip(tones, CUE_KINDS * 3, strict=True))


def test_no_hold_cue_without_a_hold() -> None:
    cues = breathe_cues(4000, 0, 6000, 2)
    assert [offset for offset, _, _ in cues] == [0, 192_000, 480_000, 672_000]


@pytest.mark.parametrize(
    ("in_ms", "hold_ms", "out_ms", "count"),
    [(4000, 0, 6000, 4), (4000, 2000, 6000, 1), (500, 300, 700, 5), (3000, 7000, 8000, 2)],
)
def test_tones_fit_inside_their_phase_and_the_passage(
    in_ms: int, hold_ms: int, out_ms: int, count: int
) -> None:
    total = ms_to_samples(count * (in_ms + hold_ms + out_ms))
    cues = breathe_cues(in_ms, hold_ms, out_ms, count)
    starts = [offset for offset, _, _ in cues] + [total]
    for (offset, _, tone), next_start in zip(cues, starts[1:], strict=True):
        assert offset + len(tone) <= next_start
        assert tone[0] == 0.0 and abs(tone[-1]) < 1e-6
    # the whole passage can be laid out without anything spilling past its end
    track = np.zeros(total, dtype=np.float32)
    for offset, _, tone in cues:
        track[offset : offset + len(tone)] += tone
    assert np.abs(track).max() == pytest.approx(1.0, abs=1e-6)


def test_errors() -> None:
    with pytest.raises(UnknownNameError, match="Choose one of: hold, in, out"):
        cue_tone("exhale")
    with pytest.raises(UsageError):
        breathe_cues(4000, 0, 6000, 0)
    with pytest.raises(UsageError):
        breathe_cues(-1, 0, 6000, 2)
