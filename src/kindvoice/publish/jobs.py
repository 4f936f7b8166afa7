"""The batch job model: what one render of a batch is (``Job``), what became of it
(``Outcome``), the hash and the check that say whether its output is up to date
(``job_digest``, ``is_up_to_date``), and the function a worker runs (``run_job``).

``batch`` makes Jobs from a manifest and runs them; ``executors`` runs them on a process
pool or a Dask cluster. Both import this module and neither imports the other.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kindvoice import __version__
from kindvoice.errors import (
    AudioIOError,
    ExitStatus,
    KindvoiceError,
    internal_error,
    read_regular_file,
)
from kindvoice.settings import RenderRequest

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    """One session to render: the request (its sidecars, cover, title and track included)
    and where it stands in the batch."""

    row: int  # 1-based, for messages ("row 3")
    name: str  # the output's name relative to the output folder
    request: RenderRequest


@dataclass(frozen=True)
class Outcome:
    """What became of one row: ``status`` is "rendered", "skipped" or "failed"."""

    row: int
    name: str
    status: str
    seconds: float | None = None
    message: str = ""
    exit_code: int = 0


_NOT_HASHED = (
    *("output", "workers", "use_cache", "force", "templates_dir", "encoder_threads", "stamp"),
    *("cover", "sidecars", "title", "track"),
)


def job_digest(job: Job) -> str:
    """A hash of everything that decides the output's bytes: the request, the template
    text, the cover image, the publishing options and the kindvoice version."""
    from kindvoice.export.cover import MAX_COVER_BYTES
    from kindvoice.template.library import resolve_practice
    from kindvoice.template.parse import MAX_TEMPLATE_BYTES

    request = dataclasses.asdict(job.request)
    # not what the files hold (where, how fast) or described on its own (below)
    for key in _NOT_HASHED:
        request.pop(key, None)
    digest = hashlib.sha256()
    described = {
        "kindvoice": __version__,
        "request": request,
        "name": job.name,
        "sidecars": job.request.sidecars,
        "title": job.request.title,
        "track": job.request.track,
    }
    digest.update(json.dumps(described, sort_keys=True, default=str).encode("utf-8"))
    template = resolve_practice(
        job.request.practice, job.request.templates_dir, job.request.language
    )
    # regular files of bounded size only: a named pipe would wait, /dev/zero never ends
    digest.update(read_regular_file(template, "template", MAX_TEMPLATE_BYTES))
    if job.request.cover is not None:
        cover = job.request.cover
        digest.update(read_regular_file(cover, "cover image", MAX_COVER_BYTES, AudioIOError))
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
        stamp = {"inputs": job_digest(job)}  # committed with the files
        result = render(dataclasses.replace(job.request, encoder_threads=1, stamp=stamp))
    except KindvoiceError as exc:
        return Outcome(job.row, job.name, "failed", message=exc.message, exit_code=exc.exit_code)
    except Exception as exc:  # a bug in one render must not take the batch down
        log.debug("row %d failed", job.row, exc_info=True)
        message = internal_error(exc)
        return Outcome(job.row, job.name, "failed", message=message, exit_code=ExitStatus.INTERNAL)
    return Outcome(job.row, job.name, "rendered", seconds=result.seconds)


def is_up_to_date(job: Job) -> bool:
    """True when the stamp matches the job's inputs and the output and its sidecars still
    hold the bytes it recorded (``outputs.unchanged``): an emptied, cut-off or replaced
    file is not up to date. A stamp of an earlier version (no file hashes) counts when
    its inputs match: it cannot tell a damaged file, but nothing is written then."""
    from kindvoice.export.outputs import read_stamp, unchanged
    from kindvoice.export.sidecars import sidecar_paths

    output = job.request.output
    files = [output, *(sidecar_paths(output).values() if job.request.sidecars else ())]
    if not all(p.is_file() for p in files):
        return False
    stamp = read_stamp(output)
    try:
        if stamp is None or stamp.get("inputs") != job_digest(job):
            return False
    except (OSError, KindvoiceError):
        return False  # the template or the cover is gone: render again (and fail there)
    if is_legacy(stamp):
        return True
    return all(unchanged(stamp, p) for p in files)


def is_legacy(stamp: Mapping[str, Any] | None) -> bool:
    """Whether ``stamp`` is an earlier version's: inputs, but no hash of any file."""
    return stamp is not None and "inputs" in stamp and "files" not in stamp


LEGACY_NOTE = "stamp of an older kindvoice: files not checked (--force renders again)"
