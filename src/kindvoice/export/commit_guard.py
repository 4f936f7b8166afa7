"""While an output set is put in place: Ctrl-C and SIGTERM held back until every file
of the set is renamed (``Deferred``), and the commits under way counted, so a server
stopping lets them finish (``finish_commits``) rather than cutting one off between two
renames. ``outputs.OutputSet.commit`` is the one user."""

from __future__ import annotations

import contextlib
import signal
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

from kindvoice.errors import AudioIOError

_HELD = (signal.SIGINT, signal.SIGTERM)


class Deferred:
    """Holds Ctrl-C and SIGTERM back while the files are renamed. Python runs signal
    handlers in the main thread whichever thread the kernel gave the signal to, so in the
    main thread the handlers are swapped for one that only notes the signal, and
    ``deliver`` runs the real handler once the set is whole. Off the main thread the main
    thread's handler runs as usual: a server waits for the commits under way
    (``finish_commits``) before it exits."""

    def __init__(self) -> None:
        self.caught: list[int] = []
        self.previous: dict[int, Any] = {}

    def __enter__(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in _HELD:
            if signal.getsignal(sig) is None:  # set outside Python: it could not be restored
                continue
            with contextlib.suppress(ValueError, OSError):
                self.previous[sig] = signal.signal(sig, self._note)

    def _note(self, signum: int, _frame: object) -> None:
        self.caught.append(signum)

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)

    def deliver(self, written: list[Path]) -> None:
        """Act on the first signal held back; the exception it raises (KeyboardInterrupt,
        the CLI's Terminated) carries ``kindvoice_written``, the files now in place."""
        if not self.caught:
            return
        sig = self.caught[0]
        handler = self.previous.get(sig)
        try:
            if callable(handler):
                handler(sig, None)
            elif handler == signal.SIG_DFL:
                signal.raise_signal(sig)
        except BaseException as exc:
            exc.kindvoice_written = written  # type: ignore[attr-defined]
            raise


_COMMITS = threading.Condition()
_state = {"running": 0, "closed": False}


def starting() -> None:
    """One more commit under way (AudioIOError once ``finish_commits`` was called)."""
    with _COMMITS:
        if _state["closed"]:
            raise AudioIOError("Not written: kindvoice is stopping.")
        _state["running"] += 1


def finished() -> None:
    """A commit under way has ended (in place or not)."""
    with _COMMITS:
        _state["running"] -= 1
        _COMMITS.notify_all()


def finish_commits(timeout_s: float = 30.0) -> bool:
    """Refuse new commits and wait for those under way (a server stopping: its render
    threads would otherwise be cut off between two renames). True when none is left."""
    with _COMMITS:
        _state["closed"] = True
        return _COMMITS.wait_for(lambda: _state["running"] == 0, timeout_s)
