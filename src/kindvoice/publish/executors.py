"""Where a batch's renders run: this machine's process pool, or an existing Dask cluster.

``--executor`` names one (``backend_for``): ``local`` (the default: a spawn process pool,
one render per core) or ``dask://HOST:PORT`` / ``tcp://HOST:PORT`` (the scheduler of a
running Dask cluster, reached through ``distributed``, the ``cluster`` extra). Both hand
``run_batch`` a ``concurrent.futures.Executor`` and the function to submit to it, so the
batch's submit-and-wait loop is one for both. A Dask cluster is reached when the backend
is entered (``with``), before anything is rendered or written.

On a Dask worker every render runs in a fresh Python interpreter (``run_in_child``):
Dask's worker processes are daemonic by default, and a daemonic process may not start
the speech worker processes a render needs on a cold phrase cache. The fresh interpreter
also keeps renders that share a Dask worker's threads apart, and an engine's native crash
from taking the Dask worker down. Workers write the outputs themselves, at the paths the
client gives: the output folder must be the same shared storage on every machine.
"""

from __future__ import annotations

import functools
import logging
import multiprocessing
import os
import pickle
import subprocess
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from types import TracebackType
from typing import Any, TypeVar

from kindvoice import __version__
from kindvoice.errors import ExitStatus, UsageError
from kindvoice.publish.jobs import Job, Outcome, init_worker_logging, run_job

log = logging.getLogger(__name__)

FORMS = "local, dask://HOST:PORT, tcp://HOST:PORT"
CONNECT_TIMEOUT_S = 5.0  # a scheduler that answers at all answers well within this
MISSING_DASK = "Dask is not installed: pip install 'kindvoice[cluster]'"

#: what a backend submits for each job
Task = Callable[[Job], Outcome]
B = TypeVar("B", bound="Backend")


class Backend(ABC):
    """A place to run renders; use it with ``with`` (connect on entry, close on exit)."""

    def __enter__(self: B) -> B:
        self.open()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def open(self) -> None:  # noqa: B027 (a hook: most backends need no set-up)
        """Get ready to run renders (nothing to do, for the local pool)."""

    def close(self) -> None:  # noqa: B027
        """Let go of whatever the backend holds (nothing, for the local pool)."""

    @abstractmethod
    def describe(self, jobs: int) -> str:
        """Where ``jobs`` renders will run, for the log ("2 local workers")."""

    @abstractmethod
    def executor(self, jobs: int) -> AbstractContextManager[Executor]:
        """An executor for ``jobs`` renders; leaving its context waits for them."""

    @abstractmethod
    def task(self) -> Task:
        """The picklable function to submit for each job."""


class LocalBackend(Backend):
    """A spawn process pool on this machine: ``workers`` renders at once (default: one
    per core), never more than there are jobs."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers

    def _count(self, jobs: int) -> int:
        return max(1, min(self.workers or os.cpu_count() or 1, jobs))

    def describe(self, jobs: int) -> str:
        return f"{self._count(jobs)} local workers"

    def executor(self, jobs: int) -> ProcessPoolExecutor:
        # spawn: a clean interpreter per worker, like the speech workers (engine libraries
        # must never be inherited half-initialised)
        return ProcessPoolExecutor(
            max_workers=self._count(jobs),
            mp_context=multiprocessing.get_context("spawn"),
            initializer=init_worker_logging,
            initargs=(logging.getLogger().getEffectiveLevel(),),
        )

    def task(self) -> Task:
        return run_job


class DaskBackend(Backend):
    """The Dask cluster whose scheduler listens at ``address`` (``tcp://HOST:PORT``)."""

    def __init__(self, address: str, connect_timeout_s: float = CONNECT_TIMEOUT_S) -> None:
        self.address = address
        self.connect_timeout_s = connect_timeout_s
        self._client: Any = None

    def open(self) -> None:
        """Reach the scheduler and check that its workers run this kindvoice version;
        raises UsageError naming the address when either fails."""
        client_class = _client_class()
        _ask_identity(self.address, self.connect_timeout_s)
        try:
            self._client = client_class(
                self.address, timeout=self.connect_timeout_s, set_as_default=False
            )
        except (OSError, TimeoutError) as exc:
            log.debug("connecting to %s: %s", self.address, exc)
            raise UsageError(
                f"Cannot reach the Dask scheduler at {self.address} (no answer within "
                f"{self.connect_timeout_s:g} s): is it running, and is the address right?"
            ) from None
        try:
            self._check_workers()
        except BaseException:
            self.close()
            raise

    def _check_workers(self) -> None:
        try:
            versions: dict[str, str] = self._client.run(installed_version)
        except Exception as exc:  # a worker that cannot import kindvoice at all
            raise UsageError(
                f"The Dask workers at {self.address} cannot run kindvoice "
                f"({type(exc).__name__}: {exc}); install kindvoice[cluster]=={__version__} "
                "on every worker."
            ) from None
        wrong = sorted({v for v in versions.values() if v != __version__})
        if wrong:
            raise UsageError(
                f"The Dask workers at {self.address} run kindvoice {', '.join(wrong)}, "
                f"this is {__version__}: install the same version on every worker."
            )
        if not versions:
            log.warning("the Dask cluster at %s has no workers yet", self.address)
        log.info("Dask cluster at %s: %d workers", self.address, len(versions))

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def describe(self, jobs: int) -> str:
        return f"the Dask cluster at {self.address}"

    @contextmanager
    def executor(self, jobs: int) -> Iterator[Executor]:
        if self._client is None:
            raise RuntimeError("DaskBackend used outside its 'with' block")
        # pure=False: the same job twice is two renders, never a result Dask kept
        pool: Executor = self._client.get_executor(pure=False)
        try:
            yield pool
        except BaseException:
            pool.shutdown(wait=False)  # cancels what has not finished
            raise
        pool.shutdown(wait=True)

    def task(self) -> Task:
        return functools.partial(run_in_child, log_level=logging.getLogger().getEffectiveLevel())


def _ask_identity(address: str, deadline_s: float) -> None:
    """Ask whatever listens at ``address`` who it is, all within ``deadline_s``: Dask's
    own connect bounds neither its handshake nor a reply, so an HTTP server or a silent
    port would hang it, and garbage bytes read as a frame length can ask for exabytes.
    Raises UsageError naming the address unless a Dask scheduler answers."""
    import asyncio

    from distributed.comm.core import connect

    async def ask() -> Any:
        comm = await connect(address, timeout=deadline_s)  # type: ignore[no-untyped-call]
        try:
            await comm.write({"op": "identity", "reply": True})
            return await comm.read()
        finally:
            comm.abort()

    try:
        answer = asyncio.run(asyncio.wait_for(ask(), deadline_s))
    except (OSError, TimeoutError) as exc:  # refused, unknown host, or no answer in time
        log.debug("connecting to %s: %s", address, exc)
        raise UsageError(
            f"Cannot reach the Dask scheduler at {address} (no answer within "
            f"{deadline_s:g} s): is it running, and is the address right?"
        ) from None
    except Exception as exc:  # bytes that are not Dask's protocol (any parser error)
        log.debug("reading from %s: %r", address, exc)
        answer = None
    kind = answer.get("type") if isinstance(answer, dict) else None
    if kind != "Scheduler":
        what = f"is a Dask {kind}" if isinstance(kind, str) else "answers, but not as Dask"
        raise UsageError(
            f"The address {address} {what}, not a Dask scheduler: give the scheduler's "
            "address (`dask scheduler` listens on port 8786)."
        )


def _client_class() -> Any:
    try:
        from distributed import Client
    except ImportError:
        raise UsageError(MISSING_DASK) from None
    return Client


def backend_for(value: str, workers: int | None = None) -> Backend:
    """The backend ``--executor VALUE`` names; UsageError listing the valid forms when
    it names none, or when Dask is wanted but not installed."""
    text = value.strip()
    if text.lower() == "local":
        return LocalBackend(workers)
    scheme, sep, rest = text.partition("://")
    host, _, port = rest.rpartition(":")
    if sep and scheme.lower() in ("dask", "tcp") and host and port.isdigit():
        _client_class()
        if workers is not None:
            log.warning("--workers applies to the local executor; the Dask workers decide")
        return DaskBackend(f"tcp://{host}:{port}")
    raise UsageError(f"Unknown executor '{value}'. Use one of: {FORMS}")


def installed_version() -> str:
    """The kindvoice version of the process it runs in (asked of every Dask worker)."""
    return __version__


# --------------------------------------------------------------------------- child renders

_CHILD = "from kindvoice.publish.executors import child_main; child_main()"


def run_in_child(job: Job, log_level: int = logging.WARNING) -> Outcome:
    """Render ``job`` in a fresh interpreter and return its Outcome: the job goes in on
    stdin, the Outcome comes back on stdout (both pickled), the child's log goes to this
    process's stderr."""
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD],
        input=pickle.dumps((job, log_level)),
        stdout=subprocess.PIPE,
        check=False,
    )
    try:
        outcome = pickle.loads(proc.stdout) if proc.returncode == 0 else None
    except (pickle.UnpicklingError, EOFError, AttributeError, ValueError):
        outcome = None
    if not isinstance(outcome, Outcome):
        message = f"the render process crashed (exit code {proc.returncode})"
        return Outcome(job.row, job.name, "failed", message=message, exit_code=ExitStatus.INTERNAL)
    return outcome


def child_main() -> None:
    """The child's side of ``run_in_child``. Whatever the render itself writes to stdout
    is sent to stderr, so stdout carries the Outcome and nothing else."""
    results = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    job, log_level = pickle.load(sys.stdin.buffer)
    init_worker_logging(log_level)
    with results:
        pickle.dump(run_job(job), results)
