"""Batches: many renders from one manifest, in parallel, skipping what is up to date.

A manifest is CSV (a header row, one session per row) or YAML (a list of sessions, or a
mapping with ``defaults`` and ``sessions``). Columns: ``practice`` (an id or a template
path, relative to the manifest), ``minutes`` (or ``length`` as MM:SS), ``engine``,
``voice``, ``rate``, ``background``, ``variables`` (``name=value; name=value`` in CSV, a
mapping in YAML), ``quality``, ``title``, ``artist``, ``album``, ``cover`` and ``output``
(a file name inside the output folder; its extension picks the format).

Every row becomes a ``Job``; jobs run, longest first, on a backend from
``kindvoice.publish.executors``: a local process pool (one render per core, each speaking
with one worker so the cores are not oversubscribed) or a Dask cluster. A row that cannot
be read or fails to render becomes a failed ``Outcome`` with the reason; the others go on.
Beside each output a small stamp (``.NAME.kindvoice.json``) records a hash of the
request, the template text, the cover and the kindvoice version; a row whose output,
sidecars and stamp match is skipped.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any

from kindvoice.audio import s_to_samples
from kindvoice.durations import clock, parse_minutes
from kindvoice.errors import (
    ExitStatus,
    KindvoiceError,
    UsageError,
    check_regular_file,
    did_you_mean,
)
from kindvoice.publish.fields import rate_field
from kindvoice.publish.jobs import Job, Outcome, job_digest
from kindvoice.settings import MixSettings, RenderRequest, VoiceSettings

if TYPE_CHECKING:
    from kindvoice.publish.executors import Backend

log = logging.getLogger(__name__)

COLUMNS = (
    "practice",
    "path",
    "minutes",
    "length",
    "engine",
    "voice",
    "rate",
    "language",
    "background",
    "variables",
    "quality",
    "title",
    "artist",
    "album",
    "cover",
    "output",
)

#: progress callback: (sessions done, sessions in all)
BatchProgress = Callable[[int, int], None]


class BatchFailed(KindvoiceError):
    """Some sessions of a batch failed (each is named in the summary table)."""

    exit_code = ExitStatus.SOME_FAILED


# --------------------------------------------------------------------------- manifests


def safe_output(folder: Path, name: str) -> Path:
    """``name`` inside ``folder``; absolute paths and ``..`` are refused, so a manifest
    can never write outside the folder it was given."""
    text = name.strip()
    pure = PurePath(text)
    if not text or pure.is_absolute() or text.startswith(("/", "\\")) or ".." in pure.parts:
        raise UsageError(
            f"Output '{name}' must be a file name inside the output folder "
            "(no absolute path, no '..')."
        )
    path = folder / pure
    if not path.resolve().is_relative_to(folder.resolve()):
        raise UsageError(f"Output '{name}' leaves the output folder '{folder}'.")
    return path


def _variables(value: Any, row: int) -> dict[str, str]:
    if value is None or value == "":
        return {}
    if isinstance(value, Mapping):
        return {str(k): "" if v is None else str(v) for k, v in value.items()}
    pairs: dict[str, str] = {}
    for part in str(value).split(";"):
        if not part.strip():
            continue
        name, sep, text = part.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"Row {row}: variables need name=value; got '{part.strip()}'.")
        pairs[name.strip()] = text.strip()
    return pairs


def _minutes(fields: Mapping[str, Any], row: int) -> float | None:
    """A row's minutes or length, read as ``--minutes`` and ``--length`` are (``durations``)."""
    minutes, length = fields.get("minutes"), fields.get("length")
    if minutes not in (None, "") and length not in (None, ""):
        raise UsageError(f"Row {row}: give minutes or length, not both.")
    key, text = ("length", length) if length not in (None, "") else ("minutes", minutes)
    if text in (None, ""):
        return None
    value = parse_minutes(str(text), f"{key} of row {row}")
    if value <= 0:
        raise UsageError(f"Row {row}: {key} must be positive; got '{text}'.")
    return value


def _text(fields: Mapping[str, Any], key: str) -> str | None:
    value = fields.get(key)
    return None if value is None or str(value).strip() == "" else str(value).strip()


def job_from_row(
    fields: Mapping[str, Any],
    row: int,
    *,
    base: Path,
    output_dir: Path,
    templates_dir: Path | None = None,
    sidecars: bool = True,
) -> Job:
    """One manifest row as a Job; raises KindvoiceError naming the row when it is wrong.
    Relative template and cover paths are read relative to ``base`` (the manifest's
    folder)."""
    from kindvoice.export import formats
    from kindvoice.export.encode import format_for
    from kindvoice.export.quality import export_settings

    for key, value in fields.items():  # YAML gives any type: each column is text or a number
        if key != "variables" and (
            isinstance(value, (list, Mapping)) or (isinstance(value, float) and value != value)
        ):
            kind = "a list" if isinstance(value, list) else "a mapping"
            kind = "not a number" if isinstance(value, float) else kind
            raise UsageError(f"Row {row}: '{key}' must be text or a number; got {kind}.")
    practice = _text(fields, "practice") or _text(fields, "path")
    if practice is None:
        raise UsageError(f"Row {row}: no practice (give a practice id or a template path).")
    as_path = Path(practice).expanduser()
    # relative to the manifest when it names anything there (a pipe or device is then
    # refused by name, not reported missing)
    relative = base / as_path
    if not as_path.is_absolute() and os.path.lexists(relative) and not relative.is_dir():
        practice = str(base / as_path)
    minutes = _minutes(fields, row)
    output = _text(fields, "output")
    if output is None:
        stem = Path(practice).stem
        output = f"{stem}-{minutes:g}min.mp3" if minutes is not None else f"{stem}.mp3"
    path = safe_output(output_dir, output)
    if not formats.is_audio(path, "batch"):
        accepted = ", ".join(formats.extensions("batch"))
        raise UsageError(
            f"Row {row}: unknown output format '{path.suffix or path.name}'. Use one of: {accepted}"
        )
    format_for(path)  # fails now when the format needs ffmpeg and there is none
    rate_text = _text(fields, "rate")
    try:
        rate = float(rate_text) if rate_text is not None else None
    except ValueError:
        raise UsageError(f"Row {row}: rate must be a number; got '{rate_text}'.") from None
    rate = rate_field({"rate": rate}, f"Row {row}")  # the range of build's --rate
    cover_text = _text(fields, "cover")
    cover = None
    if cover_text is not None:
        cover = Path(cover_text).expanduser()
        cover = cover if cover.is_absolute() else base / cover
    request = RenderRequest(
        practice=practice,
        output=path,
        minutes=minutes,
        variables=_variables(fields.get("variables"), row),
        voice=VoiceSettings(
            engine=_text(fields, "engine"), voice=_text(fields, "voice"), rate=rate
        ),
        mix=MixSettings(background=_text(fields, "background")),
        export=export_settings(
            _text(fields, "quality"),
            artist=_text(fields, "artist") or "kindvoice",
            album=_text(fields, "album"),
        ),
        workers=1,  # one render per core already; more speech workers would fight
        templates_dir=templates_dir,
        language=_text(fields, "language"),
    )
    return Job(row, output, request, sidecars=sidecars, cover=cover, title=_text(fields, "title"))


def read_manifest(path: Path) -> list[dict[str, Any]]:
    """The rows of a CSV or YAML manifest, YAML ``defaults`` merged into each row."""
    check_regular_file(path, "manifest")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise UsageError(f"Cannot read manifest '{path}': {exc.strerror or exc}.") from None
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise UsageError(
            f"{path}:{line}: not UTF-8 (byte 0x{exc.object[exc.start]:02x}): save the "
            "manifest as UTF-8 in your editor or spreadsheet."
        ) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise UsageError(f"{path}:{line}: a NUL byte: the manifest is not a text file.")
    if path.suffix.lower() == ".csv":
        # as a file opened with newline='': str.splitlines would also split rows at
        # U+2028 and other Unicode line breaks inside a cell
        reader = csv.DictReader(io.StringIO(text, newline=""))
        try:
            rows: list[dict[str, Any]] = [
                {(k or "").strip().lower(): v for k, v in row.items()} for row in reader
            ]
        except csv.Error as exc:  # a cell over csv's field limit (128 KB), say
            raise UsageError(
                f"{path}:{reader.line_num + 1}: cannot read this row as CSV ({exc})."
            ) from None
    elif path.suffix.lower() in (".yaml", ".yml"):
        from kindvoice.template.frontmatter import load_yaml  # no aliases, one-line errors

        data = load_yaml(text, str(path))
        defaults: dict[str, Any] = {}
        if isinstance(data, Mapping):
            if not isinstance(data.get("defaults") or {}, Mapping):
                raise UsageError(f"Manifest '{path}': 'defaults' must be a mapping (key: value).")
            defaults = dict(data.get("defaults") or {})
            data = data.get("sessions")
        if not isinstance(data, list) or not all(isinstance(r, Mapping) for r in data):
            raise UsageError(
                f"Manifest '{path}' must be a list of sessions, or have 'sessions:' (a list)."
            )
        rows = [{**defaults, **{str(k).lower(): v for k, v in r.items()}} for r in data]
    else:
        raise UsageError(f"Manifest '{path}' must be .csv, .yaml or .yml.")
    for row in rows:
        for key in row:
            if key not in COLUMNS:
                hint = did_you_mean(key, COLUMNS)
                raise UsageError(
                    f"Manifest '{path}': unknown column '{key}'.{hint} "
                    f"Columns: {', '.join(COLUMNS)}"
                )
    if not rows:
        raise UsageError(f"Manifest '{path}' lists no sessions.")
    return rows


def load_manifest(
    path: Path,
    output_dir: Path,
    templates_dir: Path | None = None,
    sidecars: bool = True,
    language: str | None = None,
) -> list[Job | Outcome]:
    """Every row as a Job, or as a failed Outcome when the row itself is wrong;
    ``language`` is the rows' language unless a row names one."""
    items: list[Job | Outcome] = []
    seen: dict[Path, int] = {}
    stems: dict[Path, tuple[int, str]] = {}
    for row, fields in enumerate(read_manifest(path), start=1):
        if language is not None and not _text(fields, "language"):
            fields = {**fields, "language": language}
        try:
            job = job_from_row(
                fields,
                row,
                base=path.parent,
                output_dir=output_dir,
                templates_dir=templates_dir,
                sidecars=sidecars,
            )
        except KindvoiceError as exc:
            name = str(fields.get("output") or fields.get("practice") or f"row {row}")
            items.append(Outcome(row, name, "failed", message=exc.message, exit_code=exc.exit_code))
            continue
        key = job.request.output.resolve()
        if key in seen:
            items.append(
                Outcome(row, job.name, "failed", message=f"same output as row {seen[key]}")
            )
            continue
        # two outputs with one stem (x.mp3, x.wav) would share one set of sidecars
        stem = key.with_suffix("")
        if job.sidecars and stem in stems:
            other, name = stems[stem]
            message = f"shares its sidecars ({stem.name}.vtt ...) with row {other} ({name})"
            items.append(
                Outcome(row, job.name, "failed", message=message, exit_code=ExitStatus.USAGE)
            )
            continue
        seen[key] = row
        stems[stem] = (row, job.name)
        items.append(job)
    return items


# --------------------------------------------------------------------------- stamps


def is_up_to_date(job: Job) -> bool:
    """True when the output, its sidecars and its stamp exist and the stamp matches."""
    from kindvoice.export.outputs import read_stamp
    from kindvoice.export.sidecars import sidecar_paths

    output = job.request.output
    if not output.is_file():
        return False
    if job.sidecars and not all(p.is_file() for p in sidecar_paths(output).values()):
        return False
    stamp = read_stamp(output)
    try:
        return stamp is not None and stamp.get("inputs") == job_digest(job)
    except (OSError, KindvoiceError):
        return False  # the template or the cover is gone: render again (and fail there)


# --------------------------------------------------------------------------- running


def longest_first(jobs: Sequence[Job]) -> list[Job]:
    """``jobs`` by requested length, longest first, so the last to start is a short one
    and no worker goes on alone long after the others. Jobs of the practice's own length
    (no minutes asked) come last; equal lengths keep the manifest's order."""
    return sorted(jobs, key=lambda job: -(job.request.minutes or 0.0))


def _settled(future: Future[Outcome], job: Job) -> Outcome:
    """The Outcome of a finished future; a worker that died is a failed row."""
    try:
        return future.result()
    except BrokenProcessPool:
        return Outcome(job.row, job.name, "failed", message="the render process crashed")
    except Exception as exc:  # the cluster lost the worker or the task (Dask)
        message = f"the worker failed: {type(exc).__name__}: {exc}"
        return Outcome(job.row, job.name, "failed", message=message, exit_code=ExitStatus.INTERNAL)


def run_batch(
    items: Sequence[Job | Outcome],
    *,
    backend: Backend | None = None,
    force: bool = False,
    progress: BatchProgress | None = None,
) -> list[Outcome]:
    """Render every Job not up to date (all with ``force``) on ``backend`` (default: a
    local pool with one worker per core), longest first; returns one Outcome per item, in
    manifest order."""
    from kindvoice.export.outputs import OutputSet, read_stamp
    from kindvoice.publish.executors import LocalBackend

    backend = backend or LocalBackend()
    outcomes: dict[int, Outcome] = {}
    todo: list[Job] = []
    for item in items:
        if isinstance(item, Outcome):
            outcomes[item.row] = item
        elif not force and is_up_to_date(item):
            seconds = (read_stamp(item.request.output) or {}).get("seconds")
            outcomes[item.row] = Outcome(item.row, item.name, "skipped", seconds=seconds)
        else:
            # a file the batch did not write is replaced only with --force: refused here
            item = dataclasses.replace(item, request=dataclasses.replace(item.request, force=force))
            try:
                OutputSet(
                    item.request.output, sidecars=item.sidecars, force=force, cover=item.cover
                ).check()
            except KindvoiceError as exc:
                outcomes[item.row] = Outcome(
                    item.row, item.name, "failed", message=exc.message, exit_code=exc.exit_code
                )
                continue
            item.request.output.parent.mkdir(parents=True, exist_ok=True)
            todo.append(item)
    total = len(items)
    if progress:
        progress(len(outcomes), total)
    if not todo:
        return [outcomes[row] for row in sorted(outcomes)]
    log.info("rendering %d sessions on %s", len(todo), backend.describe(len(todo)))
    task = backend.task()
    with backend.executor(len(todo)) as pool:
        pending = {pool.submit(task, job): job for job in longest_first(todo)}
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                job = pending.pop(future)
                outcomes[job.row] = _settled(future, job)
                if progress:
                    progress(len(outcomes), total)
    return [outcomes[row] for row in sorted(outcomes)]


def summary_lines(outcomes: Sequence[Outcome]) -> list[str]:
    """The summary table: one line per session, then the counts."""
    width = max([len(o.name) for o in outcomes] + [6])
    lines = [f"{'row':>3}  {'status':<8}  {'output':<{width}}  {'length':>7}  note"]
    for o in outcomes:
        length = clock(s_to_samples(o.seconds)) if o.seconds is not None else ""
        lines.append(f"{o.row:>3}  {o.status:<8}  {o.name:<{width}}  {length:>7}  {o.message}")
    counts = {s: sum(1 for o in outcomes if o.status == s) for s in ("rendered", "skipped")}
    failed = sum(1 for o in outcomes if o.status == "failed")
    lines.append(f"{counts['rendered']} rendered, {counts['skipped']} skipped, {failed} failed")
    return lines


def check_outcomes(outcomes: Sequence[Outcome]) -> None:
    """Raise BatchFailed when any session failed."""
    failed = [o for o in outcomes if o.status == "failed"]
    if failed:
        rows = ", ".join(str(o.row) for o in failed)
        raise BatchFailed(f"{len(failed)} of {len(outcomes)} sessions failed (rows {rows}).")
