"""Encoding: float blocks in, a finished file out, written atomically.

The format follows the output's extension: ``.mp3`` through lameenc (CBR, streaming),
``.wav`` and ``.flac`` through soundfile, ``.m4a``/``.opus``/``.ogg`` through the ffmpeg
binary (``ffmpeg_encode``). Every writer writes a temporary file beside the
output and only ``commit()`` renames it into place, so a failed or interrupted render
leaves nothing half-written and never harms a file already at that path.

lameenc writes no Xing/LAME header, so players would not know the encoder delay and
padding and every MP3 would be ~1,100 samples too long with a gap at the start. After
encoding we write a LAME "Info" frame (frame count, delay, padding) into a frame reserved
at the start, which makes ffmpeg, mutagen and gapless players report the exact length.
"""

from __future__ import annotations

import contextlib
import glob
import logging
import os
import struct
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

import numpy as np
import numpy.typing as npt

from kindvoice.audio import SAMPLE_RATE, Stereo
from kindvoice.errors import AudioIOError, UsageError

log = logging.getLogger(__name__)

FORMATS = {
    ".mp3": "mp3",
    ".wav": "wav",
    ".flac": "flac",
    ".m4a": "m4a",
    ".opus": "opus",
    ".ogg": "ogg",
}
FFMPEG_FORMATS = frozenset({"m4a", "opus", "ogg"})  # encoded by the ffmpeg binary

_LAME_DELAY = 576  # lameenc's encoder delay (samples), measured: the decoder adds 529 more
_SAMPLES_PER_FRAME = 1152


def _tpdf_table(frames: int = 1 << 16) -> npt.NDArray[np.float32]:
    """Triangular dither, one 16-bit step wide, for two channels (seeded: reproducible),
    stored twice over so any run of up to ``frames`` rows is one slice."""
    rng = np.random.default_rng(0)
    table = rng.random((frames, 2), dtype=np.float32) - rng.random((frames, 2), dtype=np.float32)
    return np.concatenate([table, table])


_DITHER = _tpdf_table()


def public_mode() -> int:
    """The permissions a new file gets normally (0o666 less the umask): ``mkstemp`` makes
    temporary files private (0o600), which a web server publishing a feed cannot read."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def format_for(path: Path) -> str:
    """The format an output path asks for, by its extension."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        choices = ", ".join(FORMATS)
        raise UsageError(
            f"Unknown output format '{path.suffix or path.name}'. Use one of: {choices}"
        )
    if fmt in FFMPEG_FORMATS:  # no ffmpeg: fail now, before any speech is synthesized
        from kindvoice.export.ffmpeg_encode import ffmpeg_exe

        ffmpeg_exe()
    return fmt


class Writer:
    """Streams float blocks into a temporary file; ``commit()`` moves it to ``path``.

    ``chapters`` (title, start, end in samples) are only used by formats that must carry
    them from the encoder (m4a); the others get theirs from ``tags.write_tags``."""

    def __init__(
        self,
        path: Path,
        channels: int,
        bitrate_kbps: int = 128,
        quality: int = 5,
        chapters: Sequence[tuple[str, int, int]] = (),
    ):
        self.path = path
        self.format = format_for(path)
        self.channels = channels
        self.samples = 0
        folder = path.parent if str(path.parent) else Path(".")
        if not folder.is_dir():
            raise AudioIOError(f"Output folder '{folder}' does not exist. Create it first.")
        _remove_orphans(folder, path.name)
        try:
            prefix = f".{path.name}.{os.getpid()}."
            fd, name = tempfile.mkstemp(prefix=prefix, suffix=".part", dir=folder)
        except OSError as exc:
            raise AudioIOError(f"Cannot write in '{folder}': {exc.strerror}.") from exc
        os.close(fd)
        self.tmp = Path(name)
        self._dither_at = 0
        try:
            if self.format == "mp3":
                import lameenc

                self._file: BinaryIO = open(self.tmp, "wb")  # noqa: SIM115 - closed in finish
                self._encoder = lameenc.Encoder()
                self._encoder.set_bit_rate(bitrate_kbps)
                self._encoder.set_in_sample_rate(SAMPLE_RATE)
                self._encoder.set_channels(channels)
                self._encoder.set_quality(quality)
                self._encoder.silence()
                self._frame_bytes = 144 * bitrate_kbps * 1000 // SAMPLE_RATE
                self._file.write(b"\0" * self._frame_bytes)  # room for the Info frame
                self._first_header: bytes | None = None
                self._frames = 0
            elif self.format in FFMPEG_FORMATS:
                from kindvoice.export.ffmpeg_encode import FfmpegEncoder

                self._ff = FfmpegEncoder(self.tmp, self.format, channels, bitrate_kbps, chapters)
            else:
                import soundfile

                subtype = "PCM_16" if self.format == "wav" else "PCM_24"
                self._sf = soundfile.SoundFile(
                    self.tmp,
                    "w",
                    SAMPLE_RATE,
                    channels,
                    subtype=subtype,
                    format=self.format.upper(),
                )
        except BaseException:
            self.abort()
            raise

    def write(self, block: Stereo) -> None:
        """Append float audio of shape (n, channels)."""
        self.samples += len(block)
        try:
            if self.format == "mp3":
                self._write_mp3(self._encoder.encode(self._pcm16(block)))
            elif self.format in FFMPEG_FORMATS:
                self._ff.write(block)
            else:
                self._sf.write(block)
        except OSError as exc:
            self.abort()
            raise AudioIOError(f"Cannot write '{self.path}': {exc.strerror or exc}.") from exc

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

    def _write_mp3(self, data: bytes) -> None:
        if not data:
            return
        if self._first_header is None:
            self._first_header = bytes(data[:4])
        self._file.write(data)

    def finish(self) -> Path:
        """Close the temporary file (complete, tags not yet written) and return its path."""
        try:
            if self.format == "mp3":
                self._write_mp3(self._encoder.flush())
                self._file.flush()
                total_bytes = self._file.tell()
                self._frames = total_bytes // self._frame_bytes - 1
                self._file.seek(0)
                self._file.write(self._info_frame(total_bytes))
                self._file.close()
            elif self.format in FFMPEG_FORMATS:
                self._ff.close()
            else:
                self._sf.close()
        except OSError as exc:
            self.abort()
            raise AudioIOError(f"Cannot write '{self.path}': {exc.strerror or exc}.") from exc
        return self.tmp

    def commit(self) -> Path:
        """Make the finished file durable and rename it over the output path."""
        try:
            with open(self.tmp, "rb+") as f:
                os.fsync(f.fileno())
            os.chmod(self.tmp, public_mode())
            os.replace(self.tmp, self.path)
        except OSError as exc:
            self.abort()
            raise AudioIOError(f"Cannot write '{self.path}': {exc.strerror or exc}.") from exc
        return self.path

    def abort(self) -> None:
        """Drop the temporary file; the output path is left as it was."""
        encoder = getattr(self, "_ff", None)
        if encoder is not None:
            encoder.kill()
        for closer in ("_file", "_sf"):
            handle = getattr(self, closer, None)
            if handle is not None:
                with contextlib.suppress(Exception):
                    handle.close()
        with contextlib.suppress(OSError):
            self.tmp.unlink()

    def _info_frame(self, total_bytes: int) -> bytes:
        """A LAME-style "Info" frame (CBR Xing header) with frames, delay and padding."""
        header = bytearray(self._first_header or b"\xff\xfb\x94\x44")
        header[2] &= 0xFD  # no padding bit: the frame is exactly _frame_bytes long
        frame = bytearray(self._frame_bytes)
        frame[0:4] = header
        mono = (header[3] >> 6) == 3
        offset = 4 + (17 if mono else 32)
        padding = self._frames * _SAMPLES_PER_FRAME - _LAME_DELAY - self.samples
        padding = max(0, min(padding, 4095))
        toc = bytes(min(255, i * 256 // 100) for i in range(100))
        tag = b"Info" + struct.pack(">III", 0x0F, self._frames, total_bytes) + toc
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


def _remove_orphans(folder: Path, name: str) -> None:
    """Delete temporary files a killed render (kill -9, power loss) left for this output:
    their names carry the writer's process id, and that process is gone."""
    for part in folder.glob(f".{glob.escape(name)}.*.part"):
        pid_text = part.name[len(name) + 2 :].split(".", 1)[0]
        if not pid_text.isdigit() or _alive(int(pid_text)):
            continue
        log.debug("removing %s, left by a render that did not finish", part)
        with contextlib.suppress(OSError):
            part.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _crc16(data: bytes) -> int:
    """CRC-16/ARC (polynomial 0x8005, reflected), as LAME computes its tag CRC."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc
