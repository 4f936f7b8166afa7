"""Batches: many renders from one manifest, in parallel, skipping what is up to date.

The manifest's rows are read by ``publish.manifest`` (CSV or YAML, one session a row).

Rows become ``Job``s as the batch takes them; at most ``IN_FLIGHT`` run at a time,
longest first within each ``LOOKAHEAD`` rows, on a backend from
``kindvoice.publish.executors``: a local process pool (one render per core, each speaking
with one worker so the cores are not oversubscribed) or a Dask cluster. A row that cannot
be read or fails to render becomes a failed ``Outcome`` with the reason; the others go on.
Beside each output a small stamp (``.NAME.kindvoice.json``) records a hash of the
request, the template text, the cover and the kindvoice version; a row whose output,
sidecars and stamp match is skipped.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence, Sized
from concurrent.futures import FIRST_COMPLETED, Future, wait
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING

from kindvoice.audio import s_to_samples
from kindvoice.durations import clock
from kindvoice.errors import (
    BatchFailed,
    ExitStatus,
    KindvoiceError,
)
from kindvoice.publish.jobs import LEGACY_NOTE, Job, Outcome, is_legacy, is_up_to_date

if TYPE_CHECKING:
    from kindvoice.publish.executors import Backend

log = logging.getLogger(__name__)

#: progress callback: (sessions done, sessions in all)
BatchProgress = Callable[[int, int], None]
#: jobs submitted and not yet finished, whatever the manifest's length (a window over it)
IN_FLIGHT = 256
#: jobs put in longest-first order together
LOOKAHEAD = 1024
#: rows the failure line names; the table has every one
NAMED_ROWS = 20
#: the output column of a table printed as rows finish (longer names push the note on)
NAME_WIDTH = 24


# --------------------------------------------------------------------------- running


def longest_first(jobs: Sequence[Job]) -> list[Job]:
    """``jobs`` by requested length, longest first, so the last to start is a short one
    and no worker goes on alone long after the others. Jobs of the practice's own length
    (no minutes asked) come last; equal lengths keep the manifest's order."""
    return sorted(jobs, key=lambda job: -(job.request.length_ms or 0.0))


def _settled(future: Future[Outcome], job: Job) -> Outcome:
    """The Outcome of a finished future; a worker that died is a failed row."""
    try:
        return future.result()
    except BrokenProcessPool:
        return Outcome(job.row, job.name, "failed", message="the render process crashed")
    except Exception as exc:  # the cluster lost the worker or the task (Dask)
        message = f"the worker failed: {type(exc).__name__}: {exc}"
        return Outcome(job.row, job.name, "failed", message=message, exit_code=ExitStatus.INTERNAL)


def _by_length(jobs: Iterator[Job]) -> Iterator[Job]:
    """``jobs`` longest first within each ``LOOKAHEAD`` of them (a whole manifest of
    that many or fewer is in order): the order without holding every job."""
    while chunk := list(itertools.islice(jobs, LOOKAHEAD)):
        yield from longest_first(chunk)


def run_batch(
    items: Iterable[Job | Outcome],
    *,
    backend: Backend | None = None,
    force: bool = False,
    progress: BatchProgress | None = None,
    report: Callable[[Outcome], None] | None = None,
    total: int | None = None,
) -> list[Outcome]:
    """Render every Job not up to date (all with ``force``) on ``backend`` (default: a
    local pool with one worker per core), longest first; returns one Outcome per item, in
    manifest order. ``items`` are taken as the work goes: at most ``IN_FLIGHT`` jobs are
    submitted at a time, and ``report`` hears of each row as it ends. ``total``: how
    many items there are, for ``progress`` (default: ``len(items)``)."""
    from kindvoice.publish.executors import LocalBackend

    backend = backend or LocalBackend()
    if total is None:
        total = len(items) if isinstance(items, Sized) else 0
    outcomes: dict[int, Outcome] = {}

    def settle(outcome: Outcome) -> None:
        outcomes[outcome.row] = outcome
        if report:
            report(outcome)
        if progress:
            progress(len(outcomes), total)

    if progress:
        progress(0, total)
    jobs = _by_length(_to_render(items, force, settle))
    first = next(jobs, None)
    if first is not None:
        log.info("rendering up to %d sessions on %s", total, backend.describe(total))
        _run_pool(backend, itertools.chain([first], jobs), max(total, 1), settle)
    return [outcomes[row] for row in sorted(outcomes)]


def _to_render(
    items: Iterable[Job | Outcome], force: bool, settle: Callable[[Outcome], None]
) -> Iterator[Job]:
    """The jobs to render, as they are taken: an Outcome (a row that could not be read),
    a job up to date, or one whose outputs may not be replaced is settled here instead."""
    from kindvoice.export.outputs import OutputSet, read_stamp

    for item in items:
        if isinstance(item, Outcome):
            settle(item)
        elif not force and is_up_to_date(item):
            stamp = read_stamp(item.request.output)
            note = LEGACY_NOTE if is_legacy(stamp) else ""
            seconds = (stamp or {}).get("seconds")
            settle(Outcome(item.row, item.name, "skipped", message=note, seconds=seconds))
        else:
            # a file the batch did not write is replaced only with --force: refused here
            request = dataclasses.replace(item.request, force=force)
            item = dataclasses.replace(item, request=request)
            outputs = OutputSet(
                request.output, sidecars=request.sidecars, force=force, cover=request.cover
            )
            try:
                outputs.check()
            except KindvoiceError as exc:
                message, code = exc.message, exc.exit_code
                settle(Outcome(item.row, item.name, "failed", message=message, exit_code=code))
                continue
            request.output.parent.mkdir(parents=True, exist_ok=True)
            yield item


def _run_pool(
    backend: Backend, queue: Iterator[Job], size: int, settle: Callable[[Outcome], None]
) -> None:
    """Run ``queue`` on ``backend``, at most ``IN_FLIGHT`` submitted at a time, settling
    each job as it ends."""
    task = backend.task()
    with backend.executor(size) as pool:
        pending: dict[Future[Outcome], Job] = {}
        while True:
            while len(pending) < IN_FLIGHT and (job := next(queue, None)) is not None:
                pending[pool.submit(task, job)] = job
            if not pending:
                break
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                job = pending.pop(future)
                settle(_settled(future, job))


def summary_header(width: int = NAME_WIDTH) -> str:
    return f"{'row':>3}  {'status':<8}  {'output':<{width}}  {'length':>7}  note"


def summary_row(o: Outcome, width: int = NAME_WIDTH) -> str:
    length = clock(s_to_samples(o.seconds)) if o.seconds is not None else ""
    return f"{o.row:>3}  {o.status:<8}  {o.name:<{width}}  {length:>7}  {o.message}"


def summary_counts(outcomes: Iterable[Outcome]) -> str:
    counts = Counter(o.status for o in outcomes)
    return f"{counts['rendered']} rendered, {counts['skipped']} skipped, {counts['failed']} failed"


def summary_lines(outcomes: Sequence[Outcome]) -> list[str]:
    """The summary table: one line per session, then the counts."""
    width = max([len(o.name) for o in outcomes] + [6])
    rows = [summary_row(o, width) for o in outcomes]
    return [summary_header(width), *rows, summary_counts(outcomes)]


def check_outcomes(outcomes: Sequence[Outcome]) -> None:
    """Raise BatchFailed when any session failed, naming the first ``NAMED_ROWS`` rows."""
    failed = [o.row for o in outcomes if o.status == "failed"]
    if failed:
        rows = ", ".join(str(row) for row in failed[:NAMED_ROWS])
        if len(failed) > NAMED_ROWS:
            rows += f" and {len(failed) - NAMED_ROWS:,} more"
        raise BatchFailed(f"{len(failed)} of {len(outcomes)} sessions failed (rows {rows}).")
