"""One server per library: ``hold()`` takes an exclusive lock on the library folder (and
on the data folder, when the database lives elsewhere) before the server touches
anything there, and keeps it while the process lives.

The lock is ``flock`` on ``.kindvoice-serve.lock`` in each folder; it works across the
machines sharing an NFS folder, and the kernel drops it when the process ends, however
it ends, so a crash never leaves a library locked. The file also says who holds it
(process id, machine, since when) for the message a second ``serve`` gives. Where the
file system has no locks, the holder written in the file decides: a live process on this
machine, or any other machine, keeps the library.

Only the holder marks unfinished jobs interrupted and removes temporary files (and
those only when their own writer is gone: ``kindvoice.owners``). A second app in the same
process (a test that restarts the app) shares the process's lock.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from kindvoice.errors import UsageError
from kindvoice.owners import alive, host_tag

log = logging.getLogger(__name__)

LOCK_NAME = ".kindvoice-serve.lock"
_NO_LOCKS = {errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL}
#: the lock files this process holds: resolved path -> (file descriptor, holders)
_HELD: dict[Path, list[int]] = {}
_GUARD = threading.Lock()


@dataclass
class Held:
    """The locks of one app; ``release()`` lets another server have the folders."""

    paths: list[Path]

    def release(self) -> None:
        with _GUARD:
            for path in self.paths:
                entry = _HELD.get(path)
                if entry is None:
                    continue
                entry[1] -= 1
                if entry[1] == 0:
                    del _HELD[path]
                    with contextlib.suppress(OSError):
                        os.close(entry[0])
            self.paths = []


def hold(*folders: Path) -> Held:
    """Lock every folder for this server; ``UsageError`` naming the other server (its
    process, machine and start) when one holds any of them. Nothing is locked then."""
    held = Held([])
    try:
        for folder in dict.fromkeys(f.resolve() for f in folders):
            folder.mkdir(parents=True, exist_ok=True)
            _take(folder / LOCK_NAME, folder)
            held.paths.append(folder / LOCK_NAME)
    except BaseException:
        held.release()
        raise
    return held


def _take(path: Path, folder: Path) -> None:
    import fcntl

    with _GUARD:
        if path in _HELD:
            _HELD[path][1] += 1
            return
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            if exc.errno not in (errno.EROFS, errno.EACCES, errno.EPERM):
                raise
            # a folder this server cannot write: it cannot harm another's files there
            # either, and opening the database reports the folder in one line
            log.debug("%s: cannot take the lock (%s)", path, exc.strerror)
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in _NO_LOCKS:  # EWOULDBLOCK: another server has it
                holder = _holder(fd)
                os.close(fd)
                raise UsageError(_in_use(folder, holder)) from None
            holder = _holder(fd)
            if _keeps_it(holder):
                os.close(fd)
                raise UsageError(_in_use(folder, holder)) from None
            log.warning("%s: no file locks here; relying on the process id in the file", path)
        record = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "tag": host_tag(),
            "since": time.strftime("%Y-%m-%d %H:%M:%S"),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(record) + "\n").encode("utf-8"), 0)
        _HELD[path] = [fd, 1]


def _holder(fd: int) -> dict[str, object]:
    try:
        found = json.loads(os.pread(fd, 4096, 0).decode("utf-8", "replace") or "{}")
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def _keeps_it(holder: dict[str, object]) -> bool:
    """Without file locks: whether the holder written in the file may still run."""
    pid = holder.get("pid")
    if not isinstance(pid, int) or pid == os.getpid():
        return False
    return holder.get("tag") != host_tag() or alive(pid)


def _in_use(folder: Path, holder: dict[str, object]) -> str:
    who = f"process {holder['pid']}" if "pid" in holder else "a process"
    where = f" on {holder['host']}" if "host" in holder else ""
    since = f", since {holder['since']}" if "since" in holder else ""
    return (
        f"The library '{folder}' is in use by another kindvoice serve ({who}{where}{since}): "
        "open that one, or stop it first, or give this one another --library."
    )
