"""The one exception tree: every error a user can cause, with its exit status.

Everything raised on purpose below the CLI is a ``KindvoiceError``: a plain exception
(no click below the CLI) with an ``exit_code`` for the command line and an
``http_status`` for the web, which pickles whole across processes (a speech worker, a
batch's process pool or a Dask worker sends it back as it was raised). The CLI turns it
into a click exception at its edge (``cli.app``), which prints ``Error: <message>`` on
one line and exits with ``exit_code``; the web answers with ``http_status``.
``internal_error`` words the one line a bug is reported with, everywhere.

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
``check_regular_file`` refuses a named pipe or device given as an input file, and
``read_regular_file`` reads one with a size limit (never waiting on a pipe).
"""

from __future__ import annotations

import difflib
import enum
import errno
import os
import stat
from collections.abc import Iterable
from typing import Any

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


def _rebuilt(cls: type[KindvoiceError], message: str) -> KindvoiceError:
    """An error of ``cls`` with ``message``, its own ``__init__`` skipped (pickle then
    restores its attributes): subclasses may take other arguments."""
    error = cls.__new__(cls)
    KindvoiceError.__init__(error, message)
    return error


class KindvoiceError(Exception):
    """Base of every error kindvoice raises on purpose: ``message`` is one line for the
    user; ``exit_code`` the command line's status, ``http_status`` the web's."""

    exit_code: int = int(ExitStatus.INTERNAL)  # int: subclasses may give any status
    http_status: int = 400  # the web: a request it cannot do, said on the page

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def format_message(self) -> str:
        return self.message

    def __str__(self) -> str:
        return self.message

    def placed(self, message: str) -> KindvoiceError:
        """The same error (its class, attributes and exit status) with ``message``: the
        core's words put in the place the input came from (a file and a key, a row)."""
        error = _rebuilt(type(self), message)
        vars(error).update({k: v for k, v in vars(self).items() if k != "message"})
        return error

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuilt, (type(self), self.message), dict(vars(self)))


def internal_error(exc: BaseException, hint: str = "") -> str:
    """The one line a bug is reported with: ``Internal error: TypeError: ...`` and a
    ``hint`` (the CLI's ``--debug``). A full disk is not a bug: its plain line instead
    (``disk_full``), wherever a job or a batch words what stopped it."""
    if (full := disk_full(exc)) is not None:
        return full.message
    return f"Internal error: {type(exc).__name__}: {exc}{hint}"


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


class DiskFull(AudioIOError):
    """The disk (or the user's quota) is full: nothing more can be written."""

    http_status = 507  # Insufficient Storage


def disk_full(exc: BaseException) -> DiskFull | None:
    """The plain error for a full disk met as ``exc``, else None: the command line and the
    web say it in one line instead of an internal error."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        where = f" writing '{os.fsdecode(exc.filename)}'" if exc.filename else ""
        return DiskFull(f"The disk is full{where}: free some space and try again.")
    return None


class TakeError(AudioIOError):
    """A recorded take that cannot be kept (clipped, silent, too long, not audio)."""


class TakeExists(UsageError):
    """A phrase already has a take and the caller did not ask to replace it."""


class SpeechStopped(KindvoiceError):
    """A speech run was told to stop (its ``stop`` event): nobody waits for it any more."""

    exit_code = ExitStatus.INTERRUPTED


class BatchFailed(KindvoiceError):
    """Some sessions of a batch or course failed (each is named in the summary table)."""

    exit_code = ExitStatus.SOME_FAILED


class FieldError(UsageError):
    """A web form field that is wrong: ``field`` is its name in the form, the message
    one sentence in the page's words (the page shows it by that field)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class NotFound(KindvoiceError):
    """A session, job or practice the web page asked for that does not exist."""

    exit_code = ExitStatus.UNKNOWN_NAME
    http_status = 404


class QueueFull(KindvoiceError):
    """Too many renders are waiting or running; the page says to try again later."""

    exit_code = ExitStatus.USAGE
    http_status = 429


class RangeCancelled(KindvoiceError):
    """A measurement stopped because the page that asked for it no longer waits."""

    exit_code = ExitStatus.USAGE
    http_status = 409


class DurationError(ValueError):
    """A duration that does not follow the grammar of ``durations``; ``reason`` says why
    ("" if unreadable), and the caller names the option or key it came from."""

    def __init__(self, reason: str = "") -> None:
        super().__init__(reason)
        self.reason = reason


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


def read_regular_file(
    path: str | os.PathLike[str],
    what: str,
    max_bytes: int,
    error: type[KindvoiceError] = UsageError,
) -> bytes:
    """The bytes of ``path``, which must be a regular file of at most ``max_bytes``.
    Opened without blocking and checked on the open file, so a named pipe (even one put
    in its place after a check) never waits for a writer and a device such as /dev/zero
    is never read. Anything else is one ``error`` naming the file and ``what`` it is;
    a missing file raises FileNotFoundError for the caller to word."""
    name = os.fsdecode(path)
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise error(f"Cannot read the {what} '{name}': {exc.strerror or exc}.") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise error(f"'{name}' is a folder; give the {what} as a file.")
        if not stat.S_ISREG(info.st_mode):
            raise error(
                f"'{name}' is not a regular file (a named pipe, socket or device); "
                f"give the {what} as a file."
            )
        if info.st_size > max_bytes:
            raise error(
                f"The {what} '{name}' is {info.st_size / 1e6:.1f} MB; at most "
                f"{max_bytes / 1e6:g} MB."
            )
        os.set_blocking(fd, True)
        try:
            data = handle.read(max_bytes + 1)
        except OSError as exc:
            raise error(f"Cannot read the {what} '{name}': {exc.strerror or exc}.") from None
    if len(data) > max_bytes:  # it grew while being read
        raise error(f"The {what} '{name}' is over {max_bytes / 1e6:g} MB.")
    return data
