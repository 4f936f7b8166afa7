"""The mixer: the timeline becomes audio, block by block, with pydub as the mixing layer.

``session_mixer`` gathers a session's sounds at their levels (the mastered voice, bell
strikes, breathing cue tones) and shapes the background around the voice; ``cut_fades``
fades a preview in and out where it cuts into the session.

Every block (one second by default) starts as a pydub segment of the background for that
stretch of time, its level shaped by the ducking envelope; each sound that overlaps the
block is sliced sample-exactly and overlaid onto it. Nothing holds the whole track, and
no ``+=`` ever grows one: time and memory stay linear in the session's length.

pydub works on integers; segments are 32-bit with 18 dB of headroom (``_SCALE``) so sums of
voice, bells and background never saturate before the limiter sees them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from kindvoice.audio import SAMPLE_RATE, Mono, Stereo, ms_to_samples
from kindvoice.mix.timeline import Event, Timeline

_FRAMES_PER_MS = SAMPLE_RATE // 1000

if TYPE_CHECKING:
    from kindvoice.settings import MixSettings
    from kindvoice.sound.beds.base import Bed

with __import__("warnings").catch_warnings():
    # pydub warns when ffmpeg is absent; the mixer needs none (raw PCM only)
    __import__("warnings").simplefilter("ignore", RuntimeWarning)
    from pydub import AudioSegment

_SCALE = float(2**31) / 8.0  # float 1.0 -> int32 with 18 dB of headroom
BLOCK_SAMPLES = SAMPLE_RATE  # one second
_GRID = 32  # samples between exact evaluations of the background envelope (0.67 ms)


def to_segment(audio: Mono | Stereo, channels: int) -> AudioSegment:
    """Float audio to a pydub segment (int32, house rate, ``channels`` channels)."""
    x = audio if audio.ndim == 2 else audio[:, None]
    if x.shape[1] != channels:
        x = np.repeat(x[:, :1], channels, axis=1) if channels > 1 else x.mean(axis=1)[:, None]
    data = np.clip(x * _SCALE, -(2**31), 2**31 - 1).astype("<i4")
    return AudioSegment(
        data=data.tobytes(), sample_width=4, frame_rate=SAMPLE_RATE, channels=channels
    )


def from_segment(segment: AudioSegment) -> Stereo:
    """A pydub segment back to float audio of shape (n, channels)."""
    data = np.frombuffer(segment.raw_data, dtype="<i4").reshape(-1, segment.channels)
    return (data.astype(np.float32) / np.float32(_SCALE)).astype(np.float32)


@dataclass(frozen=True)
class BedShape:
    """How the background moves: its base gain under speech, how far it may rise in long
    silences, how deep ``[silence]`` takes it, and the duck and rise timings (samples)."""

    gain: float
    rise_db: float
    silence_db: float = -12.0
    attack: int = ms_to_samples(400)
    release: int = ms_to_samples(1200)
    rise_time: int = ms_to_samples(4000)
    fade_in: int = ms_to_samples(2500)
    fade_out: int = ms_to_samples(3500)


def _ramp(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Raised-cosine shaping of a 0..1 ramp."""
    clipped = np.clip(x, 0.0, 1.0)
    return np.asarray(0.5 - 0.5 * np.cos(np.pi * clipped))


class Envelope:
    """The background's gain over time: ducked around speech (and bells), rising in long
    silences, lowered through ``[silence]``, faded in and out at the ends."""

    def __init__(self, timeline: Timeline, shape: BedShape) -> None:
        self.shape = shape
        self.total = timeline.total
        busy = sorted(
            (max(0, e.start - shape.attack), e.end + shape.release)
            for e in timeline.events
            if e.kind == "speech"
        )
        merged: list[list[int]] = []
        for a, b in busy:
            if merged and a <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        self.busy_start = np.array([m[0] for m in merged], dtype=np.int64)
        self.busy_end = np.array([m[1] for m in merged], dtype=np.int64)
        quiet = [q for q in timeline.quiet if q.fade_background]
        self.quiet_start = np.array([q.start for q in quiet], dtype=np.int64)
        self.quiet_end = np.array([q.end for q in quiet], dtype=np.int64)

    @staticmethod
    def _distance(
        t: npt.NDArray[np.int64], starts: npt.NDArray[np.int64], ends: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.float64]:
        """Distance (samples) from each time to the nearest interval; 0 inside one."""
        if len(starts) == 0:
            return np.full(len(t), np.inf)
        i = np.searchsorted(starts, t, side="right") - 1  # the interval starting at or before
        inside = (i >= 0) & (t < ends[np.clip(i, 0, None)])
        after_prev = np.where(i >= 0, t - ends[np.clip(i, 0, None)], np.inf)
        j = np.clip(i + 1, 0, len(starts) - 1)
        before_next = np.where(i + 1 < len(starts), starts[j] - t, np.inf)
        distance = np.minimum(after_prev, before_next).astype(np.float64)
        return np.asarray(np.where(inside, 0.0, distance), dtype=np.float64)

    def gains(self, start: int, n: int) -> npt.NDArray[np.float32]:
        """The background gain for samples ``start`` .. ``start + n``: evaluated every
        ``_GRID`` samples and interpolated (the envelope moves over hundreds of ms)."""
        grid = np.arange(start, start + n + _GRID, _GRID, dtype=np.int64)
        coarse = self._exact(grid)
        if coarse.max() == coarse.min():  # most blocks: steady under speech or in silence
            return np.full(n, coarse[0], dtype=np.float32)
        fine = np.interp(np.arange(start, start + n), grid, coarse)
        return fine.astype(np.float32)

    def _exact(self, t: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        s = self.shape
        away = self._distance(t, self.busy_start, self.busy_end)
        db = s.rise_db * _ramp(away / s.rise_time)
        deep = self._distance(t, self.quiet_start, self.quiet_end)
        # inside [silence] the bed sinks (instead of rising), easing in and out over rise_time
        sink = _ramp(1.0 - deep / s.rise_time)
        db = db * (1.0 - sink) + s.silence_db * sink
        fade = np.minimum(_ramp(t / s.fade_in), _ramp((self.total - t) / s.fade_out))
        return np.asarray(s.gain * 10.0 ** (db / 20.0) * fade, dtype=np.float64)


class Mixer:
    """Renders a timeline to stereo (or mono) float blocks through pydub overlays."""

    def __init__(
        self,
        timeline: Timeline,
        sounds: Mapping[tuple[str, str, int], Mono],
        bed: Bed,
        shape: BedShape,
        *,
        channels: int = 2,
    ) -> None:
        self.timeline = timeline
        self.channels = channels
        self.bed = bed
        self.envelope = Envelope(timeline, shape)
        # each distinct sound (already at its level) becomes a pydub segment once; a mono
        # sound stays mono (half the memory) and each piece of it is spread when overlaid
        self.segments: dict[tuple[str, str, int], AudioSegment] = {}
        for key, audio in sounds.items():
            own = 1 if audio.ndim == 1 else channels
            self.segments[key] = to_segment(audio, own)

    @staticmethod
    def event_key(event: Event) -> tuple[str, str, int]:
        return (event.kind, event.key, event.strikes)

    def blocks(
        self, begin: int = 0, stop: int | None = None, block_samples: int = BLOCK_SAMPLES
    ) -> Iterator[Stereo]:
        """The mix from ``begin`` to ``stop`` (samples; default: all of it), in order, as
        float blocks of shape (n, channels)."""
        events = self.timeline.events
        frame_bytes = 4 * self.channels
        stop = self.timeline.total if stop is None else min(stop, self.timeline.total)
        first = 0  # events before this index have ended
        for start in range(begin, stop, block_samples):
            n = min(block_samples, stop - start)
            end = start + n
            bed = self.bed.render(n)
            bed = bed * self.envelope.gains(start, n)[:, None]
            if self.channels == 1:
                bed = bed.mean(axis=1, keepdims=True)
            # pydub's overlay cuts a segment to whole milliseconds: a last block of
            # 35,053 samples came back as 35,040; it is padded to the next one, then cut
            whole_ms = -(-n // _FRAMES_PER_MS) * _FRAMES_PER_MS
            bed = np.pad(bed, ((0, whole_ms - n), (0, 0)))
            block = to_segment(bed.astype(np.float32), self.channels)
            while first < len(events) and events[first].end <= start:
                first += 1
            for event in events[first:]:
                if event.start >= end:
                    break
                if event.end <= start:
                    continue
                segment = self.segments[self.event_key(event)]
                a = max(0, start - event.start)
                b = min(event.length, end - event.start)
                piece = segment.get_sample_slice(a, b).set_channels(self.channels)
                offset = max(0, event.start - start)
                if offset:  # pad with silence so the overlay lands on the exact sample
                    piece = piece._spawn(b"\0" * (offset * frame_bytes) + piece.raw_data)
                block = block.overlay(piece)
            yield from_segment(block)[:n]


def session_mixer(
    timeline: Timeline,
    voice: Mapping[str, Mono],
    cues: Mapping[str, Mono],
    bed: Bed,
    mix: MixSettings,
    target_lufs: float,
    channels: int,
) -> Mixer:
    """The mixer of a session: the ``voice`` phrases as mastered, bell strikes and the
    ``cues`` tones at their levels relative to the voice's ``target_lufs``, over ``bed``
    ducked around the voice."""
    from kindvoice.audio import db_to_gain
    from kindvoice.sound.beds import BED_REFERENCE_LUFS
    from kindvoice.sound.bells import render_bell

    sounds: dict[tuple[str, str, int], Mono] = {}
    bell_peak = db_to_gain(target_lufs + mix.bell_level_lu)
    cue_peak = np.float32(db_to_gain(target_lufs + mix.cue_level_lu))
    for event in timeline.events:
        key = Mixer.event_key(event)
        if key in sounds:
            continue
        if event.kind == "speech":
            sounds[key] = voice[event.key]
        elif event.kind == "bell":
            sounds[key] = render_bell(event.key, event.strikes, bell_peak, mix.seed)
        else:
            sounds[key] = cues[event.key] * cue_peak
    shape = BedShape(
        gain=db_to_gain(target_lufs + mix.background_level_lu - BED_REFERENCE_LUFS),
        rise_db=mix.background_rise_lu,
        attack=ms_to_samples(mix.duck_attack_ms),
        release=ms_to_samples(mix.duck_release_ms),
        fade_in=ms_to_samples(mix.fade_in_ms),
        fade_out=ms_to_samples(mix.fade_out_ms),
    )
    return Mixer(timeline, sounds, bed, shape, channels=channels)


CUT_FADE_MS = 500


def cut_fades(blocks: Iterable[Stereo], start: int, stop: int) -> Iterator[Stereo]:
    """``blocks`` (the mix from sample ``start`` to ``stop``) with half-second fades where a
    preview cuts into the session, so it neither clicks in nor stops dead."""
    fade = ms_to_samples(CUT_FADE_MS)
    position = start
    for block in blocks:
        t = np.arange(position, position + len(block))
        position += len(block)
        ramp = np.minimum(1.0, np.minimum(t - start, stop - 1 - t) / fade)
        if start == 0:  # the session's own fade-in is already there
            ramp = np.minimum(1.0, (stop - 1 - t) / fade)
        out: Stereo = (block * np.clip(ramp, 0.0, 1.0)[:, None]).astype(np.float32)
        yield out
