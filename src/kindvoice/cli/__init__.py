"""The command line: parse options, call one core function, echo the result.

Each module here holds the commands of one area and registers them on the group in
``app``; heavy modules are imported inside the commands so ``kindvoice --help`` stays
instant.
"""

from __future__ import annotations

from typing import NoReturn

from kindvoice.cli import library, publish, render, serve, sounds, speech  # noqa: F401 - registers the commands
from kindvoice.cli.app import cli


def main() -> NoReturn:
    cli.main(prog_name="kindvoice")
    raise SystemExit(0)  # pragma: no cover - click exits itself


__all__ = ["cli", "main"]
