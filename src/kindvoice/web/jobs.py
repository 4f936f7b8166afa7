"""Render jobs for the web page: a bounded pool of worker threads fed first in, first out.

A job is a function that renders something and returns where the result is (a session
name, a preview's address). ``JobQueue`` runs at most ``workers`` of them at once (one
per core by default: each render is mostly numpy work) and refuses new ones once
``limit`` are waiting or running, so one user cannot queue up the machine for hours.
Jobs keep their progress (stage and fraction done) for the page to poll.

Previews and voice samples (``LIGHT_KINDS``, the only work a listener's link may cause)
have a small limit of their own (``light_limit``) and wait behind the teacher's renders,
so a class tapping "Play a preview" never refuses nor holds up the teacher's Build. A job
submitted with a ``key`` (a preview's file) is shared: while one with that key is
unfinished, asking again returns it instead of rendering the same clip twice.

Work nobody waits for is cancelled (``CANCELLABLE``: previews, voice samples, the Build
slider's measuring; never a teacher's render, which is kept work). A page that waits on a
job names itself (``waiter``) when it asks and polls; it ``leave``s when it moves on
(another engine, voice or practice, or the page closed: ``navigator.sendBeacon``). A job
whose every waiter has left, or that nobody has polled for ``ABANDON_S``, is cancelled:
a waiting one never starts, a running one stops (its speech workers within a quarter
second: the job's flag is ``speech.synth.AMBIENT_STOP`` while it runs) and ends
"cancelled". Several pages can wait on one shared job: it goes on while one is left.

Each job's state carries its time left (``web.eta.TimeLeft``, from its own progress) and
how long it has run, so every wait on the page says the same thing the same way.

With a ``web.db.Database`` every job is also recorded there with the form that asked for
it, so after a restart ``get`` still finds it: a job the restart cut short is
"interrupted" (``Database.interrupt_unfinished``) and its form can be sent again.
"""

from __future__ import annotations

import itertools
import logging
import os
import queue
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kindvoice.errors import KindvoiceError, QueueFull, SpeechStopped, internal_error
from kindvoice.web.db import Database
from kindvoice.web.eta import TimeLeft, left_words

log = logging.getLogger(__name__)

#: (stage, done, total), as ``pipeline.Progress``
Progress = Callable[[str, int, int], None]
Work = Callable[[Progress], str]
#: a form's fields as (name, value) pairs, as kept to send it again
FormPairs = list[tuple[str, str]]

# How much of a render each pipeline stage takes (measured with espeak on a cold cache:
# speech about a third, mixing and encoding the rest); the bar moves evenly enough.
# A course counts whole sessions.
_STAGES = {"speech": (0.0, 0.35), "mix": (0.35, 1.0), "sessions": (0.0, 1.0)}
#: kinds whose stages weigh otherwise: measuring is speech only
_KIND_STAGES = {"measure": {"speech": (0.0, 1.0)}}
_KEEP_FINISHED = 200  # finished jobs remembered for polling; older ones are forgotten
#: short clips anyone with a link may ask for: a limit of their own, after the renders
LIGHT_KINDS = frozenset({"preview"})
#: the Build slider's measuring: started at once on a thread of its own (the teacher's
#: page waits on it), outside the queue and its limits
PROMPT_KINDS = frozenset({"measure"})
#: work that only a waiting page wants: cancelled when nobody waits for it any more
CANCELLABLE = LIGHT_KINDS | PROMPT_KINDS
#: a cancellable job nobody has polled for this long (s) is cancelled: a page polls every
#: half second, and leaves what it waits for when hidden (it asks again when seen), so
#: this catches the pages that vanish without a word (a lost beacon, a crash)
ABANDON_S = 10.0
_REAP_EVERY_S = 1.0
CANCELLED = "Nobody waits for it any more: stopped."
_STOP = -1  # a worker's stop sign goes before every waiting job


@dataclass
class Job:
    """One render: its state as the page shows it. ``result`` is set when done."""

    id: str
    kind: str  # "session", "timer", "course", "preview" or "measure"
    title: str
    #: waiting -> running -> done | failed | cancelled; interrupted (restart)
    status: str = "waiting"
    stage: str = ""
    fraction: float = 0.0
    message: str = ""
    result: str | None = None
    created: float = field(default_factory=time.time)
    seconds: float | None = None  # how long the work itself took
    form: FormPairs = field(default_factory=list)  # the form that asked for it
    #: set to cancel it: the work stops at its next progress report or spoken phrase
    stop: threading.Event = field(default_factory=threading.Event, repr=False)
    eta: TimeLeft = field(default_factory=TimeLeft, repr=False)
    started: float | None = None  # time.monotonic() when it started running
    waiters: set[str] = field(default_factory=set)  # the pages waiting on it
    seen: float = field(default_factory=time.monotonic)  # last asked for or polled
    error: KindvoiceError | None = field(default=None, repr=False)  # why it failed

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed", "interrupted", "cancelled")

    @property
    def retryable(self) -> bool:
        return self.status in ("failed", "interrupted") and self.kind not in CANCELLABLE


class JobQueue:
    """``workers`` threads taking jobs in the order they came; at most ``limit`` unfinished."""

    def __init__(
        self,
        workers: int | None = None,
        limit: int = 8,
        db: Database | None = None,
        light_limit: int = 2,
    ) -> None:
        self.db = db
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.limit = max(1, limit)
        self.light_limit = max(1, light_limit)
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._keys: dict[str, str] = {}  # a shared job's key -> its id
        # (0 for a render or 1 for a light job, arrival order, job, work): renders first
        self._waiting: queue.PriorityQueue[tuple[int, int, Job | None, Work | None]] = (
            queue.PriorityQueue()
        )
        self._order = itertools.count()
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._run, name=f"kindvoice-job-{i}", daemon=True)
            for i in range(self.workers)
        ]
        self._threads.append(
            threading.Thread(target=self._reap, name="kindvoice-job-reaper", daemon=True)
        )
        self._stopping = threading.Event()
        for thread in self._threads:
            thread.start()

    def submit(
        self,
        kind: str,
        title: str,
        work: Work,
        form: FormPairs | None = None,
        key: str | None = None,
        waiter: str | None = None,
    ) -> Job:
        """Queue ``work`` (asked for by ``form``); raises ``QueueFull`` when ``limit`` jobs
        (``light_limit`` previews) are unfinished. With ``key``: the unfinished job of that
        key when there is one (whoever asked for it), else a new one. ``waiter``: the page
        that waits on it (``leave``)."""
        light = kind in LIGHT_KINDS
        with self._lock:
            shared = self._jobs.get(self._keys.get(key, "")) if key else None
            if shared is not None and not shared.finished:
                self._watch(shared, waiter)
                return shared
            limit = self.light_limit if light else self.limit
            unfinished = sum(
                not j.finished and j.kind not in PROMPT_KINDS and (j.kind in LIGHT_KINDS) == light
                for j in self._jobs.values()
            )
            if unfinished >= limit and kind not in PROMPT_KINDS:
                what = "previews are already being prepared" if light else "renders are already"
                raise QueueFull(
                    f"{unfinished} {what}{'' if light else ' waiting or running'} (the limit "
                    f"is {limit}). Try again when one has finished."
                )
            job = Job(uuid.uuid4().hex[:12], kind, title, form=list(form or []))
            self._watch(job, waiter)
            self._jobs[job.id] = job
            if key:
                self._keys[key] = job.id
            self._forget_old()
        if self.db is not None:
            self.db.put_job({**job.__dict__})
        if kind in PROMPT_KINDS:
            threading.Thread(
                target=self._do, args=(job, work), name=f"kindvoice-{kind}", daemon=True
            ).start()
        else:
            self._waiting.put((int(light), next(self._order), job, work))
        log.info("queued %s job %s: %s", kind, job.id, title)
        return job

    def get(self, job_id: str) -> Job | None:
        """The job, from memory or (after a restart) from the database."""
        with self._lock:
            job = self._jobs.get(job_id)
        if job is not None or self.db is None:
            return job
        row = self.db.job(job_id)
        if row is None:
            return None
        status = "interrupted" if row["status"] in ("waiting", "running") else row["status"]
        form = [(str(name), str(value)) for name, value in row["form"]]
        return Job(
            row["id"],
            row["kind"],
            row["title"],
            status=status,
            message=row["message"],
            result=row["result"],
            created=row["created"],
            seconds=row["seconds"],
            form=form,
        )

    def watch(self, job: Job, waiter: str | None = None) -> None:
        """A page polled ``job`` (``waiter``: which one): somebody still waits for it."""
        with self._lock:
            self._watch(job, waiter)

    def wait(self, job: Job, poll_s: float = 0.2) -> Job:
        """Wait here for ``job`` to finish, watching it meanwhile (a request that answers
        with the result rather than the job); re-raises the error it failed with."""
        while not job.finished:
            self.watch(job)
            time.sleep(poll_s)
        if job.error is not None:
            raise job.error
        return job

    def leave(self, job_id: str, waiter: str) -> bool:
        """The page ``waiter`` waits for ``job_id`` no more; a cancellable job nobody else
        waits for is cancelled (True if so)."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or waiter not in job.waiters:  # only a page that waits may leave
                return False
            job.waiters.discard(waiter)
            if job.waiters:
                log.info("job %s: a page left, %d still wait", job.id, len(job.waiters))
                return False
        return self.cancel(job)

    def cancel(self, job: Job) -> bool:
        """Cancel an unfinished cancellable ``job``: a waiting one never starts, a running
        one stops. False for a teacher's render or a finished job."""
        with self._lock:
            if job.kind not in CANCELLABLE or job.finished:
                return False
            job.stop.set()
            if job.status == "waiting":  # the worker that takes it skips it
                job.status, job.message = "cancelled", CANCELLED
        log.info("job %s (%s) cancelled: nobody waits for it", job.id, job.title)
        if job.status == "cancelled":
            self._record(job)
        return True

    def position(self, job: Job) -> int:
        """How many jobs are ahead of a waiting ``job`` (0 once it runs): the renders
        waiting before it, and for a preview every waiting render too."""
        with self._lock:
            if job.status != "waiting":
                return 0
            light = job.kind in LIGHT_KINDS
            ahead, before = 0, True
            for other in self._jobs.values():
                before = before and other is not job
                if other is job or other.status != "waiting":
                    continue
                other_light = other.kind in LIGHT_KINDS
                ahead += (before and other_light == light) or (light and not other_light)
            return ahead

    def running(self) -> int:
        """How many jobs are rendering now."""
        with self._lock:
            return sum(1 for job in self._jobs.values() if job.status == "running")

    def state(self, job: Job) -> dict[str, Any]:
        """The job as JSON for the page: ``ahead`` waiting jobs before it, ``running`` jobs
        on the ``workers`` (a waiting job with none ahead starts when one is free);
        ``elapsed_s`` it has run (waited, while waiting), ``left_s`` its time left (None
        until it can be told; ``step_left_s``: its current step's, while a later step's
        pace is unknown) and ``left`` that in the page's words."""
        now = time.monotonic()
        running = job.status == "running"
        left = job.eta.seconds(now) if running else None
        since = job.started if running and job.started is not None else job.seen
        return {
            "id": job.id,
            "kind": job.kind,
            "title": job.title,
            "status": job.status,
            "stage": job.stage,
            "percent": round(100.0 * job.fraction, 1),
            "ahead": self.position(job),
            "running": self.running(),
            "workers": self.workers,
            "message": job.message,
            "result": job.result,
            "seconds": job.seconds,
            "retryable": job.retryable,
            "elapsed_s": round(now - since, 1) if not job.finished else job.seconds,
            "left_s": None if left is None or not job.eta.final else round(left, 1),
            "step_left_s": None if left is None or job.eta.final else round(left, 1),
            "left": left_words(left, job.eta.final),
        }

    def shutdown(self) -> None:
        """Let the worker threads end after their current job (they are daemons anyway);
        the jobs still waiting are not started."""
        self._stopping.set()
        for _ in self._threads:
            self._waiting.put((_STOP, next(self._order), None, None))

    # ------------------------------------------------------------------ internals

    def _watch(self, job: Job, waiter: str | None) -> None:
        job.seen = time.monotonic()
        if waiter:
            job.waiters.add(waiter[:64])

    def _reap(self) -> None:
        """Cancel the cancellable jobs nobody has polled for ``ABANDON_S``."""
        while not self._stopping.wait(_REAP_EVERY_S):
            now = time.monotonic()
            with self._lock:
                stale = [
                    job
                    for job in self._jobs.values()
                    if job.kind in CANCELLABLE and not job.finished and now - job.seen > ABANDON_S
                ]
            for job in stale:
                log.info("job %s: not polled for %.0f s", job.id, now - job.seen)
                self.cancel(job)

    def _forget_old(self) -> None:
        finished = [key for key, job in self._jobs.items() if job.finished]
        for key in finished[: max(0, len(finished) - _KEEP_FINISHED)]:
            del self._jobs[key]
        self._keys = {key: id_ for key, id_ in self._keys.items() if id_ in self._jobs}

    def _run(self) -> None:
        while True:
            _, _, job, work = self._waiting.get()
            if job is None or work is None:
                return
            self._do(job, work)

    def _do(self, job: Job, work: Work) -> None:
        """Run one job on this thread, unless it was cancelled while it waited."""
        from kindvoice.speech.synth import AMBIENT_STOP

        with self._lock:
            if job.status != "waiting":  # cancelled before it started
                return
            job.status = "running"
            job.started = time.monotonic()
        self._record(job)
        started = time.perf_counter()
        stages = _KIND_STAGES.get(job.kind, _STAGES)

        def progress(stage: str, done: int, total: int) -> None:
            if job.stop.is_set():  # the mixing's blocks stop here too
                raise SpeechStopped(CANCELLED)
            low, high = stages.get(stage, (job.fraction, job.fraction))
            share = done / total if total > 0 else 1.0
            job.stage = stage
            job.fraction = max(job.fraction, low + (high - low) * min(share, 1.0))
            job.eta.report(job.fraction, stage=stage, until=high)

        ambient = AMBIENT_STOP.set(job.stop)
        try:
            job.result = work(progress)
        except KindvoiceError as exc:
            job.error = exc
            job.message = CANCELLED if job.stop.is_set() else exc.format_message()
            job.status = "cancelled" if job.stop.is_set() else "failed"
            log.info("job %s %s: %s", job.id, job.status, job.message)
        except Exception as exc:  # a bug: keep the server up, tell the page
            log.exception("job %s crashed", job.id)
            job.message = internal_error(exc)
            job.status = "failed"
        else:
            job.fraction = 1.0
            job.status = "done"
        finally:
            AMBIENT_STOP.reset(ambient)
        job.seconds = round(time.perf_counter() - started, 2)
        self._record(job)

    def _record(self, job: Job) -> None:
        if self.db is None:
            return
        try:
            self.db.update_job(job.id, job.status, job.message, job.result, job.seconds)
        except Exception:  # the render is done; a full disk must not kill the worker
            log.exception("cannot record job %s", job.id)
