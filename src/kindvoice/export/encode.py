"""Encoding: float blocks in, a finished file out, written atomically.

The format follows the output's extension (the table in ``formats``): ``.mp3`` through
lameenc (CBR, streaming), ``.wav`` and ``.flac`` through soundfile, ``.m4a``/``.opus``/``.ogg``
through the ffmpeg binary (``ffmpeg_encode``). Every writer writes a temporary file beside the
output and only ``commit()`` renames it into place, so a failed or interrupted render
leaves nothing half-written and never harms a file already at that path.

``encode_blocks`` is the loop every render ends in (a session, ``sounds preview``): the
blocks through the true-peak limiter into a ``Writer``.

MP3 is encoded by ``mp3.Mp3Stream``: lameenc on every core, in 30-second shares joined
into one stream, with the LAME "Info" frame that gives players the exact length.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import BinaryIO

from kindvoice import files
from kindvoice.audio import SAMPLE_RATE, Stereo
from kindvoice.errors import AudioIOError, LengthError
from kindvoice.export import formats
from kindvoice.settings import STEREO_BITRATE_KBPS

log = logging.getLogger(__name__)


def format_for(path: Path) -> str:
    """The format an output path asks for, by its extension."""
    spec = formats.by_extension(path)
    if spec.encoder == "ffmpeg":  # no ffmpeg: fail now, before any speech is synthesized
        from kindvoice.export.ffmpeg_encode import ffmpeg_exe

        ffmpeg_exe()
    return spec.name


class Writer:
    """Streams float blocks into a temporary file; ``commit()`` moves it to ``path``.

    ``chapters`` (title, start, end in samples) are only used by formats that must carry
    them from the encoder (m4a); the others get theirs from ``tags.write_tags``.
    ``threads`` is the number of MP3 encoder threads (None: one per core, up to four;
    1: encode in the calling thread)."""

    def __init__(
        self,
        path: Path,
        channels: int,
        bitrate_kbps: int = STEREO_BITRATE_KBPS,
        quality: int = 5,
        chapters: Sequence[tuple[str, int, int]] = (),
        threads: int | None = None,
    ):
        self.path = path
        self.format = format_for(path)
        self.spec = formats.by_name(self.format)
        self.channels = channels
        self.samples = 0
        folder = path.parent if str(path.parent) else Path(".")
        if not folder.is_dir():
            raise AudioIOError(f"Output folder '{folder}' does not exist. Create it first.")
        files.sweep(folder, path.name)
        try:
            fd, self.tmp = files.temp_beside(path)
        except OSError as exc:
            raise AudioIOError(f"Cannot write in '{folder}': {exc.strerror}.") from exc
        os.close(fd)
        try:
            if self.spec.encoder == "lameenc":
                from kindvoice.export.mp3 import Mp3Stream

                self._file: BinaryIO = open(self.tmp, "wb")  # noqa: SIM115 - closed in finish
                self._mp3 = Mp3Stream(self._file, channels, bitrate_kbps, quality, threads)
            elif self.spec.encoder == "ffmpeg":
                from kindvoice.export.ffmpeg_encode import FfmpegEncoder

                self._ff = FfmpegEncoder(self.tmp, self.format, channels, bitrate_kbps, chapters)
            else:
                import soundfile

                self._sf = soundfile.SoundFile(
                    self.tmp,
                    "w",
                    SAMPLE_RATE,
                    channels,
                    subtype=self.spec.soundfile_subtype,
                    format=self.format.upper(),
                )
        except BaseException:
            self.abort()
            raise

    def write(self, block: Stereo) -> None:
        """Append float audio of shape (n, channels)."""
        self.samples += len(block)
        try:
            if self.spec.encoder == "lameenc":
                self._mp3.write(block)
            elif self.spec.encoder == "ffmpeg":
                self._ff.write(block)
            else:
                self._sf.write(block)
        except (OSError, RuntimeError) as exc:  # libsndfile's errors are RuntimeErrors
            self.abort()
            raise AudioIOError(_cannot_write(self.path, exc)) from exc

    def finish(self) -> Path:
        """Close the temporary file (complete, tags not yet written) and return its path."""
        if self.samples == 0 and self.spec.encoder == "lameenc":
            self.abort()  # an MP3 holds at least one frame: no player opens an empty one
            raise LengthError(
                f"Nothing to write to '{self.path}': the render is empty (0 samples); "
                "give the session a length."
            )
        try:
            if self.spec.encoder == "lameenc":
                self._mp3.finish(self.samples)
                self._file.close()
            elif self.spec.encoder == "ffmpeg":
                self._ff.close()
            else:
                self._sf.close()
        except (OSError, RuntimeError) as exc:
            self.abort()
            raise AudioIOError(_cannot_write(self.path, exc)) from exc
        return self.tmp

    def commit(self) -> Path:
        """Make the finished file durable and rename it over the output path."""
        try:
            files.put_in_place(self.tmp, self.path)
        except OSError as exc:
            self.abort()
            raise AudioIOError(f"Cannot write '{self.path}': {exc.strerror or exc}.") from exc
        return self.path

    def abort(self) -> None:
        """Drop the temporary file; the output path is left as it was."""
        encoder = getattr(self, "_ff", None)
        if encoder is not None:
            encoder.kill()
        stream = getattr(self, "_mp3", None)
        if stream is not None:
            stream.abort()
        for closer in ("_file", "_sf"):
            handle = getattr(self, closer, None)
            if handle is not None:
                with contextlib.suppress(Exception):
                    handle.close()
        with contextlib.suppress(OSError):
            self.tmp.unlink()


def encode_blocks(
    blocks: Iterable[Stereo],
    writer: Writer,
    ceiling_db: float,
    report: Callable[[int], None] | None = None,
) -> tuple[float, float]:
    """Limit ``blocks`` under ``ceiling_db`` (true peak) as they come and write them to
    ``writer``; returns the peak written (linear) and the deepest limiter reduction (dB).
    ``report`` gets the samples mixed so far after each block."""
    from kindvoice.mix.master import TruePeakLimiter

    limiter = TruePeakLimiter(ceiling_db)
    peak = 0.0
    done = 0
    for block in blocks:
        out = limiter.process(block)
        if len(out):
            peak = max(peak, float(out.max()), -float(out.min()))
        writer.write(out)
        done += len(block)
        if report is not None:
            report(done)
    tail = limiter.flush()
    if len(tail):
        peak = max(peak, float(tail.max()), -float(tail.min()))
    writer.write(tail)
    return peak, limiter.max_reduction_db


def _cannot_write(path: Path, exc: Exception) -> str:
    """One line for a failed write; libsndfile says only "System error" for a full disk."""
    if isinstance(exc, OSError):
        return f"Cannot write '{path}': {exc.strerror or exc}."
    reason = str(exc).rstrip(".")
    return f"Cannot write '{path}': {reason} (is the disk full, or the folder not writable?)."
