"""Batches: manifests read into jobs, unsafe names refused, stamps that notice changed
inputs, and a real parallel batch with broken rows that renders the others, exits
non-zero and skips everything on a second run."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kindvoice.errors import UsageError
from kindvoice.publish.jobs import Job, Outcome, job_digest
from kindvoice.publish.manifest import (
    job_from_row,
    manifest_items,
    safe_output,
)
from kindvoice.template.library import resolve_practice

from kv_testing import kindvoice

GOOD_ROWS = [
    "practice,minutes,background,variables,title,output",
    'self-compassion-break,3,none,"name=Sam; difficulty=a hard week",,a.mp3',
    "soothing-touch,3,none,,Hand on heart for Sam,b.mp3",
]
BROKEN_ROWS = [
    "self-compasion-brake,3,none,,,c.mp3",  # unknown practice: fails in its render
    "soothing-touch,3,none,,,../escape.mp3",  # leaves the folder: refused when read
    "morning-intention,1,none,,,short.mp3",  # shorter than the practice can be
]


@pytest.mark.parametrize("name", ["../x.mp3", "/tmp/x.mp3", "a/../../x.mp3", "", "  "])
def test_unsafe_output_names_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(UsageError, match="output folder"):
        safe_output(tmp_path, name)


def test_safe_output_allows_subfolders(tmp_path: Path) -> None:
    assert safe_output(tmp_path, "week1/day1.mp3") == tmp_path / "week1" / "day1.mp3"


def test_yaml_manifest_with_defaults(tmp_path: Path) -> None:
    manifest = tmp_path / "m.yaml"
    manifest.write_text(
        "defaults: {background: none, engine: pyttsx3, quality: voice}\n"
        "sessions:\n"
        "  - {practice: soothing-touch, minutes: 4, output: one.opus,"
        " variables: {name: Ana}}\n"
        "  - {practice: morning-intention, length: '3:30', background: rain}\n"
        "  - {practice: soothing-touch, minutes: 3, output: one.opus}\n"
        "  - {practice: soothing-touch, minutes: -1}\n",
        encoding="utf-8",
    )
    items = list(manifest_items(manifest, tmp_path)[1])
    first, second, duplicate, negative = items
    assert isinstance(first, Job) and isinstance(second, Job)
    assert first.request.output == tmp_path / "one.opus"
    assert first.request.length_ms == 240_000
    assert first.request.variables == {"name": "Ana"}
    assert first.request.mix.background == "none"
    assert first.request.export.mono and first.request.export.bitrate == 64
    assert first.request.workers == 1  # the batch is parallel; each render is not
    assert second.request.length_ms == 210_000
    assert second.request.mix.background == "rain"
    assert second.request.output.name == "morning-intention-3.5min.mp3"
    assert isinstance(duplicate, Outcome) and "same output as row 1" in duplicate.message
    assert isinstance(negative, Outcome) and negative.status == "failed"


def test_unknown_column_is_named(tmp_path: Path) -> None:
    manifest = tmp_path / "m.csv"
    manifest.write_text("practice,minuts\nsoothing-touch,3\n", encoding="utf-8")
    with pytest.raises(UsageError, match=r"unknown column 'minuts'\. Did you mean 'minutes'"):
        manifest_items(manifest, tmp_path)


def test_digest_changes_with_every_input(tmp_path: Path) -> None:
    template = tmp_path / "mine.md"
    shutil.copy(resolve_practice("soothing-touch"), template)

    def job(**fields: str) -> Job:
        row = {"practice": "mine.md", "minutes": "3", "output": "a.mp3", **fields}
        return job_from_row(row, 1, base=tmp_path, output_dir=tmp_path / "out")

    base = job_digest(job())
    assert job_digest(job()) == base  # stable
    changed = [job(minutes="4"), job(title="Other"), job(variables="name=Ana"), job(rate="0.8")]
    assert len({base, *(job_digest(j) for j in changed)}) == 5
    template.write_text(template.read_text(encoding="utf-8") + "\nOne more line.\n")
    assert job_digest(job()) != base  # the template's text counts


@pytest.mark.slow
def test_batch_renders_good_rows_despite_broken_ones_then_skips(tmp_path: Path) -> None:
    folder = tmp_path / "sessions"
    folder.mkdir()
    manifest = folder / "manifest.csv"
    manifest.write_text("\n".join(GOOD_ROWS + BROKEN_ROWS) + "\n", encoding="utf-8")

    first = kindvoice("batch", str(manifest), "--workers", "2")
    assert first.code == 8, first.stderr
    assert "3 of 5 sessions failed (rows 3, 4, 5)" in first.stderr
    table = first.stdout.splitlines()
    assert "2 rendered, 0 skipped, 3 failed" in table
    failed = {line.split()[0]: line for line in table if " failed " in line}
    assert "Unknown practice 'self-compasion-brake'" in failed["3"]
    assert "no absolute path, no '..'" in failed["4"]
    assert "runs " in failed["5"] and "1:00 asked" in failed["5"]
    for name in ("a", "b"):
        for suffix in (".mp3", ".vtt", ".srt", ".lrc", ".chapters.json", ".jpg"):
            assert (folder / f"{name}{suffix}").is_file()
        assert (folder / f".{name}.mp3.kindvoice.json").is_file()
    assert not (folder / "c.mp3").exists() and not (tmp_path / "escape.mp3").exists()
    assert not list(folder.glob("*.part")) and not list(folder.glob(".*.part"))
    stamps = {p: p.stat().st_mtime_ns for p in folder.glob("*.mp3")}

    second = kindvoice("batch", str(manifest), "--workers", "2")
    assert second.code == 8
    assert "0 rendered, 2 skipped, 3 failed" in second.stdout.splitlines()
    assert {p: p.stat().st_mtime_ns for p in folder.glob("*.mp3")} == stamps

    manifest.write_text("\n".join(GOOD_ROWS) + "\n", encoding="utf-8")
    third = kindvoice("batch", str(manifest))
    assert third.code == 0, third.stderr
    assert "0 rendered, 2 skipped, 0 failed" in third.stdout.splitlines()
    assert {p: p.stat().st_mtime_ns for p in folder.glob("*.mp3")} == stamps
