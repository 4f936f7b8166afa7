"""Internal errors and hangs of issue 24 §3, through the real CLI: ``new`` into a folder
that does not exist or through a dangling link, a disk that fills as ``new`` writes or as
a render writes its tags and stamp, a named pipe or a device as a cover, a music file or
a batch row's template, and a CSV cell over the csv module's limit. Each is one line with
a documented exit status, within seconds, with nothing left behind.

A named pipe is opened by nobody else here: before, reading it waited for ever (the
``timeout`` of each run turns such a wait into a failure)."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from kv_testing import kindvoice, spoken_phrases

TEMPLATE = (
    "---\ntitle: Fine\nminutes: {min: 0.2, default: 0.3, max: 5}\n---\nHello there.\n[pause 5s~]\n"
)


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("Error: ") and "Internal error" not in lines[0], lines[0]
    return lines[0]


# ---------------------------------------------------------------------------- new


def test_new_into_a_missing_folder(tmp_path: Path) -> None:
    """Was "Internal error: FileNotFoundError" (exit 1)."""
    run = kindvoice("new", str(tmp_path / "no" / "such" / "x"))
    assert run.code == 2, run.stderr
    assert f"The folder '{tmp_path / 'no' / 'such'}' does not exist" in one_line(run.stderr)
    assert not (tmp_path / "no").exists()


@pytest.mark.parametrize("target_folder_exists", [True, False])
def test_new_through_a_dangling_link(tmp_path: Path, target_folder_exists: bool) -> None:
    """A link to a missing file: it wrote through the link into the other folder (or, with
    that folder missing too, an internal error). Now refused, nothing written anywhere."""
    elsewhere = tmp_path / "elsewhere"
    if target_folder_exists:
        elsewhere.mkdir()
    link = tmp_path / "mine.md"
    link.symlink_to(elsewhere / "target.md")
    run = kindvoice("new", str(link))
    assert run.code == 2, run.stderr
    assert "which does not exist" in one_line(run.stderr)
    assert not (elsewhere / "target.md").exists() and link.is_symlink()


def _small_files(limit: int) -> None:
    """In the child: files may grow to ``limit`` bytes; past it a write fails with EFBIG
    (SIGXFSZ, which would kill the process, is ignored), as on a disk that is full."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def test_new_on_a_full_disk_leaves_nothing(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "kindvoice", "new", "x"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=lambda: _small_files(1000),  # the starter is about 2.5 KB
    )
    assert run.returncode == 7, run.stderr
    assert "Cannot write 'x.md': File too large." in one_line(run.stderr)
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------ pipes and devices


@pytest.fixture
def pipe(tmp_path: Path) -> Path:
    path = tmp_path / "pipe"
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("special", ["pipe", "/dev/zero"])
@pytest.mark.parametrize("option", ["--cover", "--background"])
def test_build_with_a_pipe_or_device(
    tmp_path: Path, pipe: Path, own_cache: Path, special: str, option: str
) -> None:
    """A pipe as the cover or the music waited for ever; /dev/zero was refused only after
    Pillow or ffmpeg had read some of it."""
    (tmp_path / "t.md").write_text(TEMPLATE, encoding="utf-8")
    path = str(pipe) if special == "pipe" else special
    value = path if option == "--cover" else f"music:{path}"
    run = kindvoice(
        "build", str(tmp_path / "t.md"), "-o", str(tmp_path / "o.mp3"), option, value, timeout=60
    )
    assert run.code == 7, run.stderr
    assert "is not a regular file (a named pipe, socket or device)" in one_line(run.stderr)
    assert spoken_phrases(own_cache) == [] and not (tmp_path / "o.mp3").exists()


def test_batch_rows_with_pipes_and_devices(tmp_path: Path, pipe: Path, own_cache: Path) -> None:
    """/dev/zero as a row's cover took gigabytes (the stamp's digest read it whole), a
    pipe waited for ever; every such row now fails with its reason, the good row renders."""
    (tmp_path / "t.md").write_text(TEMPLATE, encoding="utf-8")
    (tmp_path / "zero.md").symlink_to("/dev/zero")
    rows = [
        "practice,cover,background,output",
        "t.md,/dev/zero,,a.mp3",
        f"t.md,{pipe},,b.mp3",
        f"t.md,,music:{pipe},c.mp3",
        "t.md,,music:/dev/zero,d.mp3",
        "zero.md,,,e.mp3",
        f"{pipe},,,f.mp3",
        "t.md,,,ok.mp3",
    ]
    manifest = tmp_path / "m.csv"
    manifest.write_text("\n".join(rows) + "\n", encoding="utf-8")
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    run = kindvoice("batch", str(manifest), "-o", str(tmp_path / "out"), timeout=300)
    assert run.code == 8, run.stderr + run.stdout
    table = run.stdout.splitlines()
    assert table[-1] == "1 rendered, 0 skipped, 6 failed", run.stdout
    for name in "abcdef":
        line = next(t for t in table if f"{name}.mp3" in t)
        assert "failed" in line and "not a regular file" in line, line
    assert (tmp_path / "out" / "ok.mp3").is_file()
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # the largest child this process ever waited for: an earlier test's may be larger
    assert peak_kb <= max(before, 1_000_000), f"a worker peaked at {peak_kb} KB"


# ---------------------------------------------------------------- manifests


def test_a_csv_cell_over_the_csv_limit(tmp_path: Path) -> None:
    """A deeply nested JSON value pasted into a cell (140 KB): was "Internal error: Error:
    field larger than field limit"."""
    depth = 70_000
    manifest = tmp_path / "m.csv"
    manifest.write_text(
        f'practice,variables\nt.md,a=1\nt.md,"{"[" * depth}{"]" * depth}"\n', encoding="utf-8"
    )
    run = kindvoice("batch", str(manifest), "-o", str(tmp_path / "out"))
    assert run.code == 2, run.stderr
    assert f"{manifest}:3: cannot read this row as CSV" in one_line(run.stderr)


@pytest.mark.parametrize("depth", [300, 5_000, 200_000])
def test_deeply_nested_json_in_a_yaml_cell(tmp_path: Path, depth: int) -> None:
    """YAML is a superset of JSON: a nested value in a cell fails its row (shallow) or the
    manifest (too deep to read), never a RecursionError."""
    (tmp_path / "t.md").write_text(TEMPLATE, encoding="utf-8")
    manifest = tmp_path / "m.yaml"
    value = "[" * depth + "]" * depth
    manifest.write_text(f"- {{practice: t.md, title: {value}}}\n", encoding="utf-8")
    run = kindvoice("batch", str(manifest), "-o", str(tmp_path / "out"), timeout=120)
    assert "Internal error" not in run.stderr + run.stdout
    if run.code == 8:
        assert "Row 1: 'title' must be text or a number; got a list" in run.stdout
    else:
        assert run.code == 2, run.stderr
        assert "nested too deeply" in one_line(run.stderr)


# ---------------------------------------------------------------- full disk


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to mount a tmpfs")
def test_disk_filling_at_the_end_of_an_mp3(tmp_path: Path) -> None:
    """A tmpfs a little larger each time, so the disk fills at every stage of the end of
    a render: the audio, its ID3 tags (was "Internal error: error: [Errno 28]"), the
    sidecars, the stamps. Every run either succeeds whole or is one line, exit 7, with
    nothing left; a final stamp that does not fit after the files are in place (the first
    stamp already names them) is a warning, not a failure."""
    (tmp_path / "t.md").write_text(TEMPLATE, encoding="utf-8")
    disk = tmp_path / "disk"
    disk.mkdir()
    outcomes = []
    for size_kb in range(280, 404, 4):
        mounted = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(disk)],
            capture_output=True,
        )
        if mounted.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
        try:
            run = kindvoice("build", str(tmp_path / "t.md"), "-o", str(disk / "x.mp3"))
            left = sorted(p.name for p in disk.iterdir())
        finally:
            subprocess.run(["umount", str(disk)], check=False)
        if run.code == 0:
            assert "x.mp3" in left and ".x.mp3.kindvoice.json" in left, left
            outcomes.append("ok")
            continue
        assert run.code == 7, run.stderr
        line = one_line(run.stderr)
        assert "No space left on device" in line, line
        assert left == [], (size_kb, left)
        outcomes.append("tags" if "while writing its tags" in line else "full")
    assert "tags" in outcomes and "ok" in outcomes, outcomes  # both ends were reached
