"""Manifests: a batch's sessions, one per row, read and checked into ``Job``s.

A manifest is CSV (a header row, one session per row) or YAML (a list of sessions, or a
mapping with ``defaults`` and ``sessions``). Columns (``COLUMNS``): ``practice`` (an id or
a template path, relative to the manifest), ``minutes`` (or ``length`` as MM:SS),
``engine``, ``voice``, ``rate``, ``background``, ``variables`` (``name=value;
name=value`` in CSV, a mapping in YAML), ``quality``, ``title``, ``artist``, ``album``,
``cover`` and ``output`` (a file name inside the output folder; its extension picks the
format). Each session field is read by the one table of session fields
(``kindvoice.fields``), a bad value named by its column and row (``Row 3: 'rate' ...``).
Rows become Jobs only as the batch takes them (``manifest_items``); ``publish.batch``
runs them.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator, Mapping
from pathlib import Path, PurePath
from typing import Any

from kindvoice.errors import (
    ExitStatus,
    KindvoiceError,
    UsageError,
    check_regular_file,
    did_you_mean,
)
from kindvoice.fields import FIELDS, Said
from kindvoice.publish.jobs import Job, Outcome
from kindvoice.settings import MixSettings, RenderRequest, VoiceSettings

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
    from kindvoice.export.quality import export_settings

    _check_types(fields, row)
    practice = _practice(fields, row, base)
    length_ms = _length_ms(fields, row)
    output, path = _output(fields, row, practice, length_ms, output_dir)
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


def _check_types(fields: Mapping[str, Any], row: int) -> None:
    """YAML gives any type: each column but ``variables`` is text or a number."""
    for key, value in fields.items():
        if key != "variables" and (
            isinstance(value, (list, Mapping)) or (isinstance(value, float) and value != value)
        ):
            kind = "a list" if isinstance(value, list) else "a mapping"
            kind = "not a number" if isinstance(value, float) else kind
            raise UsageError(f"Row {row}: '{key}' must be text or a number; got {kind}.")


def _practice(fields: Mapping[str, Any], row: int, base: Path) -> str:
    """The row's practice: an id, or a template path (relative to the manifest when it
    names anything there, so a pipe or device is refused by name, not reported missing)."""
    practice = _text(fields, "practice") or _text(fields, "path")
    if practice is None:
        raise UsageError(f"Row {row}: no practice (give a practice id or a template path).")
    as_path = Path(practice).expanduser()
    relative = base / as_path
    if not as_path.is_absolute() and os.path.lexists(relative) and not relative.is_dir():
        practice = str(base / as_path)
    return practice


def _output(
    fields: Mapping[str, Any], row: int, practice: str, length_ms: int | None, folder: Path
) -> tuple[str, Path]:
    """The row's output name (default: the practice and its minutes) and its path inside
    ``folder``, in a format a batch writes (and can write here: ffmpeg for m4a)."""
    from kindvoice.export import formats
    from kindvoice.export.encode import format_for

    output = _text(fields, "output")
    if output is None:
        stem = Path(practice).stem
        minutes = None if length_ms is None else length_ms / 60_000.0
        output = f"{stem}-{minutes:g}min.mp3" if minutes is not None else f"{stem}.mp3"
    path = safe_output(folder, output)
    if not formats.is_audio(path, "batch"):
        accepted = ", ".join(formats.extensions("batch"))
        raise UsageError(
            f"Row {row}: unknown output format '{path.suffix or path.name}'. Use one of: {accepted}"
        )
    format_for(path)  # fails now when the format needs ffmpeg and there is none
    return output, path


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
