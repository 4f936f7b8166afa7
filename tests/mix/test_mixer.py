"""The block mixer and the background envelope, on synthetic sounds (exact positions)."""

from __future__ import annotations

import numpy as np

from kindvoice.audio import SAMPLE_RATE
from kindvoice.mix.mixer import BedShape, Envelope, Mixer
from kindvoice.mix.timeline import Chapter, Event, Quiet, Timeline
from kindvoice.sound.beds import make_bed


def test_sounds_land_on_their_exact_samples_across_block_edges() -> None:
    click = np.zeros(100, dtype=np.float32)
    click[0] = 0.5
    click[99] = -0.25
    starts = [0, 47_950, 48_000, 95_999, 120_001]  # some straddle one-second blocks
    events = tuple(Event(s, 100, "speech", "click", text="click") for s in starts)
    total = 3 * SAMPLE_RATE
    timeline = Timeline(total, events, (), (Chapter("all", 0, total),))
    mixer = Mixer(
        timeline, {("speech", "click", 1): click}, make_bed("none"), BedShape(gain=1.0, rise_db=0)
    )
    out = np.concatenate(list(mixer.blocks()))
    assert out.shape == (total, 2)
    expected = np.zeros(total, dtype=np.float32)
    for s in starts:
        expected[s] += 0.5
        expected[s + 99] -= 0.25
    assert np.allclose(out[:, 0], expected, atol=1e-6)
    assert np.allclose(out[:, 1], expected, atol=1e-6)


def test_a_part_that_ends_between_milliseconds_keeps_every_sample() -> None:
    """A section preview ending 13 samples after a whole millisecond, with speech in its
    last block, came out 13 samples short (pydub's overlay cuts to whole ms), and the
    render stopped with an internal error."""
    tone = np.full(2_000, 0.25, dtype=np.float32)
    total = 2 * SAMPLE_RATE + 35_053
    events = (Event(total - 1_000, 1_000, "speech", "tone", text="tone"),)
    timeline = Timeline(total, events, (), (Chapter("all", 0, total),))
    mixer = Mixer(
        timeline, {("speech", "tone", 1): tone}, make_bed("none"), BedShape(gain=1.0, rise_db=0)
    )
    for begin, stop in ((0, total), (1_000, total - 7)):
        out = np.concatenate(list(mixer.blocks(begin, stop)))
        assert out.shape == (stop - begin, 2)
        assert np.allclose(out[stop - begin - 1_000 + (total - stop) :, 0], 0.25)


def test_background_ducks_under_speech_and_rises_in_long_silence() -> None:
    total = 60 * SAMPLE_RATE
    speech = Event(10 * SAMPLE_RATE, 5 * SAMPLE_RATE, "speech", "x", text="x")
    timeline = Timeline(total, (speech,), (Quiet(40 * SAMPLE_RATE, 55 * SAMPLE_RATE, True),), ())
    env = Envelope(timeline, BedShape(gain=0.1, rise_db=6.0, silence_db=-12.0))
    g = env.gains(0, total)
    at = lambda s: float(g[int(s * SAMPLE_RATE)])  # noqa: E731
    assert at(12) == np.float32(0.1)  # under speech: the base level
    assert at(27) > 0.19  # far from speech: about +6 dB
    assert at(48) < 0.03  # inside [silence]: about -12 dB
    assert at(0.0) == 0.0 and g[-1] < 1e-3  # faded in and out
    assert np.max(np.abs(np.diff(g))) < 1e-4  # smooth: no zipper steps
