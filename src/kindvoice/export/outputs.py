"""The files one render publishes, and which of them kindvoice may replace.

A render publishes its audio, its sidecars (``sidecars.SUFFIXES``) and a stamp,
``.NAME.kindvoice.json`` beside the audio, that records the sha256 of every file it wrote
(a batch adds the hash of its inputs). A file counts as kindvoice's own only while its
bytes still match its stamp: a file the user wrote, or edited since, has no stamp of its
own and is never replaced without ``force``. Two more rules hold even with ``force``: the
user's cover image is never an output, and sidecars that another output's stamp claims
are not taken over silently (two outputs with one stem refuse rather than share them).

``OutputSet`` writes every file under a temporary name (``.NAME.PID@HOST.XXXX.part``,
removed by a later run once its writer is gone: ``kindvoice.files``) and commits them
together at the end: the stamp first lists both the old and the new hash of every file,
then the files are renamed, then the stamp keeps only the new ones, so a kill at any point
leaves every file recognised. Ctrl-C and SIGTERM wait while the files are renamed, whatever
thread the kernel gives them to, and act once the set is whole; a server stopping lets the
commits under way finish first (``commit_guard``).

Besides the hashes, the stamp records each file's size and times (``stat``: an unchanged
file is known without reading it) and the hashes of its 64 KiB blocks (``blocks``: a
file cut short, every whole block still kindvoice's, is a damaged copy of its own; an
emptied file holds nothing of anyone's). A stamp of an earlier version (a batch's
``inputs`` without ``files``) proves nothing about bytes and claims nothing.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import logging
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kindvoice import __version__
from kindvoice.errors import AudioIOError, UsageError
from kindvoice.export.commit_guard import Deferred, finished, starting
from kindvoice.export.sidecars import sidecar_paths
from kindvoice.files import public_mode, sweep, temp_beside, write_atomic

log = logging.getLogger(__name__)

STAMP_SUFFIX = ".kindvoice.json"
#: a stamp lists a few hashes: a larger file is not one
MAX_STAMP_BYTES = 1024 * 1024
#: signals held back while the files are renamed
BLOCK_BYTES = 64 * 1024  # the unit of ``blocks``: a cut-off copy is known by whole blocks


def stamp_path(audio: Path) -> Path:
    """Where the stamp of ``audio`` lives: ``.NAME.kindvoice.json`` beside it."""
    return audio.with_name(f".{audio.name}{STAMP_SUFFIX}")


def read_stamp(audio: Path) -> dict[str, Any] | None:
    """The stamp beside ``audio`` (None when missing or unreadable). Anyone who can write
    the folder can put anything there: only a regular file of at most ``MAX_STAMP_BYTES``
    is read (never a link, a pipe or a device), and JSON nested too deep is unreadable."""
    path = stamp_path(audio)
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)  # not blocking: a named pipe would wait for a writer
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_STAMP_BYTES:
                return None
            data = handle.read(MAX_STAMP_BYTES + 1)
        stamp = json.loads(data.decode("utf-8")) if len(data) <= MAX_STAMP_BYTES else None
    except (OSError, ValueError, RecursionError):
        return None
    return stamp if isinstance(stamp, dict) else None


def file_digest(path: Path) -> str:
    """The sha256 of the file at ``path``, in hex."""
    return _digests(path)[0]


def _digests(path: Path) -> tuple[str, list[str]]:
    """The sha256 of the file at ``path`` and short hashes of its ``BLOCK_BYTES`` blocks."""
    digest = hashlib.sha256()
    blocks: list[str] = []
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(BLOCK_BYTES), b""):
            digest.update(chunk)
            blocks.append(hashlib.sha256(chunk).hexdigest()[:16])
    return digest.hexdigest(), blocks


def claims(stamp: Mapping[str, Any] | None, audio: Path, path: Path) -> bool:
    """Whether ``stamp`` (the stamp of ``audio``) says kindvoice wrote ``path`` as it is,
    or as a damaged copy of it: emptied, or cut short with every whole block its own.
    A stamp without ``files`` (an earlier version's) claims nothing."""
    files = stamp.get("files") if stamp is not None else None
    hashes = files.get(path.name) if isinstance(files, Mapping) else None
    if stamp is None or not isinstance(hashes, list):
        return False
    try:
        if path.stat().st_size == 0:
            return True
        digest, blocks = _digests(path)
    except OSError:
        return False
    return digest in hashes or _cut_short(stamp, path.name, blocks)


def _cut_short(stamp: Mapping[str, Any], name: str, blocks: list[str]) -> bool:
    """Whether a file with these block hashes is kindvoice's file ``name`` cut short."""
    recorded = (stamp.get("blocks") or {}).get(name) if isinstance(stamp, Mapping) else None
    if not isinstance(recorded, list) or not recorded or not isinstance(recorded[0], int):
        return False
    size, whole = recorded[0], recorded[1:]
    have = len(blocks) - 1  # the last block may be partial: only whole ones prove anything
    return 1 <= have < len(whole) and have * BLOCK_BYTES < size and blocks[:have] == whole[:have]


def unchanged(stamp: Mapping[str, Any] | None, path: Path) -> bool:
    """Whether ``path`` holds exactly the bytes ``stamp`` recorded last: its size and
    times as recorded, or else (touched, copied) its hash."""
    files = stamp.get("files") if stamp is not None else None
    hashes = files.get(path.name) if isinstance(files, Mapping) else None
    if stamp is None or not isinstance(hashes, list) or len(hashes) != 1:
        return False
    try:
        if (stamp.get("stat") or {}).get(path.name) == _stat(path):
            return True
        return bool(file_digest(path) == hashes[0])
    except (OSError, AttributeError):
        return False


def _stat(path: Path) -> list[int]:
    found = path.stat()
    return [found.st_size, found.st_mtime_ns, found.st_ctime_ns]


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
            f"'{foreign[0]}' exists and kindvoice did not write it, or it changed since "
            f"(would replace: {names}). Move it away, or add --force to replace it."
        )

    def clean(self) -> None:
        """Remove temporary files that killed renders left for any file of the set."""
        for target in [*self.targets, stamp_path(self.audio)]:
            sweep(self.folder, target.name)

    def stage(self, target: Path, data: bytes | str) -> None:
        """Write ``data`` for ``target`` under a temporary name."""
        raw = data.encode("utf-8") if isinstance(data, str) else data
        try:
            fd, self.staged[target] = temp_beside(self.folder / target.name)
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
        new, blocks = self._seal()
        stale = [
            p
            for p in self.sidecars.values()
            if p not in self.staged and p.exists() and owned(p, self.audio)
        ]
        self._begin(new, blocks)  # 1. a stamp that knows the old and the new bytes
        # 2. the files, with Ctrl-C and SIGTERM held back until all are in place;
        # 3. the stamp of what is there now
        deferred = Deferred()
        try:
            with deferred:
                self._rename(stale)
                self._final_stamp(new, blocks, extra)
        except BaseException:
            deferred.deliver([])  # a signal that came meanwhile still stops the command
            raise
        finally:
            finished()
        written = [self.folder / name for name in new]
        log.info("committed %s", ", ".join(new))
        deferred.deliver(written)  # a signal that came meanwhile acts now
        return written

    def _seal(self) -> tuple[dict[str, str], dict[str, list[Any]]]:
        """Each staged file made durable and readable: its digest and its blocks, by name."""
        new: dict[str, str] = {}
        blocks: dict[str, list[Any]] = {}
        try:
            for target, tmp in self.staged.items():
                with open(tmp, "rb+") as handle:
                    os.fsync(handle.fileno())
                os.chmod(tmp, public_mode())
                new[target.name], hashes = _digests(tmp)
                blocks[target.name] = [tmp.stat().st_size, *hashes]
        except OSError as exc:
            self.abort()
            raise AudioIOError(f"Cannot write '{self.audio}': {exc.strerror or exc}.") from exc
        return new, blocks

    def _begin(self, new: dict[str, str], blocks: dict[str, list[Any]]) -> None:
        """The first stamp, with both the old and the new digest of every file, and the
        commit counted as under way (``commit_guard.starting``)."""
        both: dict[str, list[str]] = {name: [digest] for name, digest in new.items()}
        for target in self.staged:
            with contextlib.suppress(OSError):
                if target.exists():
                    both[target.name].append(file_digest(target))
        try:
            starting()
        except AudioIOError:
            self.abort()
            raise
        try:
            self._write_stamp({"kindvoice": __version__, "files": both, "blocks": blocks})
        except BaseException:
            finished()
            self.abort()
            raise

    def _rename(self, stale: list[Path]) -> None:
        """Every staged file renamed over its target; our stale sidecars removed."""
        try:
            for target, tmp in list(self.staged.items()):
                os.replace(tmp, target)
                del self.staged[target]
            for path in stale:
                path.unlink(missing_ok=True)
        except OSError as exc:
            self.abort()
            raise AudioIOError(f"Cannot write '{self.audio}': {exc.strerror or exc}.") from exc

    def _final_stamp(
        self, new: dict[str, str], blocks: dict[str, list[Any]], extra: Mapping[str, Any] | None
    ) -> None:
        """The stamp of what is in place now (a failure only warns: the first one knows the
        files)."""
        stats = {name: _stat(self.folder / name) for name in new}
        stamp = {
            "kindvoice": __version__,
            **(extra or {}),
            "files": {name: [digest] for name, digest in new.items()},
            "blocks": blocks,
            "stat": stats,
        }
        try:
            self._write_stamp(stamp)
        except AudioIOError as exc:
            log.warning("%s The output is complete; a batch will render it again.", exc.message)

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
