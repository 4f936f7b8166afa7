"""The one exception tree: every error a user can cause, with its exit code.

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
====  ==========================================================
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

import click


class KindvoiceError(click.ClickException):
    """Base of every error kindvoice raises on purpose."""

    exit_code = 1


class UsageError(KindvoiceError):
    """An option or argument that cannot work (bad syntax, conflicting options)."""

    exit_code = 2


class TemplateError(KindvoiceError):
    """A template that breaks TEMPLATE_FORMAT.md; the message starts with file:line:col."""

    exit_code = 3

    def __init__(self, file: str, line: int, col: int, message: str) -> None:
        self.file = file
        self.line = line
        self.col = col
        self.reason = message
        super().__init__(f"{file}:{line}:{col}: {message}")


class ValidationFailed(KindvoiceError):
    """``kindvoice validate`` found problems (each already reported as file:line:col)."""

    exit_code = 3


class UnknownNameError(KindvoiceError):
    """A name (practice, engine, voice, background, variable) that is not one of the choices."""

    exit_code = 4

    def __init__(self, kind: str, name: str, choices: Iterable[str]) -> None:
        options = sorted(set(choices))
        close = difflib.get_close_matches(name, options, n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        shown = ", ".join(options) if len(options) <= 20 else ", ".join(options[:20]) + ", ..."
        super().__init__(f"Unknown {kind} '{name}'.{hint} Choose one of: {shown}")
        self.kind = kind
        self.name = name


class NotTranslatedError(KindvoiceError):
    """A practice asked for in a language it has no translation in."""

    exit_code = 4


class LengthError(KindvoiceError):
    """A requested length outside what the script can fill with the chosen voice."""

    exit_code = 5


class EngineError(KindvoiceError):
    """A speech engine that is missing, broken, or failed on a phrase."""

    exit_code = 6


class AudioIOError(KindvoiceError):
    """A file that cannot be read or written (music file, output path, full disk)."""

    exit_code = 7


def closest(name: str, choices: Iterable[str]) -> str | None:
    """The closest choice to a misspelt name, or None when nothing is close."""
    matches = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.5)
    return matches[0] if matches else None
