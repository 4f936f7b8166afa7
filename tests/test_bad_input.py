"""The bad-input matrix: every mistake a user can make gets one clear line on stderr, a
documented exit code, no traceback, and no output file."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile

from kv_testing import kindvoice

GOOD = "---\ntitle: Fine\nminutes: {min: 1, default: 2, max: 5}\n---\nHello there.\n[pause 5s~]\n"


@dataclass(frozen=True)
class Case:
    name: str
    template: str | bytes | None  # written to t.md when given
    args: tuple[str, ...]  # "{t}" is the template path, "{out}" the output, "{dir}" the folder
    code: int
    fragment: str
    prepare: Callable[[Path], None] | None = None


def fm(body: str, front: str = "title: X") -> str:
    return f"---\n{front}\n---\n{body}\n"


def build(*extra: str) -> tuple[str, ...]:
    return ("build", "{t}", "-o", "{out}", *extra)


CASES = [
    # front matter
    Case("no front matter end", "---\ntitle: X\nHello.\n", build(), 3, "t.md:1:1"),
    Case("malformed yaml", "---\ntitle: [unclosed\n---\nHi.\n", build(), 3, "t.md:"),
    Case("unknown key", fm("Hi.", "title: X\ntitel: Y"), build(), 3, "Did you mean 'title'"),
    Case("nested unknown key", fm("Hi.", "title: X\nvoice: {rat: 1}"), build(), 3, "'rate'"),
    Case("missing title", fm("Hi.", "summary: s"), build(), 3, "title"),
    Case("title wrong type", fm("Hi.", "title: [1, 2]"), build(), 3, "title"),
    Case("minutes wrong type", fm("Hi.", "title: X\nminutes: soon"), build(), 3, "minutes"),
    Case(
        "min above max",
        fm("Hi.", "title: X\nminutes: {min: 9, default: 9, max: 3}"),
        build(),
        3,
        "minutes",
    ),
    Case("rate not a number", fm("Hi.", "title: X\nvoice: {rate: fast}"), build(), 3, "rate"),
    Case("tags not a list", fm("Hi.", "title: X\ntags: 5"), build(), 3, "tags"),
    Case(
        "python tag in yaml",
        fm("Hi.", "title: !!python/object/apply:os.system [ls]"),
        build(),
        3,
        "t.md:",
    ),
    # body
    Case("bad duration", fm("Hi. [pause 5x]"), build(), 3, "t.md:4:5"),
    Case("pause min above max", fm("Hi. [pause 9s~3s]"), build(), 3, "t.md:4:5"),
    Case("weight on fixed pause", fm("Hi. [pause 5s x2]"), build(), 3, "t.md:4:5"),
    Case("unknown marker", fm("Hi. [paws 5s]"), build(), 3, "Did you mean"),
    Case("unclosed repeat", fm("[repeat 2]\nHi."), build(), 3, "t.md:4:1"),
    Case("stray end repeat", fm("Hi.\n[/repeat]"), build(), 3, "t.md:5:1"),
    Case(
        "repeat across sections", fm("## A\n[repeat 2]\nHi.\n## B\n[/repeat]"), build(), 3, "t.md:"
    ),
    Case("repeat min above max", fm("[repeat 5~2]\nHi.\n[/repeat]"), build(), 3, "t.md:4:1"),
    Case("unknown variable", fm("Hello {nme}."), build(), 3, "nme"),
    Case("unclosed comment", fm("Hi. <!-- never closed"), build(), 3, "t.md:4:5"),
    Case("unknown bell", fm("[bell gong]\nHi.\n[pause 5s~]"), build(), 3, "Unknown bell 'gong'"),
    Case("bad heading level", fm("# Big\nHi."), build(), 3, "##"),
    Case("empty file", "", build(), 3, "t.md:1:1"),
    Case("non utf-8 bytes", b"---\ntitle: X\n---\nCaf\xe9 time.\n", build(), 3, "t.md:4:4"),
    Case("binary file", b"\x00\x01\x02PNG\x00" * 50, build(), 3, "t.md:1:"),
    Case("ten megabyte file", "x" * 10_000_000, build(), 3, "MB"),
    Case("unknown --var", GOOD, build("--var", "colour=red"), 4, "colour"),
    Case("bad --var syntax", GOOD, build("--var", "colour"), 2, "name=value"),
    # names
    Case(
        "unknown practice",
        None,
        ("build", "self-compasion-break", "-o", "{out}"),
        4,
        "self-compassion-break",
    ),
    Case("missing template file", None, ("build", "{dir}/nope.md", "-o", "{out}"), 2, "not found"),
    Case("unknown engine", GOOD, build("--engine", "pipr"), 4, "piper, pyttsx3"),
    Case("unknown voice", GOOD, build("--voice", "klingon-xx"), 4, "Unknown voice"),
    Case("unknown background", GOOD, build("--background", "rainn"), 4, "rain"),
    Case(
        "missing piper model",
        GOOD,
        build("--engine", "piper", "--voice", "{dir}/no.onnx"),
        6,
        "no.onnx",
    ),
    Case(
        "corrupt piper model",
        GOOD,
        build("--engine", "piper", "--voice", "{dir}/bad.onnx"),
        6,
        "bad.onnx",
        prepare=lambda d: (
            (d / "bad.onnx").write_bytes(b"garbage" * 100),
            (d / "bad.onnx.json").write_text("{}"),
        ),
    ),  # type: ignore[func-returns-value]
    Case(
        "unreadable music",
        GOOD,
        build("--background", "music:{dir}/song.mp3"),
        7,
        "song.mp3",
        prepare=lambda d: (d / "song.mp3").write_bytes(b"not audio at all" * 64),
    ),
    Case("missing music", GOOD, build("--background", "music:{dir}/gone.flac"), 7, "gone.flac"),
    # lengths
    Case("impossible length", GOOD, build("--minutes", "0.05"), 5, "asked"),
    Case("negative length", GOOD, build("--minutes", "-3"), 2, "positive"),
    Case("zero length", GOOD, build("--minutes", "0"), 2, "positive"),
    Case("bad length syntax", GOOD, build("--length", "ten"), 2, "MM:SS"),
    Case("both lengths", GOOD, build("--minutes", "2", "--length", "2:00"), 2, "not both"),
    Case("rate out of range", GOOD, build("--rate", "9"), 2, "rate"),
    # output
    Case("unknown extension", GOOD, ("build", "{t}", "-o", "{dir}/x.aiff"), 2, ".mp3"),
    Case(
        "missing output folder",
        GOOD,
        ("build", "{t}", "-o", "{dir}/no/such/x.mp3"),
        7,
        "does not exist",
    ),
    Case("binaural in mono", GOOD, build("--background", "binaural-theta", "--mono"), 2, "stereo"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input(tmp_path: Path, case: Case) -> None:
    work = tmp_path / "work"
    work.mkdir()
    template = work / "t.md"
    if isinstance(case.template, bytes):
        template.write_bytes(case.template)
    elif case.template is not None:
        template.write_text(case.template, encoding="utf-8")
    if case.prepare:
        case.prepare(work)
    before = {p.name: p.read_bytes() for p in work.iterdir()}
    out = tmp_path / "out.mp3"
    args = [a.format(t=template, out=out, dir=work) for a in case.args]
    run = kindvoice(*args, cwd=work)
    assert run.code == case.code, run.stderr
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, run.stderr  # one clear line
    assert lines[0].startswith("Error: ")
    assert case.fragment in lines[0]
    assert "Traceback" not in run.stderr
    assert not out.exists()
    # inputs are only ever read, and nothing else appears beside them
    assert {p.name: p.read_bytes() for p in work.iterdir()} == before


def test_matrix_is_wide() -> None:
    assert len(CASES) >= 40


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write to read-only folders")
def test_read_only_output_folder(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    run = kindvoice("build", "self-compassion-break", "--minutes", "3", "-o", str(folder / "x.mp3"))
    folder.chmod(0o700)
    assert run.code == 7
    assert "Cannot write" in run.stderr
    assert list(folder.iterdir()) == []


def test_read_only_output_folder_as_root(tmp_path: Path) -> None:
    """Root ignores permissions, so a read-only folder is made with a read-only mount
    where possible; otherwise the same path is checked through a file in the way."""
    blocker = tmp_path / "file"
    blocker.write_text("in the way")
    run = kindvoice(
        "build", "self-compassion-break", "--minutes", "3", "-o", str(blocker / "x.mp3")
    )
    assert run.code == 7
    assert "Traceback" not in run.stderr
    assert blocker.read_text() == "in the way"


@pytest.mark.skipif(not shutil.which("mount") or os.geteuid() != 0, reason="needs root mount")
def test_full_disk(tmp_path: Path) -> None:
    """A tiny tmpfs fills up mid-render: one clear line, exit 7, nothing left behind."""
    import subprocess

    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(disk)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        run = kindvoice(
            "build", "self-compassion-break", "--minutes", "3", "-o", str(disk / "x.mp3")
        )
        assert run.code == 7, run.stderr
        assert "No space left" in run.stderr or "disk" in run.stderr.lower()
        assert "Traceback" not in run.stderr
        assert list(disk.iterdir()) == []
    finally:
        subprocess.run(["umount", str(disk)], check=False)


def test_loud_user_music_stays_under_the_ceiling_is_not_an_error(tmp_path: Path) -> None:
    """A music file at 0 dBFS is not bad input: it renders, limited."""
    song = tmp_path / "loud.wav"
    t = np.arange(48_000 * 5) / 48_000
    soundfile.write(song, np.sign(np.sin(2 * np.pi * 220 * t)) * 0.999, 48_000)
    out = tmp_path / "x.wav"
    run = kindvoice(
        "build",
        "self-compassion-break",
        "--minutes",
        "3",
        "--background",
        f"music:{song}",
        "-o",
        str(out),
    )
    assert run.code == 0, run.stderr
