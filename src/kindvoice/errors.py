"""The one exception tree: every error a user can cause, with its exit status.

Everything raised on purpose below the CLI is a ``KindvoiceError``. Click prints
``Error: <message>`` on one line and exits with the class's ``exit_code``; the CLI adds a
traceback only under ``--debug``.

Exit codes (documented in the README):

====  ==========================================================
  1   unexpected internal error (a bug: please report it)
  2   usage error (bad option or argument)
  3   template error (file, line, column in the message)
  4   unknown name (practice, engine, voice, background ...)
  5   impossible length (the message gives the feasible range)
  6   speech engine failure
  7   audio input/output failure (music file, cover, output path, disk)
  8   a batch or course in which some renders failed (the others were rendered)
130   interrupted (Ctrl-C)
143   terminated (SIGTERM)
====  ==========================================================

``ExitStatus`` names them; ``did_you_mean`` writes every "Did you mean ...?" hint;
``check_regular_file`` refuses a named pipe or device given as an input file.
"""

from __future__ import annotations

import difflib
import enum
import os
import stat
from collections.abc import Iterable

import click

#: how close a misspelling must be to a choice to be suggested (difflib's ratio)
CLOSE_ENOUGH = 0.5


class ExitStatus(enum.IntEnum):
    """The documented exit statuses (the table above and the README)."""

    OK = 0
    INTERNAL = 1
    USAGE = 2
    TEMPLATE = 3
    UNKNOWN_NAME = 4
    LENGTH = 5
    ENGINE = 6
    AUDIO_IO = 7
    SOME_FAILED = 8
    INTERRUPTED = 130
    TERMINATED = 143  # 128 + SIGTERM


class KindvoiceError(click.ClickException):
    """Base of every error kindvoice raises on purpose."""

    exit_code = int(ExitStatus.INTERNAL)  # int: subclasses may give any status


class UsageError(KindvoiceError):
    """An option or argument that cannot work (bad syntax, conflicting options)."""

    exit_code = ExitStatus.USAGE


class TemplateError(KindvoiceError):
    """A template that breaks TEMPLATE_FORMAT.md; the message starts with file:line:col."""

    exit_code = ExitStatus.TEMPLATE

    def __init__(self, file: str, line: int, col: int, message: str) -> None:
        self.file = file
        self.line = line
        self.col = col
        self.reason = message
        super().__init__(f"{file}:{line}:{col}: {message}")


class ValidationFailed(KindvoiceError):
    """``kindvoice validate`` found problems (each already reported as file:line:col)."""

    exit_code = ExitStatus.TEMPLATE


class UnknownNameError(KindvoiceError):
    """A name (practice, engine, voice, background, variable) that is not one of the choices."""

    exit_code = ExitStatus.UNKNOWN_NAME

    def __init__(self, kind: str, name: str, choices: Iterable[str]) -> None:
        options = sorted(set(choices))
        hint = did_you_mean(name, options, shape="{}", n=3)
        shown = ", ".join(options) if len(options) <= 20 else ", ".join(options[:20]) + ", ..."
        super().__init__(f"Unknown {kind} '{name}'.{hint} Choose one of: {shown}")
        self.kind = kind
        self.name = name


class NotTranslatedError(KindvoiceError):
    """A practice asked for in a language it has no translation in."""

    exit_code = ExitStatus.UNKNOWN_NAME


class LengthError(KindvoiceError):
    """A requested length outside what the script can fill with the chosen voice."""

    exit_code = ExitStatus.LENGTH


class EngineError(KindvoiceError):
    """A speech engine that is missing, broken, or failed on a phrase."""

    exit_code = ExitStatus.ENGINE


class AudioIOError(KindvoiceError):
    """A file that cannot be read or written (music file, output path, full disk)."""

    exit_code = ExitStatus.AUDIO_IO


class TakeError(AudioIOError):
    """A recorded take that cannot be kept (clipped, silent, too long, not audio)."""


def did_you_mean(name: str, choices: Iterable[str], shape: str = "'{}'", n: int = 1) -> str:
    """The hint for a misspelt name: `` Did you mean 'breath'?`` (with its leading space),
    or "" when no choice is close. ``shape`` writes each suggestion: ``"'{}'"`` (a key),
    ``"[{}]"`` (a marker), ``"'{}='"`` (a marker's key), ``"{}"`` (bare, for a list);
    ``n`` suggestions at most."""
    close = difflib.get_close_matches(name, list(choices), n=n, cutoff=CLOSE_ENOUGH)
    return f" Did you mean {', '.join(shape.format(c) for c in close)}?" if close else ""


def check_regular_file(path: str | os.PathLike[str], what: str) -> None:
    """Refuse ``path`` if it exists and is neither a regular file nor a folder (a named
    pipe or a device would block the read forever): one line naming it and ``what`` it
    should be. A missing path is the caller's to report."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise UsageError(
            f"'{os.fsdecode(path)}' is not a regular file (a named pipe, socket or device); "
            f"give the {what} as a file."
        )
