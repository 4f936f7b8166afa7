"""The ``kindvoice`` click group and what its commands share: option parsing, the
progress bar, and the error handling that keeps every failure to one line.

Errors below the CLI are ``KindvoiceError``s, printed as one line (a traceback only with
``--debug``); anything else is a bug, reported as one line and exit code 1.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from kindvoice import __version__
from kindvoice.audio import s_to_samples
from kindvoice.durations import clock
from kindvoice.errors import (
    AudioIOError,
    ExitStatus,
    KindvoiceError,
    UsageError,
    disk_full,
    internal_error,
)
from kindvoice.fields import FIELDS

log = logging.getLogger("kindvoice")


# --------------------------------------------------------------------------- helpers


_SURROGATE = re.compile("[\ud800-\udfff]")


def safe_text(text: str) -> str:
    """``text`` printable on any terminal: undecodable bytes shown as \\xNN."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def plain_text(_ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A click callback for text options that end up in tags (``--artist``): bytes the
    shell passed that are not UTF-8 are one clear line, not an encoder's traceback."""
    if value is not None and _SURROGATE.search(value):
        raise UsageError(
            f"{param.opts[0]} is not valid UTF-8 text ('{safe_text(value)}'); set your "
            "terminal to UTF-8 or retype it."
        )
    return value


def parse_vars(pairs: tuple[str, ...]) -> dict[str, str]:
    values: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--var needs name=value; got '{safe_text(pair)}'.")
        if _SURROGATE.search(pair):  # bytes the shell passed that are not UTF-8
            raise UsageError(
                f"--var {safe_text(name.strip())}: the value is not valid UTF-8 text "
                f"('{safe_text(value)}'); set your terminal to UTF-8 or retype it."
            )
        values[name.strip()] = value
    return values


class Bar:
    """A one-line progress bar on stderr (silent when stderr is not a terminal or -q)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self._started: dict[str, tuple[float, int]] = {}  # stage -> (time, done) at first call

    def _eta(self, stage: str, done: int, total: int) -> str:
        """Phrases done of total, and the time left at the pace so far (speech only: the
        cached phrases at the start cost nothing and do not count toward the pace)."""
        start, first = self._started.setdefault(stage, (time.monotonic(), done))
        if stage != "speech":
            return ""
        text = f" {done}/{total} phrases"
        if first < done < total:
            left = (time.monotonic() - start) / (done - first) * (total - done)
            text += f", about {clock(s_to_samples(int(left)))} left"
        return text

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled or total <= 0:
            return
        width = 30
        filled = int(width * done / total)
        label = {"speech": "Speaking", "mix": "Mixing  "}.get(stage, stage)
        click.echo(
            f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {100 * done // total:3d}%"
            f"{self._eta(stage, done, total)}\x1b[K",
            err=True,
            nl=False,
        )
        if done >= total:
            click.echo("", err=True)


class KindvoiceGroup(click.Group):
    """Turns unexpected exceptions into one line (a traceback with --debug)."""

    def invoke(self, ctx: click.Context) -> Any:
        previous = _on_sigterm_clean_up()
        try:
            return super().invoke(ctx)
        except KindvoiceError as exc:  # the edge: a plain error becomes click's one line
            raise as_click(exc) from exc
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except BrokenPipeError:  # `kindvoice list | head`: the reader left, not an error
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(ExitStatus.OK)
        except Terminated as exc:
            click.echo(_stopped("Terminated", exc), err=True)
            sys.exit(ExitStatus.TERMINATED)
        except KeyboardInterrupt as exc:
            click.echo(_stopped("Interrupted", exc), err=True)
            sys.exit(ExitStatus.INTERRUPTED)
        except Exception as exc:  # a bug: keep the message, hide the traceback
            if isinstance(exc, OSError) and _stdout_failed(exc):
                error = AudioIOError(f"Cannot write to standard output: {exc.strerror or exc}.")
                raise as_click(error) from None
            if (full := disk_full(exc)) is not None:
                raise as_click(full) from None
            if ctx.find_root().params.get("debug"):
                raise
            hint = " (run with --debug for details)"
            raise as_click(KindvoiceError(internal_error(exc, hint))) from exc
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)


def as_click(error: KindvoiceError) -> click.ClickException:
    """``error`` as click shows it: ``Error: <message>`` on stderr, exit ``exit_code``."""
    converted = click.ClickException(error.message)
    converted.exit_code = error.exit_code  # type: ignore[misc]  # click reads it per instance
    return converted


def _stopped(what: str, exc: BaseException) -> str:
    """The last line of a command stopped by a signal: what it left. A signal that came
    while an output set was put in place waited for it (``outputs.OutputSet.commit``)."""
    written: list[Path] = getattr(exc, "kindvoice_written", None) or []
    if not written:
        return f"{what}; no output was written."
    more = f" and {len(written) - 1} sidecar(s)" if len(written) > 1 else ""
    return f"{what} as '{written[0]}'{more} were put in place: that output is complete."


def _stdout_failed(exc: OSError) -> bool:
    """True when ``exc`` came from writing standard output (``> /dev/full``, a full disk):
    every line goes out through ``click.echo``. Standard output is then pointed at
    /dev/null, so the exit's flush is quiet too."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not any(f.name == "echo" and "click" in Path(f.filename).parts for f in frames):
        return False
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return True


class Terminated(KeyboardInterrupt):
    """SIGTERM (``kill PID``, a job runner, systemd): cleaned up like Ctrl-C, exit 143."""


def _on_sigterm_clean_up() -> Any:
    """Make SIGTERM end the command as Ctrl-C does: the worker processes are stopped at
    once (a terminated batch renders nothing more), then ``Terminated`` unwinds the
    command, so temporary files go and nothing half-made is committed. Returns the
    handler it replaced (None off the main thread, where signals cannot be handled)."""
    import multiprocessing
    import threading

    if threading.current_thread() is not threading.main_thread():
        return None

    def handler(_signum: int, _frame: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # once is enough
        for child in multiprocessing.active_children():
            child.terminate()
        raise Terminated

    return signal.signal(signal.SIGTERM, handler)


# --------------------------------------------------------------------------- the group


@click.group(cls=KindvoiceGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kindvoice")
@click.option("-v", "--verbose", count=True, help="More detail on stderr (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors on stderr; no progress bar.")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.option(
    "--templates-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="KINDVOICE_TEMPLATES_DIR",
    help="Your own practices; they override bundled ones with the same id.",
)
@click.pass_context
def cli(
    ctx: click.Context, verbose: int, quiet: bool, debug: bool, templates_dir: Path | None
) -> None:
    """Voice-guided self-compassion meditations, rendered offline to phone-ready audio."""
    level = (
        logging.ERROR
        if quiet
        else (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose + (2 if debug else 0), 2)]
    )
    logging.basicConfig(
        level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    ctx.obj = {"quiet": quiet, "debug": debug, "templates_dir": templates_dir}


F = TypeVar("F", bound=Callable[..., Any])


def length_ms_from(minutes_ms: int | None, length_ms: int | None) -> int | None:
    """The length --minutes or --length gives, in ms, the one value the length solver gets
    (both read alike by the field table; None: the practice's own)."""
    if minutes_ms is not None and length_ms is not None:
        raise UsageError("Give --minutes or --length, not both.")
    return length_ms if length_ms is not None else minutes_ms


language_option = click.option("--language", help=FIELDS["language"].help)
