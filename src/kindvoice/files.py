"""Files written whole or not at all, and the temporary files a killed writer leaves.

Every file kindvoice writes beside an output (the audio, its sidecars, its stamp) is
first written under a temporary name in the same folder, ``.NAME.PID@HOST.RANDOM.part``
(``owners.part_prefix``), then renamed over the real name: a reader never sees half a
file and a failure leaves the old one as it was. This module owns that:

- ``temp_beside`` makes the temporary file, ``put_in_place`` makes it durable, readable
  like any new file (``public_mode``) and renames it, ``write_atomic`` does both for bytes
  in memory;
- ``sweep`` removes the temporary files of a name whose writer is gone (killed, power
  lost): ``owners.left_over`` decides, so a writer still at work keeps its file.
"""

from __future__ import annotations

import contextlib
import glob
import logging
import os
import tempfile
from pathlib import Path

from kindvoice.errors import AudioIOError
from kindvoice.owners import left_over, part_prefix

log = logging.getLogger(__name__)

PART_SUFFIX = ".part"


def public_mode() -> int:
    """The permissions a new file gets normally (0o666 less the umask): ``mkstemp`` makes
    temporary files private (0o600), which a web server publishing a feed cannot read."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def folder_of(path: Path) -> Path:
    """The folder ``path`` is written in ("." for a bare name)."""
    return path.parent if str(path.parent) else Path(".")


def temp_beside(path: Path) -> tuple[int, Path]:
    """A new temporary file for ``path`` in its folder, named for its writer (so a later
    run can tell it is left over): its open descriptor and its path. An OSError is the
    caller's to word."""
    fd, name = tempfile.mkstemp(
        prefix=part_prefix(path.name), suffix=PART_SUFFIX, dir=folder_of(path)
    )
    return fd, Path(name)


def put_in_place(tmp: Path, path: Path, durable: bool = True) -> Path:
    """Rename the finished temporary file ``tmp`` over ``path``: flushed to the disk first
    (``durable``) and readable like any new file. An OSError is the caller's to word."""
    if durable:
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
    os.chmod(tmp, public_mode())
    os.replace(tmp, path)
    return path


def write_atomic(path: Path, data: bytes | str) -> Path:
    """Write ``data`` to a temporary file beside ``path``, then rename it into place, so a
    reader never sees half a file and a failure leaves the old one untouched."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    tmp: Path | None = None
    try:
        fd, tmp = temp_beside(path)
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
        put_in_place(tmp, path, durable=False)
    except OSError as exc:
        if tmp is not None:
            with contextlib.suppress(OSError):
                tmp.unlink()
        raise AudioIOError(f"Cannot write '{path}': {exc.strerror or exc}.") from exc
    return path


def sweep(folder: Path, name: str) -> None:
    """Delete the temporary files a killed writer (kill -9, power loss) left for ``name``
    in ``folder``: only those whose writer is proven gone, or that are a day old when it
    cannot be checked (another machine's, an older version's): ``owners.left_over``."""
    for part in folder.glob(f".{glob.escape(name)}.*{PART_SUFFIX}"):
        if left_over(part):
            log.debug("removing %s, left by a writer that did not finish", part)
            with contextlib.suppress(OSError):
                part.unlink()
