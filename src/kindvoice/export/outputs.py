"""The files one render publishes, and which of them kindvoice may replace.

A render publishes its audio, its sidecars (``sidecars.SUFFIXES``) and a stamp,
``.NAME.kindvoice.json`` beside the audio, that records the sha256 of every file it wrote
(a batch adds the hash of its inputs). A file counts as kindvoice's own only while its
bytes still match its stamp: a file the user wrote, or edited since, has no stamp of its
own and is never replaced without ``force``. Two more rules hold even with ``force``: the
user's cover image is never an output, and sidecars that another output's stamp claims
are not taken over silently (two outputs with one stem refuse rather than share them).

``OutputSet`` writes every file under a temporary name (``.NAME.PID.XXXX.part``, removed
by the next run if this one is killed) and commits them together at the end: the stamp
first lists both the old and the new hash of every file, then the files are renamed, then
the stamp keeps only the new ones, so a kill at any point leaves every file recognised.
Stamps of earlier versions (a batch's ``inputs`` without ``files``) still count for the
audio and the standard sidecars.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import logging
import os
import signal
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kindvoice import __version__
from kindvoice.errors import AudioIOError, UsageError
from kindvoice.export.encode import public_mode, remove_orphans
from kindvoice.export.sidecars import sidecar_paths, write_atomic

log = logging.getLogger(__name__)

STAMP_SUFFIX = ".kindvoice.json"
#: signals held back while the files are renamed (none where pthread_sigmask is missing)
_HELD = {signal.SIGINT, signal.SIGTERM} if hasattr(signal, "pthread_sigmask") else set()


def stamp_path(audio: Path) -> Path:
    """Where the stamp of ``audio`` lives: ``.NAME.kindvoice.json`` beside it."""
    return audio.with_name(f".{audio.name}{STAMP_SUFFIX}")


def read_stamp(audio: Path) -> dict[str, Any] | None:
    """The stamp beside ``audio`` (None when missing or unreadable)."""
    try:
        stamp = json.loads(stamp_path(audio).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return stamp if isinstance(stamp, dict) else None


def file_digest(path: Path) -> str:
    """The sha256 of the file at ``path``, in hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def claims(stamp: Mapping[str, Any] | None, audio: Path, path: Path) -> bool:
    """Whether ``stamp`` (the stamp of ``audio``) says kindvoice wrote ``path`` as it is."""
    if stamp is None:
        return False
    files = stamp.get("files")
    if isinstance(files, Mapping):
        hashes = files.get(path.name)
        if not isinstance(hashes, list):
            return False
        try:
            return file_digest(path) in hashes
        except OSError:
            return False
    # a stamp from before ownership was recorded: a batch wrote the audio and sidecars
    legacy = {audio.name, *(p.name for p in sidecar_paths(audio).values())}
    return "inputs" in stamp and path.name in legacy


def owned(path: Path, audio: Path | None = None) -> bool:
    """Whether kindvoice wrote ``path`` (as part of ``audio``'s set; default: on its own)."""
    audio = audio or path
    return claims(read_stamp(audio), audio, path)


def _claimed_by(path: Path, audio: Path) -> Path | None:
    """Another output beside ``audio`` whose stamp claims ``path`` (a same-stem sibling)."""
    for stamp_file in audio.parent.glob(f".{glob.escape(audio.stem)}.*{STAMP_SUFFIX}"):
        other = stamp_file.with_name(stamp_file.name[1 : -len(STAMP_SUFFIX)])
        if other != audio and owned(path, other):
            return other
    return None


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and a.samefile(b))
    except OSError:
        return False


class OutputSet:
    """The audio at ``audio`` and (with ``sidecars``) its sidecars, written together.

    ``check()`` refuses, before any work, to replace a file kindvoice did not write
    (unless ``force``) or the ``cover`` input; ``stage()``/``adopt()`` collect temporary
    files and ``commit()`` puts them all in place; ``abort()`` drops them."""

    def __init__(
        self, audio: Path, *, sidecars: bool, force: bool, cover: Path | None = None
    ) -> None:
        self.audio = audio
        self.folder = audio.parent if str(audio.parent) else Path(".")
        self.sidecars = sidecar_paths(audio)
        self.targets = [audio, *(self.sidecars.values() if sidecars else ())]
        self.force = force
        self.cover = cover
        self.staged: dict[Path, Path] = {}  # target -> its temporary file

    def check(self) -> None:
        """Raise UsageError (one line) when committing would replace the cover input, a
        file another output claims, or (without ``force``) a file kindvoice did not write."""
        for target in self.targets:
            if self.cover is not None and _same_file(self.cover, target):
                raise UsageError(
                    f"The cover image '{self.cover}' would be replaced by the cover of "
                    f"'{self.audio.name}' ({target.name}): choose another output name, "
                    "or add --no-sidecars."
                )
        if self.force:
            return
        stamp = read_stamp(self.audio)
        foreign = [t for t in self.targets if t.exists() and not claims(stamp, self.audio, t)]
        if not foreign:
            return
        for target in foreign:
            other = _claimed_by(target, self.audio) if target != self.audio else None
            if other is not None:
                raise UsageError(
                    f"'{target}' belongs to '{other.name}', which shares the stem of "
                    f"'{self.audio.name}': choose another output name, add --no-sidecars, "
                    "or --force to take them over."
                )
        names = ", ".join(t.name for t in foreign)
        raise UsageError(
            f"'{foreign[0]}' exists and kindvoice did not write it (would replace: {names}). "
            "Move it away, or add --force to replace it."
        )

    def clean(self) -> None:
        """Remove temporary files that killed renders left for any file of the set."""
        for target in [*self.targets, stamp_path(self.audio)]:
            remove_orphans(self.folder, target.name)

    def stage(self, target: Path, data: bytes | str) -> None:
        """Write ``data`` for ``target`` under a temporary name."""
        raw = data.encode("utf-8") if isinstance(data, str) else data
        try:
            fd, name = tempfile.mkstemp(
                prefix=f".{target.name}.{os.getpid()}.", suffix=".part", dir=self.folder
            )
            self.staged[target] = Path(name)
            with os.fdopen(fd, "wb") as handle:
                handle.write(raw)
        except OSError as exc:
            raise AudioIOError(f"Cannot write '{target}': {exc.strerror or exc}.") from exc

    def adopt(self, target: Path, tmp: Path) -> None:
        """Take over ``tmp``, a finished temporary file for ``target`` (the audio)."""
        self.staged[target] = tmp

    def commit(self, extra: Mapping[str, Any] | None = None) -> list[Path]:
        """Put every staged file in place, with the stamp; returns the paths written.
        Our own sidecars that this render did not write again (``--no-sidecars``) are
        removed: they described the audio being replaced."""
        self.check()  # again: something may have appeared while the render ran
        new: dict[str, str] = {}
        try:
            for target, tmp in self.staged.items():
                with open(tmp, "rb+") as handle:
                    os.fsync(handle.fileno())
                os.chmod(tmp, public_mode())
                new[target.name] = file_digest(tmp)
        except OSError as exc:
            self.abort()
            raise AudioIOError(f"Cannot write '{self.audio}': {exc.strerror or exc}.") from exc
        stale = [
            p
            for p in self.sidecars.values()
            if p not in self.staged and p.exists() and owned(p, self.audio)
        ]
        # 1. a stamp that knows the old and the new bytes of every file
        both: dict[str, list[str]] = {name: [digest] for name, digest in new.items()}
        for target in self.staged:
            with contextlib.suppress(OSError):
                if target.exists():
                    both[target.name].append(file_digest(target))
        try:
            self._write_stamp({"kindvoice": __version__, "files": both})
        except BaseException:
            self.abort()
            raise
        # 2. the files, with Ctrl-C and SIGTERM held back until all are in place;
        # 3. the stamp of what is there now
        held = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD) if _HELD else None
        try:
            for target, tmp in list(self.staged.items()):
                os.replace(tmp, target)
                del self.staged[target]
            for path in stale:
                path.unlink(missing_ok=True)
        except OSError as exc:
            self.abort()
            raise AudioIOError(f"Cannot write '{self.audio}': {exc.strerror or exc}.") from exc
        finally:
            if held is not None:
                signal.pthread_sigmask(signal.SIG_SETMASK, held)
        try:
            self._write_stamp(
                {
                    "kindvoice": __version__,
                    **(extra or {}),
                    "files": {name: [digest] for name, digest in new.items()},
                }
            )
        except AudioIOError as exc:  # the files are in place, and the first stamp knows them
            log.warning("%s The output is complete; a batch will render it again.", exc.message)
        log.info("committed %s", ", ".join(new))
        return [self.folder / name for name in new]

    def _write_stamp(self, stamp: Mapping[str, Any]) -> None:
        write_atomic(stamp_path(self.audio), json.dumps(stamp, indent=2) + "\n")

    def abort(self) -> None:
        """Drop every temporary file not yet in place; the outputs stay as they were."""
        for tmp in self.staged.values():
            with contextlib.suppress(OSError):
                tmp.unlink()
        self.staged.clear()


def check_own(paths: list[Path], *, force: bool) -> None:
    """Raise UsageError unless every file at ``paths`` is kindvoice's own (or absent),
    before any work; ``force`` allows replacing them."""
    for path in paths:
        OutputSet(path, sidecars=False, force=force).check()


def write_own(path: Path, data: bytes | str, *, force: bool) -> Path:
    """Write one file kindvoice publishes (a playlist, an index page) atomically, with its
    stamp; refuses (UsageError) to replace a file it did not write unless ``force``."""
    files = OutputSet(path, sidecars=False, force=force)
    files.check()
    files.clean()
    files.stage(path, data)
    files.commit()
    return path
