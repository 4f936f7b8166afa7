"""The command line as a user meets it: list, show, validate, new, errors, --version."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kindvoice import __version__
from kindvoice.template.library import list_practices

from kv_testing import kindvoice, kindvoice_process


def test_version_and_help() -> None:
    """The entry point itself, in a process of its own (``python -m kindvoice``)."""
    run = kindvoice_process("--version")
    assert run.code == 0 and __version__ in run.stdout
    run = kindvoice_process("--help")
    for command in ("build", "list", "show", "voices", "validate", "cache", "plan", "new"):
        assert command in run.stdout


def test_list_shows_every_practice_with_its_range() -> None:
    run = kindvoice("list")
    assert run.code == 0, run.stderr
    lines = [line.strip() for line in run.stdout.splitlines() if line.startswith("  ")]
    assert len(lines) == len(list_practices())
    assert "Practices:" in run.stdout and "Timers:" in run.stdout
    timers = kindvoice("list", "--kind", "timer").stdout
    assert "timer " in timers and "self-compassion-break" not in timers
    scb = next(line for line in lines if line.startswith("self-compassion-break"))
    assert "3-30 min (default 6)" in scb
    assert "The Self-Compassion Break" in scb


def test_show_describes_a_practice() -> None:
    run = kindvoice("show", "self-compassion-break")
    assert run.code == 0, run.stderr
    assert "Length: 3 to 30 minutes, default 6" in run.stdout
    assert "Variable difficulty" in run.stdout
    assert "Sections: Arriving; A difficulty; Noticing; Not alone; Kindness" in run.stdout


def test_validate_reports_file_line_col(tmp_path: Path) -> None:
    good = tmp_path / "good.md"
    good.write_text("---\ntitle: Fine\n---\nHello.\n[pause 2s~]\n", encoding="utf-8")
    bad = tmp_path / "bad.md"
    bad.write_text(
        "---\ntitle: Broken\n---\nHello.\n\nRest here [pase 5s] now.\n", encoding="utf-8"
    )
    run = kindvoice("validate", str(good), str(bad))
    assert run.code == 3
    assert f"{good}: ok" in run.stdout
    assert f"{bad}:6:11: " in run.stderr
    assert "pause" in run.stderr  # the closest marker is suggested
    assert "Traceback" not in run.stderr


def test_new_writes_a_starter_that_validates(tmp_path: Path) -> None:
    run = kindvoice("new", "evening-calm", cwd=tmp_path)
    assert run.code == 0, run.stderr
    written = tmp_path / "evening-calm.md"
    text = written.read_text(encoding="utf-8")
    for marker in (
        "[pause 3s]",
        "[pause 5s~40s]",
        "x2]",
        "[bell]",
        "[bell soft]",
        "[breathe 4",
        "[repeat 1~4]",
        "[repeat 2]",
        "[/repeat]",
        "[silence",
        "{name}",
        "<!--",
    ):
        assert marker in text
    assert kindvoice("validate", str(written)).code == 0
    again = kindvoice("new", "evening-calm", cwd=tmp_path)
    assert again.code == 2 and "already exists" in again.stderr
    assert written.read_text(encoding="utf-8") == text


def test_bad_length_syntax_is_a_usage_error(tmp_path: Path) -> None:
    run = kindvoice(
        "build", "self-compassion-break", "--length", "ten", "-o", str(tmp_path / "x.mp3")
    )
    assert run.code == 2
    assert "MM:SS" in run.stderr
    assert list(tmp_path.iterdir()) == []


def test_unknown_output_extension_is_refused_before_work(tmp_path: Path) -> None:
    run = kindvoice("build", "self-compassion-break", "-o", str(tmp_path / "x.aiff"))
    assert run.code == 2
    assert ".mp3" in run.stderr
    assert list(tmp_path.iterdir()) == []


def test_plan_figures_add_up_to_the_total() -> None:
    run = kindvoice("plan", "loving-kindness", "--minutes", "17")
    assert run.code == 0, run.stderr

    def seconds(label: str) -> float:
        line = next(x for x in run.stdout.splitlines() if x.startswith(label))
        minutes, secs = line.split()[1].split(":")
        return int(minutes) * 60 + float(secs)

    parts = seconds("Speech") + seconds("Bells") + seconds("Silence")
    assert seconds("Total") == 17 * 60
    assert abs(parts - seconds("Total")) < 0.002
    assert "repeat" in run.stdout and "Feasible with this voice" in run.stdout


@pytest.mark.slow
def test_a_new_practice_renders_at_three_lengths(tmp_path: Path) -> None:
    import soundfile

    assert kindvoice("new", "my-first", cwd=tmp_path).code == 0
    template = tmp_path / "my-first.md"
    assert kindvoice("validate", str(template)).code == 0
    for minutes in ("3", "5", "8"):
        out = tmp_path / f"first-{minutes}.wav"
        run = kindvoice(
            "build", str(template), "--minutes", minutes, "--no-sidecars", "-o", str(out)
        )
        assert run.code == 0, run.stderr
        assert soundfile.info(str(out)).frames == int(minutes) * 60 * 48_000


def test_validate_checks_the_minutes_range(tmp_path: Path) -> None:
    tight = tmp_path / "tight.md"
    tight.write_text(
        "---\ntitle: Tight\nminutes: {min: 1, default: 2, max: 5}\n---\nHello there.\n"
        "[pause 2s~10s]\n",
        encoding="utf-8",
    )
    run = kindvoice("validate", str(tight))
    assert run.code == 3
    assert f"{tight}:3:1: minutes min (1) cannot be met" in run.stderr
    assert "5:00 asked" in run.stderr
    assert kindvoice("validate", "--no-length-check", str(tight)).code == 0


@pytest.mark.parametrize(
    ("args", "allowed"),
    [(["--help"], set()), (["list"], set()), (["validate", "SCB"], {"numpy"})],
)
def test_start_up_imports_no_heavy_library(args: list[str], allowed: set[str]) -> None:
    """``kindvoice --help``, ``list`` and ``validate`` start in a fresh Python without scipy,
    pydub, mutagen, soundfile or onnxruntime (each costs from a tenth of a second to a
    second); ``--help`` and ``list`` without numpy too."""
    scb = str(Path(__file__).parents[1] / "meditations" / "self-compassion-break.md")
    args = [scb if a == "SCB" else a for a in args]
    code = (
        "import sys\n"
        "from kindvoice.cli import cli\n"
        "try:\n"
        f"    cli.main({args!r}, prog_name='kindvoice')\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "heavy = {'numpy', 'scipy', 'pydub', 'mutagen', 'soundfile', 'onnxruntime', 'pyloudnorm'}\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & heavy), file=sys.stderr)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.splitlines()[-1] == str(sorted(allowed))
