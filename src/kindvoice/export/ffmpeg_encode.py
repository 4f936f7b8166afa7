"""Encoding through the ffmpeg binary: ``.m4a`` (AAC), ``.opus`` (Opus) and ``.ogg`` (Vorbis).

The ffmpeg that ships inside the ``imageio-ffmpeg`` wheel (or one on PATH) reads raw
float32 PCM on stdin, block by block as the mixer produces it, and writes the temporary
file the ``Writer`` later renames into place. ffmpeg's muxers record the encoder delay
and the padding (an MP4 edit list for AAC, the Ogg pre-skip and the last page's granule
position for Opus and Vorbis), so a decoder gives back exactly the samples we wrote.

M4A chapters are written here, at encode time, from an ffmetadata file: ffmpeg writes
both a QuickTime chapter track (what Apple players show) and a Nero ``chpl`` atom (what
mutagen and most other players read). mutagen cannot write MP4 chapters.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import IO

import numpy as np

from kindvoice.audio import SAMPLE_RATE, Stereo
from kindvoice.errors import AudioIOError
from kindvoice.export import formats

log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    """The ffmpeg binary: imageio-ffmpeg's (it honours ``IMAGEIO_FFMPEG_EXE``), else PATH."""
    try:
        import imageio_ffmpeg

        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except (ImportError, RuntimeError):
        found = shutil.which("ffmpeg")
        if found:
            return found
    needs = ", ".join(f.extension for f in formats.FORMATS if f.encoder == "ffmpeg")
    others = ", ".join(f.extension for f in formats.FORMATS if f.encoder != "ffmpeg")
    raise AudioIOError(
        f"Writing {needs} needs ffmpeg: pip install imageio-ffmpeg "
        f"(or install ffmpeg), or write {others}."
    )


def _ffmetadata(chapters: Sequence[tuple[str, int, int]]) -> str:
    """Chapters (title, start, end in samples) in ffmpeg's metadata file format."""

    def escape(value: str) -> str:
        for char in ("\\", "=", ";", "#", "\n"):
            value = value.replace(char, "\\" + char)
        return value

    out = [";FFMETADATA1"]
    for title, start, end in chapters:
        out += ["", "[CHAPTER]", f"TIMEBASE=1/{SAMPLE_RATE}", f"START={start}", f"END={end}"]
        out.append(f"title={escape(title)}")
    return "\n".join(out) + "\n"


class FfmpegEncoder:
    """One ffmpeg process encoding float blocks from a pipe into ``target``."""

    def __init__(
        self,
        target: Path,
        fmt: str,
        channels: int,
        bitrate_kbps: int,
        chapters: Sequence[tuple[str, int, int]] = (),
    ) -> None:
        spec = formats.by_name(fmt)
        muxer, codec = spec.ffmpeg_muxer, spec.ffmpeg_codec
        self.target = target
        self.channels = channels
        self._meta: Path | None = None
        # ffmpeg's messages go to a file: a pipe nobody reads could fill up and stall it
        self._log: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        args = [ffmpeg_exe(), "-nostdin", "-v", "error", "-y", "-f", "f32le"]
        args += ["-ar", str(SAMPLE_RATE), "-ac", str(channels), "-i", "pipe:0"]
        if chapters and spec.tags == "mp4":
            fd, name = tempfile.mkstemp(prefix="kindvoice-", suffix=".ffmeta")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(_ffmetadata(chapters))
            self._meta = Path(name)
            args += ["-f", "ffmetadata", "-i", name, "-map", "0:a", "-map_chapters", "1"]
        else:
            args += ["-map_chapters", "-1"]  # Vorbis-comment chapters come from tags.py
        # (no "-map_metadata -1": it would drop the chapter titles too; tags.py writes the rest)
        args += ["-c:a", codec, "-b:a", f"{bitrate_kbps}k"]
        if spec.container == "MP4":
            # moov first: a phone can start playing while the file is still downloading
            args += ["-movflags", "+faststart"]
        args += ["-f", muxer, str(target)]
        log.debug("ffmpeg: %s", " ".join(args))
        try:
            self._proc = subprocess.Popen(
                args, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self._log
            )
        except OSError as exc:
            self._cleanup()
            raise AudioIOError(f"Cannot start ffmpeg ({ffmpeg_exe()}): {exc}.") from exc

    def write(self, block: Stereo) -> None:
        """Send float audio of shape (n, channels) (or 1-D mono) to the encoder."""
        data = np.ascontiguousarray(block, dtype="<f4").reshape(len(block), -1)
        if data.shape[1] != self.channels:
            raise ValueError(f"block has {data.shape[1]} channels, encoder {self.channels}")
        assert self._proc.stdin is not None
        try:
            self._proc.stdin.write(data.tobytes())
        except BrokenPipeError:
            self._proc.wait()
            raise AudioIOError(f"ffmpeg stopped while encoding: {self._message()}") from None

    def close(self) -> None:
        """End the input and wait for ffmpeg to finish the file; raise if it failed."""
        assert self._proc.stdin is not None
        with contextlib.suppress(BrokenPipeError):
            self._proc.stdin.close()
        code = self._proc.wait()
        message = self._message()
        self._cleanup()
        if code != 0:
            raise AudioIOError(f"ffmpeg failed to write '{self.target}': {message}")

    def kill(self) -> None:
        """Stop ffmpeg at once (a failed or interrupted render)."""
        with contextlib.suppress(Exception):
            self._proc.kill()
            self._proc.wait()
        with contextlib.suppress(Exception):
            assert self._proc.stdin is not None
            self._proc.stdin.close()
        self._cleanup()

    def _message(self) -> str:
        self._log.seek(0)
        lines = self._log.read().decode("utf-8", "replace").strip().splitlines()
        return lines[-1] if lines else "no message"

    def _cleanup(self) -> None:
        with contextlib.suppress(Exception):
            self._log.close()
        if self._meta is not None:
            with contextlib.suppress(OSError):
                self._meta.unlink()
            self._meta = None
