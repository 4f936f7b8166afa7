"""Batches: many renders from one manifest, in parallel, skipping what is up to date.

A manifest is CSV (a header row, one session per row) or YAML (a list of sessions, or a
mapping with ``defaults`` and ``sessions``). Columns: ``practice`` (an id or a template
path, relative to the manifest), ``minutes`` (or ``length`` as MM:SS), ``engine``,
``voice``, ``rate``, ``background``, ``variables`` (``name=value; name=value`` in CSV, a
mapping in YAML), ``quality``, ``title``, ``artist``, ``album``, ``cover`` and ``output``
(a file name inside the output folder; its extension picks the format).

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

import csv
import dataclasses
import io
import itertools
import logging
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, Sized
from concurrent.futures import FIRST_COMPLETED, Future, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any

from kindvoice.audio import s_to_samples
from kindvoice.durations import clock
from kindvoice.errors import (
    BatchFailed,
    ExitStatus,
    KindvoiceError,
    UsageError,
    check_regular_file,
    did_you_mean,
)
from kindvoice.fields import FIELDS, Said
from kindvoice.publish.jobs import LEGACY_NOTE, Job, Outcome, is_legacy, is_up_to_date
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
#: jobs submitted and not yet finished, whatever the manifest's length (a window over it)
IN_FLIGHT = 256
#: jobs put in longest-first order together
LOOKAHEAD = 1024
#: rows the failure line names; the table has every one
NAMED_ROWS = 20
#: the output column of a table printed as rows finish (longer names push the note on)
NAME_WIDTH = 24


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


def _said(key: str, row: int) -> Said:
    """How a manifest names its column ``key``: ``Row 3: 'rate'``."""
    return Said(f"'{key}'", prefix=f"Row {row}: ")


def _length_ms(fields: Mapping[str, Any], row: int) -> int | None:
    """A row's minutes or length in ms, read as ``--minutes`` and ``--length`` are (the
    field table's ``minutes``: the one duration grammar, the same bounds)."""
    minutes, length = fields.get("minutes"), fields.get("length")
    if minutes not in (None, "") and length not in (None, ""):
        raise UsageError(f"Row {row}: give minutes or length, not both.")
    key, text = ("length", length) if length not in (None, "") else ("minutes", minutes)
    found: int | None = FIELDS[key].read(text, _said(key, row))
    return found


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
    length_ms = _length_ms(fields, row)
    output = _text(fields, "output")
    if output is None:
        stem = Path(practice).stem
        minutes = None if length_ms is None else length_ms / 60_000.0
        output = f"{stem}-{minutes:g}min.mp3" if minutes is not None else f"{stem}.mp3"
    path = safe_output(output_dir, output)
    if not formats.is_audio(path, "batch"):
        accepted = ", ".join(formats.extensions("batch"))
        raise UsageError(
            f"Row {row}: unknown output format '{path.suffix or path.name}'. Use one of: {accepted}"
        )
    format_for(path)  # fails now when the format needs ffmpeg and there is none
    rate = FIELDS["rate"].read(fields.get("rate"), _said("rate", row))  # as build's --rate
    cover_text = _text(fields, "cover")
    cover = None
    if cover_text is not None:
        cover = Path(cover_text).expanduser()
        cover = cover if cover.is_absolute() else base / cover
    request = RenderRequest(
        practice=practice,
        output=path,
        length_ms=length_ms,
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
        sidecars=sidecars,
        cover=cover,
        title=_text(fields, "title"),
    )
    return Job(row, output, request)


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
        from kindvoice.safe_yaml import load_yaml  # no aliases, one-line errors

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


def manifest_items(
    path: Path,
    output_dir: Path,
    templates_dir: Path | None = None,
    sidecars: bool = True,
    language: str | None = None,
) -> tuple[int, Iterator[Job | Outcome]]:
    """The number of rows, and each row made a Job (or a failed Outcome, when the row
    itself is wrong) only as it is taken: a batch of any length holds its rows' text,
    never all its jobs at once. ``language`` is the rows' unless a row names one."""
    rows = read_manifest(path)
    return len(rows), _items(rows, path, output_dir, templates_dir, sidecars, language)


def _items(
    rows: list[dict[str, Any]],
    path: Path,
    output_dir: Path,
    templates_dir: Path | None,
    sidecars: bool,
    language: str | None,
) -> Iterator[Job | Outcome]:
    seen: dict[Path, int] = {}
    stems: dict[Path, tuple[int, str]] = {}
    for row, fields in enumerate(rows, start=1):
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
            yield Outcome(row, name, "failed", message=exc.message, exit_code=exc.exit_code)
            continue
        key = job.request.output.resolve()
        if key in seen:
            yield Outcome(row, job.name, "failed", message=f"same output as row {seen[key]}")
            continue
        # two outputs with one stem (x.mp3, x.wav) would share one set of sidecars
        stem = key.with_suffix("")
        if job.request.sidecars and stem in stems:
            other, name = stems[stem]
            message = f"shares its sidecars ({stem.name}.vtt ...) with row {other} ({name})"
            yield Outcome(row, job.name, "failed", message=message, exit_code=ExitStatus.USAGE)
            continue
        seen[key] = row
        stems[stem] = (row, job.name)
        yield job


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
    from kindvoice.export.outputs import OutputSet, read_stamp
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

    def to_render() -> Iterator[Job]:
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
                try:
                    OutputSet(
                        request.output, sidecars=request.sidecars, force=force, cover=request.cover
                    ).check()
                except KindvoiceError as exc:
                    settle(
                        Outcome(
                            item.row,
                            item.name,
                            "failed",
                            message=exc.message,
                            exit_code=exc.exit_code,
                        )
                    )
                    continue
                request.output.parent.mkdir(parents=True, exist_ok=True)
                yield item

    if progress:
        progress(0, total)
    jobs = _by_length(to_render())
    first = next(jobs, None)
    if first is not None:
        log.info("rendering up to %d sessions on %s", total, backend.describe(total))
        task = backend.task()
        queue = itertools.chain([first], jobs)
        with backend.executor(max(total, 1)) as pool:
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
    return [outcomes[row] for row in sorted(outcomes)]


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
