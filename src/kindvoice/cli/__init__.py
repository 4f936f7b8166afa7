"""The command line: parse options, call one core function, echo the result.

Each module here holds the commands of one area and registers them on the group in
``app``; heavy modules are imported inside the commands so ``kindvoice --help`` stays
instant.
"""

from __future__ import annotations

import os
import sys
from typing import NoReturn

from kindvoice.cli import (  # noqa: F401 - registers the commands
    library,
    publish,
    recording,
    render,
    serve,
    sounds,
    speech,
)
from kindvoice.cli.app import as_click, cli
from kindvoice.errors import AudioIOError


def _reopen_closed_streams() -> None:
    """A standard stream closed by the caller (``2>&-``) becomes /dev/null: the command
    still runs and its exit status still tells, and no file kindvoice opens later can
    take descriptor 0, 1 or 2 (where libraries and child processes write)."""
    for fd, name in ((0, "stdin"), (1, "stdout"), (2, "stderr")):
        try:
            os.fstat(fd)
            continue
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
        if getattr(sys, name) is None:
            setattr(sys, name, open(fd, "r" if fd == 0 else "w", closefd=False))  # noqa: SIM115


def main() -> NoReturn:
    _reopen_closed_streams()
    try:
        cli.main(prog_name="kindvoice")
    finally:
        # what is still buffered for standard output is written now, so a full disk or
        # `> /dev/full` is one line and exit 7, not Python's "Exception ignored" at exit
        try:
            sys.stdout.flush()
        except OSError as exc:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            error = AudioIOError(f"Cannot write to standard output: {exc.strerror or exc}.")
            as_click(error).show()
            raise SystemExit(error.exit_code) from None
    raise SystemExit(0)  # pragma: no cover - click exits itself


__all__ = ["cli", "main"]
