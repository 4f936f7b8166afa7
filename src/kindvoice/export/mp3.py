"""MP3 encoding: lameenc across the cores, 16-bit dither, and the LAME "Info" frame.

LAME is most of a render's work, and one encoder uses one core. So the audio is encoded
in 30-second shares, each by a fresh encoder on a thread of its own (lameenc releases the
GIL while it encodes), and the shares are joined into one stream:

- each encoder hears ``_PREROLL_FRAMES`` of the audio before its share and
  ``_POSTROLL_FRAMES`` after it, so its state (the psychoacoustic model, the MDCT's
  overlap) is warm where the shares meet, and both encoders coded the same signal there;
- the join falls on the first frame ``g`` at or after the boundary where the new
  encoder's bit reservoir holds no more than the old one's (``main_data_begin``): frame
  ``g``'s first bytes are copied into the old stream's frames just before it, into bytes
  the old stream kept for its own frame ``g`` and no earlier frame reads, so every frame
  finds its data. Where no such frame comes within ``_SPLICE_FRAMES``, the two shares are
  encoded again as one, which is always right.

Shares and joins depend only on the audio, never on timing or the number of cores: the
same input gives the same bytes. Only a few shares are in flight, so memory stays flat.
A session shorter than one share is one plain encode.

lameenc writes no Xing/LAME header, so players would not know the encoder delay and
padding and every MP3 would be ~1,100 samples too long with a gap at the start.
``finish`` writes a LAME "Info" frame (frame count, delay, padding) into a frame reserved
at the start, which makes ffmpeg, mutagen and gapless players report the exact length.
"""

from __future__ import annotations

import logging
import os
import struct
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, BinaryIO, ParamSpec, TypeVar

import numpy as np
import numpy.typing as npt

from kindvoice.audio import SAMPLE_RATE, Stereo

log = logging.getLogger(__name__)

_LAME_DELAY = 576  # lameenc's encoder delay (samples), measured: the decoder adds 529 more
_SAMPLES_PER_FRAME = 1152
_SHARE_FRAMES = 1250  # one encoder's share: 30 s at 48 kHz
_PREROLL_FRAMES = 32  # audio an encoder hears before its share (0.77 s)
_SPLICE_FRAMES = 24  # the join falls within this many frames after the boundary
_POSTROLL_FRAMES = _SPLICE_FRAMES + 8  # audio after the share: frames to the join are whole


def _tpdf_table(frames: int = 1 << 16) -> npt.NDArray[np.float32]:
    """Triangular dither, one 16-bit step wide, for two channels (seeded: reproducible),
    stored twice over so any run of up to ``frames`` rows is one slice."""
    rng = np.random.default_rng(0)
    table = rng.random((frames, 2), dtype=np.float32) - rng.random((frames, 2), dtype=np.float32)
    return np.concatenate([table, table])


_DITHER = _tpdf_table()


#: 16-bit interleaved audio in pieces: (index of the piece's first sample, its bytes)
Pieces = list[tuple[int, bytes]]


def _span(pieces: Iterable[tuple[int, bytes]], start: int, stop: int, sample_bytes: int) -> Pieces:
    """Samples ``start`` .. ``stop`` of ``pieces``, as pieces (whole ones are shared, not
    copied)."""
    out: Pieces = []
    for first, data in pieces:
        last = first + len(data) // sample_bytes
        if last <= start or first >= stop:
            continue
        if first >= start and last <= stop:
            out.append((first, data))
        else:
            a, b = max(start, first), min(stop, last)
            out.append((a, data[(a - first) * sample_bytes : (b - first) * sample_bytes]))
    return out


@dataclass
class _Share:
    """One encoder's work: its audio, from sample ``pcm_start`` (a frame boundary), and,
    once ``future`` is done, its frames, the first being frame ``first_frame`` of the
    stream."""

    index: int
    pcm_start: int
    pcm: Pieces
    future: Future[bytes] | None = None
    frames: bytes | bytearray = b""

    @property
    def first_frame(self) -> int:
        return self.pcm_start // _SAMPLES_PER_FRAME


class _Lame:
    """The encoder settings, and the frame layout they give."""

    def __init__(self, channels: int, bitrate_kbps: int, quality: int) -> None:
        self.channels, self.bitrate_kbps, self.quality = channels, bitrate_kbps, quality
        self.frame_bytes = 144 * bitrate_kbps * 1000 // SAMPLE_RATE
        self.payload_at = 4 + (17 if channels == 1 else 32)  # header, then side info
        self.sample_bytes = 2 * channels

    def encoder(self) -> Any:
        """A fresh lameenc encoder with these settings."""
        import lameenc

        encoder = lameenc.Encoder()
        encoder.set_bit_rate(self.bitrate_kbps)
        encoder.set_in_sample_rate(SAMPLE_RATE)
        # LAME would resample low stereo bitrates (64 kbps: 24 kHz, 96: 32 kHz) into a
        # layout with no Info frame, ~48 ms too long in every player: keep 48 kHz
        encoder.set_out_sample_rate(SAMPLE_RATE)
        encoder.set_channels(self.channels)
        encoder.set_quality(self.quality)
        encoder.silence()
        return encoder

    def encode(self, pcm: Pieces) -> bytes:
        """A whole stream from a fresh encoder: ``pcm``, piece after piece, flushed."""
        encoder = self.encoder()
        out = [encoder.encode(data) for _, data in pcm]
        return b"".join([*out, encoder.flush()])

    def splittable(self) -> bool:
        """Whether these settings give MPEG-1 frames at 48 kHz, all ``frame_bytes`` long
        (the output rate is forced to 48 kHz, so they should; a stream that is not is
        encoded in one piece, as it comes, and gets no Info frame)."""
        probe = self.encode([(0, bytes(self.sample_bytes * _SAMPLES_PER_FRAME * 4))])
        return (
            len(probe) % self.frame_bytes == 0
            and probe[:2] == b"\xff\xfb"  # MPEG-1 layer III, no CRC
            and (probe[2] >> 2) & 3 == 1  # 48 kHz
        )

    def reservoir(self, frames: bytes | bytearray, index: int) -> int:
        """``main_data_begin`` of frame ``index``: how many bytes before its header its
        data starts (what it takes from the bit reservoir)."""
        at = index * self.frame_bytes
        return (frames[at + 4] << 1) | (frames[at + 5] >> 7)

    def is_frame(self, frames: bytes | bytearray, index: int) -> bool:
        at = index * self.frame_bytes
        return index >= 0 and at + self.frame_bytes <= len(frames) and frames[at] == 0xFF


def _join(lame: _Lame, old: _Share, new: _Share, boundary: int) -> int | None:
    """The frame where ``new`` takes over from ``old`` (see the module docstring), its
    first bytes copied into ``old.frames``; None where no frame within
    ``_SPLICE_FRAMES`` of ``boundary`` can be joined."""
    for g in range(boundary, boundary + _SPLICE_FRAMES):
        a, b = g - old.first_frame, g - new.first_frame
        if not (lame.is_frame(old.frames, a) and lame.is_frame(new.frames, b - 2)):
            return None
        need = lame.reservoir(new.frames, b)
        if need > lame.reservoir(old.frames, a):
            continue
        frames = bytearray(old.frames)
        payload = lame.frame_bytes - lame.payload_at
        back = 1
        while need > 0:  # the data bytes before frame g's header, frame by frame backwards
            take = min(need, payload)
            end_a, end_b = (a - back + 1) * lame.frame_bytes, (b - back + 1) * lame.frame_bytes
            frames[end_a - take : end_a] = new.frames[end_b - take : end_b]
            need -= take
            back += 1
        old.frames = frames
        return g
    return None


P = ParamSpec("P")
T = TypeVar("T")


class _InOrder(Executor):
    """Runs each task at once, in the calling thread: with one thread the whole render
    stays on one core (a batch renders one session per core)."""

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        future: Future[T] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:  # not KeyboardInterrupt: Ctrl-C stops the render at once
            future.set_exception(exc)
        return future


class Mp3Stream:
    """Encodes float blocks to CBR MP3 into ``file`` (open for writing, at its start).

    ``write`` adds a block and returns while encoder threads work on earlier shares;
    ``finish`` encodes the rest and writes every frame, then the Info frame; ``abort``
    drops the work in flight. ``workers`` encoder threads (default: one per core, at most
    four); with 1, every share is encoded in the calling thread."""

    def __init__(
        self,
        file: BinaryIO,
        channels: int,
        bitrate_kbps: int,
        quality: int,
        workers: int | None = None,
    ) -> None:
        self._file = file
        self._lame = _Lame(channels, bitrate_kbps, quality)
        self._share = _SHARE_FRAMES * _SAMPLES_PER_FRAME  # samples
        self._workers = workers or min(4, os.cpu_count() or 1)
        self._pool: Executor = (
            ThreadPoolExecutor(self._workers, thread_name_prefix="mp3")
            if self._workers > 1
            else _InOrder()
        )
        # a resampled stream (not splittable) goes straight through one encoder, without
        # an Info frame (its layout is not 48 kHz MPEG-1): players then read it ~1,100
        # samples long
        self._plain = None if self._lame.splittable() else self._lame.encoder()
        if self._plain is None:
            self._file.write(b"\0" * self._lame.frame_bytes)  # room for the Info frame
        self._first_header: bytes | None = None
        self._dither_at = 0
        self._pcm: deque[tuple[int, bytes]] = deque()  # audio received and still needed
        self._received = 0
        self._next = 0  # the next share to start
        self._in_flight: deque[_Share] = deque()
        self._current: _Share | None = None  # joined; its frames from _written on unsent
        self._written = 0  # frames of the stream in the file

    def write(self, block: Stereo) -> None:
        """Add float audio of shape (n, channels)."""
        pcm = self._pcm16(block)
        self._received += len(block)
        if self._plain is not None:
            self._file.write(self._plain.encode(pcm))
            return
        self._pcm.append((self._received - len(block), pcm))
        post = _POSTROLL_FRAMES * _SAMPLES_PER_FRAME
        while self._received >= (self._next + 1) * self._share + post:
            self._start_share(last=False)

    def finish(self, samples: int) -> None:
        """Encode and write everything, then the Info frame for ``samples`` samples; the
        file is left open."""
        if self._plain is not None:
            self._file.write(self._plain.flush())
            self._file.flush()
            return
        self._start_share(last=True)
        while self._in_flight:
            self._take(self._in_flight.popleft())
        assert self._current is not None
        self._send(self._current, None)
        self._pool.shutdown()
        self._file.flush()
        total_bytes = self._file.tell()
        frames = total_bytes // self._lame.frame_bytes - 1
        self._file.seek(0)
        self._file.write(self._info_frame(total_bytes, frames, samples))

    def abort(self) -> None:
        """Drop the shares in flight (safe to call twice)."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._in_flight.clear()

    def _start_share(self, last: bool) -> None:
        """Hand the next share, with its pre- and post-roll, to an encoder thread."""
        k, share, sample_bytes = self._next, self._share, self._lame.sample_bytes
        start = max(0, k * share - _PREROLL_FRAMES * _SAMPLES_PER_FRAME)
        stop = self._received if last else (k + 1) * share + _POSTROLL_FRAMES * _SAMPLES_PER_FRAME
        pcm = _span(self._pcm, start, stop, sample_bytes)
        job = _Share(k, start, pcm, self._pool.submit(self._lame.encode, pcm))
        self._in_flight.append(job)
        self._next += 1
        keep_from = (k + 1) * share - _PREROLL_FRAMES * _SAMPLES_PER_FRAME
        while self._pcm and self._pcm[0][0] + len(self._pcm[0][1]) // sample_bytes <= keep_from:
            self._pcm.popleft()  # no later share hears it
        while len(self._in_flight) > self._workers:
            self._take(self._in_flight.popleft())

    def _take(self, share: _Share) -> None:
        """Join a finished share onto the stream and write what is settled."""
        assert share.future is not None
        share.frames, share.future = share.future.result(), None
        current = self._current
        if current is None:
            self._current = share
            return
        g = _join(self._lame, current, share, share.index * _SHARE_FRAMES)
        if g is None:
            log.debug("no clean join into share %d: encoding it with the one before", share.index)
            head = _span(current.pcm, current.pcm_start, share.pcm_start, self._lame.sample_bytes)
            current.pcm = head + share.pcm
            current.frames = self._lame.encode(current.pcm)
            return
        self._send(current, g)
        self._current = share

    def _send(self, share: _Share, stop: int | None) -> None:
        """Write ``share``'s frames from the first unwritten one up to frame ``stop`` of
        the stream (None: all)."""
        fb = self._lame.frame_bytes
        begin = (self._written - share.first_frame) * fb
        end = len(share.frames) if stop is None else (stop - share.first_frame) * fb
        data = share.frames[begin:end]
        if data and self._first_header is None:
            self._first_header = bytes(data[:4])
        self._file.write(data)
        self._written = share.first_frame + (end // fb)

    def _pcm16(self, block: Stereo) -> bytes:
        # triangular dither of one 16-bit step keeps quiet fades from turning to grit; it
        # is read from a fixed table (same input, same bytes; no per-block random draws)
        n = len(block)
        if n > len(_DITHER) // 2:  # longer than the table: no dither needed to be unique
            parts = [block[i : i + len(_DITHER) // 2] for i in range(0, n, len(_DITHER) // 2)]
            return b"".join(self._pcm16(part) for part in parts)
        dither = _DITHER[self._dither_at : self._dither_at + n, : block.shape[1]]
        self._dither_at = (self._dither_at + n) % (len(_DITHER) // 2)
        scaled = block * np.float32(32767.0) + dither
        np.clip(scaled, -32768.0, 32767.0, out=scaled)
        pcm: bytes = np.rint(scaled).astype("<i2").tobytes()
        return pcm

    def _info_frame(self, total_bytes: int, frames: int, samples: int) -> bytes:
        """A LAME-style "Info" frame (CBR Xing header) with frames, delay and padding."""
        header = bytearray(self._first_header or b"\xff\xfb\x94\x44")
        header[2] &= 0xFD  # no padding bit: the frame is exactly _frame_bytes long
        frame = bytearray(self._lame.frame_bytes)
        frame[0:4] = header
        mono = (header[3] >> 6) == 3
        offset = 4 + (17 if mono else 32)
        padding = frames * _SAMPLES_PER_FRAME - _LAME_DELAY - samples
        padding = max(0, min(padding, 4095))
        toc = bytes(min(255, i * 256 // 100) for i in range(100))
        tag = b"Info" + struct.pack(">III", 0x0F, frames, total_bytes) + toc
        tag += struct.pack(">I", 50)  # quality indicator, as LAME writes it
        lame = bytearray(36)
        lame[0:9] = b"LAME3.100"
        lame[9] = 0x00  # revision 0, CBR
        lame[21:24] = ((_LAME_DELAY << 12) | padding).to_bytes(3, "big")
        body = tag + bytes(lame)
        frame[offset : offset + len(body)] = body
        lame_start = offset + len(tag)
        crc = _crc16(bytes(frame[: lame_start + 34]))  # LAME's tag CRC: all bytes before it
        frame[lame_start + 34 : lame_start + 36] = crc.to_bytes(2, "big")
        return bytes(frame)


def _crc16(data: bytes) -> int:
    """CRC-16/ARC (polynomial 0x8005, reflected), as LAME computes its tag CRC."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc
