"""Errors that used to print "Internal error" and exit 1 (issue 16, items 5, 8, 9, 12): each
is now one clear line with a documented exit code, through the real CLI.

The table runs each case in a fresh folder holding a short template (``t.md``) and
whatever the case writes; ``{d}`` in an argument is that folder. Inputs are tiny and the
engine is pyttsx3 (``conftest``), so every case takes seconds.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile

from kv_testing import kindvoice, spoken_phrases

TEMPLATE = (
    "---\ntitle: Fine\nminutes: {min: 0.2, default: 0.3, max: 5}\n---\nHello there.\n[pause 5s~]\n"
)
# a "billion laughs": nine aliases of nine aliases ... 9^9 strings from a few hundred bytes
LAUGHS = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(8)
)
PLAN = "title: T\ndays: 1\nstart_minutes: 1\nend_minutes: 1\npractices: [t.md]\n"


def huge_png(path: Path, side: int = 20_000) -> None:
    """A 1-bit PNG declaring ``side`` x ``side`` pixels: ~50 KB on disk, gigabytes decoded."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    packer = zlib.compressobj(9)
    row = b"\x00" * (1 + side // 8)
    pixels = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def one_hz_wav(path: Path) -> None:
    """A WAV whose header says 1 sample per second (48,000 samples: 13 hours at 48 kHz)."""
    soundfile.write(path, np.zeros(48_000, dtype=np.float32), 1)


@dataclass(frozen=True)
class Case:
    name: str
    args: tuple[str, ...]
    code: int
    fragment: str  # in stderr (or, for a batch row, in the summary on stdout)
    files: dict[str, str | bytes] | None = None
    prepare: Callable[[Path], None] | None = None


def build(*extra: str) -> tuple[str, ...]:
    return ("build", "{d}/t.md", "-o", "{d}/out.wav", *extra)


def course(line: str, code: int = 2) -> Case:
    """A course whose plan has ``line`` (replacing the plan's own line for that key)."""
    key = line.split(":")[0]
    kept = [old for old in PLAN.splitlines() if not old.startswith(f"{key}:")]
    plan = "\n".join([*kept, line]) + "\n"
    return Case(f"course {line}", ("course", "{d}/p.yaml"), code, f"'{key}'", {"p.yaml": plan})


CASES = [
    # lengths
    Case("minutes nan", build("--minutes", "nan"), 2, ""),
    Case("minutes inf", build("--minutes", "inf"), 2, ""),
    Case("minutes 1e308", build("--minutes", "1e308"), 2, ""),
    # a decompression bomb as cover, a 1 Hz music file
    Case(
        "huge cover",
        build("--cover", "{d}/big.png"),
        7,
        "too large",
        prepare=lambda d: huge_png(d / "big.png"),
    ),
    Case(
        "1 Hz music",
        build("--background", "music:{d}/one.wav"),
        7,
        "1 Hz",
        prepare=lambda d: one_hz_wav(d / "one.wav"),
    ),
    # encodings and NUL bytes
    Case(
        "latin-1 template",
        ("build", "{d}/l.md", "-o", "{d}/out.wav"),
        3,
        "not UTF-8",
        files={"l.md": "---\ntitle: Café\n---\nCafé.\n".encode("latin-1")},
    ),
    Case(
        "cp1252 csv",
        ("batch", "{d}/m.csv"),
        2,
        "m.csv:2: not UTF-8",
        files={"m.csv": "practice,title\nt.md,Caf\u00e9 \u2019\n".encode("cp1252")},
    ),
    Case(
        "NUL in csv",
        ("batch", "{d}/m.csv"),
        2,
        "m.csv:2: a NUL byte",
        files={"m.csv": b"practice,minutes\nt.md,1\x00\n"},
    ),
    Case(
        "NUL in yaml",
        ("batch", "{d}/m.yaml"),
        2,
        "m.yaml:1: a NUL byte",
        files={"m.yaml": b"- {practice: t.md}\x00\n"},
    ),
    Case(
        "NUL in plan", ("course", "{d}/p.yaml"), 2, "p.yaml:1:", files={"p.yaml": b"title: T\x00\n"}
    ),
    # lone surrogates: from the shell (bytes that are not UTF-8) and from a YAML escape
    Case(
        "surrogate in --var",
        ("build", "{d}/v.md", "-o", "{d}/out.wav", "--var", "x=caf\udce9"),
        2,
        "not valid UTF-8",
        files={"v.md": TEMPLATE.replace("Hello there.", "Hello {x|you}.")},
    ),
    Case("surrogate in --artist", build("--artist", "caf\udce9"), 2, "--artist is not valid UTF-8"),
    Case(
        "surrogate in a title",
        ("build", "{d}/s.md", "-o", "{d}/out.wav"),
        3,
        "s.md:2:8: This value holds a lone surrogate",
        files={"s.md": TEMPLATE.replace("title: Fine", 'title: "a\\ud800b"')},
    ),
    Case(
        "control character in a title",
        ("build", "{d}/s.md", "-o", "{d}/out.wav"),
        3,
        "a control character (U+0001)",
        files={"s.md": TEMPLATE.replace("title: Fine", 'title: "a\\x01b"')},
    ),
    Case(
        "surrogate in a plan",
        ("course", "{d}/p.yaml"),
        2,
        "p.yaml:1:8: this value holds a lone surrogate",
        files={"p.yaml": PLAN.replace("title: T", 'title: "a\\ud800"')},
    ),
    # course-plan fields of the wrong type: the file and the key in the message
    course("background: 3", code=4),
    course("rate: fast"),
    course("start_minutes: .nan"),
    course("voice: [a, b]"),
    course("teacher: {name: Sam}"),
    # batch rows of the wrong type: the row fails with its row and key, the others go on
    Case(
        "batch row minutes nan",
        ("batch", "{d}/m.yaml"),
        8,
        "Row 1",
        files={"m.yaml": "- {practice: t.md, minutes: .nan}\n"},
    ),
    Case(
        "batch row voice list",
        ("batch", "{d}/m.yaml"),
        8,
        "Row 1: 'voice' must be text or a number; got a list",
        files={"m.yaml": "- {practice: t.md, voice: [a, b]}\n"},
    ),
    Case(
        "batch defaults a list",
        ("batch", "{d}/m.yaml"),
        2,
        "'defaults' must be a mapping",
        files={"m.yaml": "defaults: [1]\nsessions: [{practice: t.md}]\n"},
    ),
    # background levels (item 8)
    Case("brown@40", build("--background", "brown@40"), 2, "-60 to +12 dB"),
    Case("brown@99999", build("--background", "brown@99999"), 2, "-60 to +12 dB"),
    Case("layer at -70", build("--background", "rain+drone@-70"), 2, "drone@-70"),
    Case(
        "preview brown@300",
        ("sounds", "preview", "brown@300", "-o", "{d}/out.wav"),
        2,
        "-60 to +12 dB",
    ),
    Case(
        "batch row brown@300",
        ("batch", "{d}/m.csv"),
        8,
        "-60 to +12 dB",
        files={"m.csv": "practice,background\nt.md,brown@300\n"},
    ),
    course("background: brown@300"),
    # aliases (item 5): refused at the first alias, before anything is expanded
    Case(
        "billion laughs manifest",
        ("batch", "{d}/m.yaml"),
        2,
        "m.yaml:2:8: not valid YAML: found the alias *a",
        files={"m.yaml": LAUGHS + "sessions: [{practice: t.md, title: *i}]\n"},
    ),
    Case(
        "billion laughs plan",
        ("course", "{d}/p.yaml"),
        2,
        "p.yaml:2:8:",
        files={"p.yaml": LAUGHS + PLAN},
    ),
    Case(
        "billion laughs front matter",
        ("build", "{d}/b.md", "-o", "{d}/out.wav"),
        3,
        "b.md:4:8:",
        files={"b.md": "---\ntitle: X\n" + LAUGHS + "---\nHi.\n"},
    ),
    Case(
        "merge key alias",
        ("build", "{d}/b.md", "-o", "{d}/out.wav"),
        3,
        "aliases",
        files={"b.md": "---\ntitle: X\nvoice: &v {rate: 1}\nminutes: {<<: *v}\n---\nHi.\n"},
    ),
    # the course's address is checked before any session renders (item 12)
    Case(
        "course --base-url",
        ("course", "{d}/p.yaml", "--base-url", "ftp:/nowhere"),
        2,
        "--base-url",
        files={"p.yaml": PLAN},
    ),
    Case(
        "plan base_url",
        ("course", "{d}/p.yaml"),
        2,
        "base_url",
        files={"p.yaml": PLAN + "base_url: example.org\n"},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_no_internal_errors(tmp_path: Path, case: Case, own_cache: Path) -> None:
    (tmp_path / "t.md").write_text(TEMPLATE, encoding="utf-8")
    for name, data in (case.files or {}).items():
        target = tmp_path / name
        if isinstance(data, bytes):
            target.write_bytes(data)
        else:
            target.write_text(data, encoding="utf-8")
    if case.prepare:
        case.prepare(tmp_path)
    args = [a.replace("{d}", str(tmp_path)) for a in case.args]
    run = kindvoice(*args, timeout=120)
    assert spoken_phrases(own_cache) == []  # refused before any speech
    assert "Internal error" not in run.stderr + run.stdout
    assert "Traceback" not in run.stderr
    assert run.code == case.code, run.stderr + run.stdout
    if case.code == 8:  # a batch: the failed row's line is in the summary
        assert case.fragment in run.stdout, run.stdout
    else:
        lines = [line for line in run.stderr.splitlines() if line.strip()]
        assert len(lines) == 1, run.stderr
        assert lines[0].startswith("Error: ") and case.fragment in lines[0], lines[0]
    audio = [p.name for p in tmp_path.rglob("*") if p.suffix in (".wav", ".mp3")]
    assert audio in ([], ["one.wav"]), audio  # nothing rendered


def test_the_own_cache_sees_what_a_build_speaks(tmp_path: Path, own_cache: Path) -> None:
    """The control for ``spoken_phrases(own_cache) == []`` above: a build that speaks
    leaves its phrases there."""
    (tmp_path / "t.md").write_text(TEMPLATE, encoding="utf-8")
    run = kindvoice("build", str(tmp_path / "t.md"), "-o", str(tmp_path / "t.wav"))
    assert run.code == 0, run.stderr
    assert len(spoken_phrases(own_cache)) == 1  # "Hello there."


def test_course_with_a_bad_base_url_renders_nothing(tmp_path: Path, own_cache: Path) -> None:
    (tmp_path / "t.md").write_text(TEMPLATE, encoding="utf-8")
    plan = tmp_path / "p.yaml"
    plan.write_text(PLAN.replace("days: 1", "days: 3"), encoding="utf-8")
    run = kindvoice("course", str(plan), "--base-url", "not a url", "-o", str(tmp_path / "c"))
    assert spoken_phrases(own_cache) == [], "a session was spoken before the check"
    assert run.code == 2, run.stderr
    assert not list((tmp_path / "c").glob("*.mp3")) if (tmp_path / "c").exists() else True


def test_a_template_with_aliases_does_not_stop_list(tmp_path: Path) -> None:
    """``list`` peeks at every front matter for its id: a bomb there is skipped, fast."""
    (tmp_path / "bomb.md").write_text("---\nid: *i\n" + LAUGHS + "---\nHi.\n", encoding="utf-8")
    run = kindvoice("--templates-dir", str(tmp_path), "list", timeout=60)
    assert run.code == 0, run.stderr
    assert "self-compassion-break" in run.stdout  # the bundled practices are all listed
    assert "Internal error" not in run.stderr


# ---------------------------------------------------------------- the environment


def test_standard_output_to_dev_full() -> None:
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full")
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [sys.executable, "-m", "kindvoice", "list"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    assert proc.returncode == 7, proc.stderr
    assert proc.stderr.strip() == "Error: Cannot write to standard output: No space left on device."


def test_standard_error_closed(tmp_path: Path) -> None:
    """``2>&-``: the render still runs; a failure still sets the exit status."""
    (tmp_path / "t.md").write_text(TEMPLATE, encoding="utf-8")
    script = (
        f'"{sys.executable}" -m kindvoice build "{tmp_path}/t.md" -o "{tmp_path}/o.wav" 2>&-; '
        f'echo "$?"; "{sys.executable}" -m kindvoice build "{tmp_path}/none.md" '
        f'-o "{tmp_path}/n.wav" 2>&-; echo "$?"'
    )
    proc = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=300)
    codes = proc.stdout.split()[-2:]
    assert codes == ["0", "2"], proc.stdout + proc.stderr
    assert (tmp_path / "o.wav").is_file()
    assert not (tmp_path / "n.wav").exists()


@pytest.mark.skipif(not shutil.which("mount") or os.geteuid() != 0, reason="needs root mount")
@pytest.mark.parametrize("extension", ["wav", "flac", "m4a", "opus", "ogg"])
def test_full_disk_in_every_format(tmp_path: Path, extension: str) -> None:
    """A 32 KB tmpfs fills while the audio is written: one line, exit 7, nothing left."""
    (tmp_path / "t.md").write_text(TEMPLATE, encoding="utf-8")
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=32k", "tmpfs", str(disk)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        run = kindvoice("build", str(tmp_path / "t.md"), "-o", str(disk / f"x.{extension}"))
        assert run.code == 7, run.stderr
        assert "Internal error" not in run.stderr and "Traceback" not in run.stderr
        lines = [line for line in run.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("Error: "), run.stderr
        assert "No space left" in lines[0] or "is the disk full" in lines[0]
        assert list(disk.iterdir()) == []
    finally:
        subprocess.run(["umount", str(disk)], check=False)
