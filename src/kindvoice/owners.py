"""Who wrote a temporary file: its process id and a tag of its machine, and when such a
file may be removed as left over.

Every temporary file kindvoice writes beside an output is named
``.NAME.PID@HOST.RANDOM.part`` (``owner_tag()``). ``HOST`` is the machine's name (letters,
digits and '-', cut to 17 characters) and six hex digits of a hash of its full name, its
boot and its process namespace, so two machines (or containers, or two boots of one
machine) never share a tag, even on storage they share (NFS, a cluster's output folder).

A temporary file is left over (``left_over()``) only when its owner is proven gone: a
process of this machine, this boot and this namespace that no longer runs. A file of
another machine, or of an older version whose name carries no tag, goes only once it is
``STALE_S`` old: a writer that still runs keeps its file fresh (an encoder writes all the
time; a render's staged sidecars live seconds), and a day is far beyond any clock skew.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import socket
import time
from pathlib import Path

#: a temporary file of another machine (or without an owner tag) this old is left over
STALE_S = 86_400.0


@functools.cache
def host_tag() -> str:
    """This machine's tag (no '.' or '@', at most 24 characters): see the module."""
    name = socket.gethostname()
    facts = [name]
    for source in ("/proc/sys/kernel/random/boot_id", "/proc/self/ns/pid"):
        try:
            facts.append(os.readlink(source) if source.endswith("ns/pid") else _read(source))
        except OSError:
            facts.append("")
    short = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")[:17] or "host"
    digest = hashlib.sha256("\n".join(facts).encode("utf-8", "replace")).hexdigest()[:6]
    return f"{short}-{digest}"


def _read(path: str) -> str:
    with open(path, encoding="ascii", errors="replace") as handle:
        return handle.read().strip()


def owner_tag() -> str:
    """``PID@HOST`` for this process: the middle of its temporary files' names."""
    return f"{os.getpid()}@{host_tag()}"


def part_prefix(name: str) -> str:
    """The start of a temporary file's name for the file called ``name``."""
    return f".{name}.{owner_tag()}."


def tag_of(part: Path) -> str:
    """The owner tag in a temporary file's name (``.NAME.TAG.RANDOM.part``); for a name
    of an older version, whatever stands there (it has no '@')."""
    pieces = part.name.removesuffix(".part").rsplit(".", 2)
    return pieces[1] if len(pieces) == 3 else ""


def alive(pid: int) -> bool:
    """Whether process ``pid`` of this machine runs (another user's counts as running)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: another user's process
        return True
    return True


def left_over(part: Path, tag: str | None = None) -> bool:
    """Whether the temporary file ``part`` (owner ``tag``, default: read from its name)
    was left by a writer that is gone, so it may be removed."""
    pid, sep, host = (tag_of(part) if tag is None else tag).partition("@")
    if sep and pid.isdigit() and host == host_tag():
        return int(pid) != os.getpid() and not alive(int(pid))
    return older_than(part, STALE_S)


def older_than(path: Path, seconds: float) -> bool:
    """Whether ``path`` was last changed more than ``seconds`` ago (False when gone)."""
    try:
        return time.time() - path.stat().st_mtime > seconds
    except OSError:
        return False
