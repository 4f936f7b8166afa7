"""The batch job model: what one render of a batch is (``Job``), what became of it
(``Outcome``), the hash that says whether its output is up to date (``job_digest``), and
the function a worker runs (``run_job``).

``batch`` makes Jobs from a manifest and runs them; ``executors`` runs them on a process
pool or a Dask cluster. Both import this module and neither imports the other.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path

from kindvoice import __version__
from kindvoice.errors import AudioIOError, ExitStatus, KindvoiceError, read_regular_file
from kindvoice.settings import RenderRequest

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    """One session to render: the request plus what publishing adds to it."""

    row: int  # 1-based, for messages ("row 3")
    name: str  # the output's name relative to the output folder
    request: RenderRequest
    sidecars: bool = True
    cover: Path | None = None
    title: str | None = None
    track: tuple[int, int] | None = None


@dataclass(frozen=True)
class Outcome:
    """What became of one row: ``status`` is "rendered", "skipped" or "failed"."""

    row: int
    name: str
    status: str
    seconds: float | None = None
    message: str = ""
    exit_code: int = 0


def job_digest(job: Job) -> str:
    """A hash of everything that decides the output's bytes: the request, the template
    text, the cover image, the publishing options and the kindvoice version."""
    from kindvoice.export.cover import MAX_COVER_BYTES
    from kindvoice.template.library import resolve_practice
    from kindvoice.template.parse import MAX_TEMPLATE_BYTES

    request = dataclasses.asdict(job.request)
    for volatile in ("output", "workers", "use_cache", "force", "templates_dir"):
        request.pop(volatile, None)
    digest = hashlib.sha256()
    described = {
        "kindvoice": __version__,
        "request": request,
        "name": job.name,
        "sidecars": job.sidecars,
        "title": job.title,
        "track": job.track,
    }
    digest.update(json.dumps(described, sort_keys=True, default=str).encode("utf-8"))
    template = resolve_practice(
        job.request.practice, job.request.templates_dir, job.request.language
    )
    # regular files of bounded size only: a named pipe would wait, /dev/zero never ends
    digest.update(read_regular_file(template, "template", MAX_TEMPLATE_BYTES))
    if job.cover is not None:
        digest.update(read_regular_file(job.cover, "cover image", MAX_COVER_BYTES, AudioIOError))
    return digest.hexdigest()


def init_worker_logging(level: int) -> None:
    """Log in a worker process as the batch's own process does (``level`` is its level),
    and end with the batch: a batch killed or terminated leaves no render writing on."""
    from kindvoice.speech.synth import die_with_parent

    die_with_parent()
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


def run_job(job: Job) -> Outcome:
    """Render one job (in a pool worker) and report it as plain, picklable data: click's
    exceptions do not survive the trip between processes. A batch runs one render per
    core, so each render encodes on one thread."""
    from kindvoice.pipeline import render

    try:
        result = render(
            job.request,
            sidecars=job.sidecars,
            cover=job.cover,
            title=job.title,
            track=job.track,
            encoder_threads=1,
            stamp={"inputs": job_digest(job)},  # committed with the files
        )
    except KindvoiceError as exc:
        return Outcome(job.row, job.name, "failed", message=exc.message, exit_code=exc.exit_code)
    except Exception as exc:  # a bug in one render must not take the batch down
        log.debug("row %d failed", job.row, exc_info=True)
        message = f"internal error: {type(exc).__name__}: {exc}"
        return Outcome(job.row, job.name, "failed", message=message, exit_code=ExitStatus.INTERNAL)
    return Outcome(job.row, job.name, "rendered", seconds=result.seconds)
