"""Issue 16, items 1-4 and 13: nothing of the user's is replaced, an output and its
sidecars are committed together, killing kindvoice leaves no process behind, and the
same request gives the same bytes whatever the phrase cache held. Real CLI processes,
real espeak (pyttsx3), real files."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import pytest

from kindvoice.errors import AudioIOError
from kindvoice.export import outputs
from kindvoice.export.outputs import OutputSet, owned, read_stamp, stamp_path
from kindvoice.owners import host_tag

from kv_testing import kindvoice, spoken_phrases

SHORT = ("one-minute-break", "--minutes", "1", "--background", "none")


def build(out: Path, *extra: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    run = kindvoice("build", *SHORT, *extra, "-o", str(out), env=env)
    return run.code, run.stderr


def one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("Error: ") and "Traceback" not in stderr
    return lines[0]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------- item 1


@pytest.mark.slow
def test_the_users_captions_are_not_replaced_without_force(tmp_path: Path) -> None:
    mine = {ext: f"my own {ext} file\n" for ext in (".srt", ".lrc", ".vtt")}
    for ext, text in mine.items():
        (tmp_path / f"talk{ext}").write_text(text)
    code, err = build(tmp_path / "talk.mp3")
    assert code == 2
    assert "--force" in one_error_line(err)
    for ext, text in mine.items():
        assert (tmp_path / f"talk{ext}").read_text() == text
    assert not (tmp_path / "talk.mp3").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    code, err = build(tmp_path / "talk.mp3", "--force")
    assert code == 0, err
    assert (tmp_path / "talk.srt").read_text() != mine[".srt"]
    assert owned(tmp_path / "talk.srt", tmp_path / "talk.mp3")


@pytest.mark.slow
def test_its_own_sidecars_are_replaced_but_not_once_the_user_edits_one(tmp_path: Path) -> None:
    out = tmp_path / "x.mp3"
    assert build(out)[0] == 0
    out.unlink()  # the sidecars stay, with the stamp that says kindvoice wrote them
    code, err = build(out)
    assert code == 0, err
    out.unlink()
    (tmp_path / "x.vtt").write_text("WEBVTT\n\nmy corrections\n")
    code, err = build(out)
    assert code == 2 and "x.vtt" in one_error_line(err)
    assert (tmp_path / "x.vtt").read_text() == "WEBVTT\n\nmy corrections\n"


@pytest.mark.slow
def test_the_cover_input_is_never_an_output(tmp_path: Path) -> None:
    from PIL import Image

    photo = tmp_path / "photo.jpg"
    Image.new("RGB", (2000, 2000), (200, 120, 40)).save(photo, quality=95)
    before = sha(photo)
    for extra in ((), ("--force",)):
        code, err = build(tmp_path / "photo.mp3", "--cover", str(photo), *extra)
        assert code == 2
        assert "photo.jpg" in one_error_line(err)
        assert sha(photo) == before
        assert not (tmp_path / "photo.mp3").exists()
    # without sidecars there is no cover file to write: the render goes ahead
    code, err = build(tmp_path / "photo.mp3", "--cover", str(photo), "--no-sidecars")
    assert code == 0, err
    assert sha(photo) == before


# --------------------------------------------------------------------------- item 2


@pytest.mark.slow
def test_two_builds_with_one_stem_do_not_share_sidecars(tmp_path: Path) -> None:
    assert build(tmp_path / "clash.mp3")[0] == 0
    sidecars = {p.name: sha(p) for p in tmp_path.glob("clash.*") if p.suffix != ".mp3"}
    assert len(sidecars) == 5
    code, err = build(tmp_path / "clash.wav")
    assert code == 2
    line = one_error_line(err)
    assert "clash.mp3" in line and "clash.wav" in line
    assert {p.name: sha(p) for p in tmp_path.glob("clash.*") if p.suffix != ".mp3"} == sidecars
    assert not (tmp_path / "clash.wav").exists()
    # under another name, or without sidecars, it renders
    assert build(tmp_path / "clash.wav", "--no-sidecars")[0] == 0


@pytest.mark.slow
def test_a_batch_refuses_two_rows_with_one_stem(tmp_path: Path) -> None:
    manifest = tmp_path / "m.csv"
    manifest.write_text(
        "practice,minutes,background,output\n"
        "one-minute-break,1,none,clash.mp3\n"
        "one-minute-break,1,none,clash.wav\n"
    )
    out = tmp_path / "out"
    run = kindvoice("batch", str(manifest), "--output-dir", str(out))
    assert run.code == 8, run.stderr
    row2 = next(line for line in run.stdout.splitlines() if line.strip().startswith("2 "))
    assert "failed" in row2 and "row 1" in row2 and "clash.mp3" in row2
    assert "1 rendered, 0 skipped, 1 failed" in run.stdout
    assert (out / "clash.mp3").is_file() and not (out / "clash.wav").exists()


# --------------------------------------------------------------------------- batch, course


@pytest.mark.slow
def test_a_batch_does_not_overwrite_an_output_it_did_not_write(tmp_path: Path) -> None:
    manifest = tmp_path / "m.csv"
    manifest.write_text("practice,minutes,background,output\none-minute-break,1,none,s.mp3\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "s.mp3").write_bytes(b"my own recording")
    run = kindvoice("batch", str(manifest), "--output-dir", str(out))
    assert run.code == 8
    assert "did not write" in run.stdout
    assert (out / "s.mp3").read_bytes() == b"my own recording"
    run = kindvoice("batch", str(manifest), "--output-dir", str(out), "--force")
    assert run.code == 0, run.stderr
    assert (out / "s.mp3").read_bytes() != b"my own recording"
    # what it wrote it may write again (an edited template, a new version)
    assert kindvoice("batch", str(manifest), "--output-dir", str(out)).code == 0


def test_a_course_does_not_overwrite_an_index_it_did_not_write(tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        "title: Tiny\nteacher: Sam\ndays: 1\nstart_minutes: 1\nend_minutes: 1\n"
        "practices: [one-minute-break]\nbackground: none\n"
    )
    out = tmp_path / "course"
    out.mkdir()
    (out / "index.md").write_text("# my notes\n")
    run = kindvoice("course", str(plan), "--output-dir", str(out))
    assert run.code == 2, run.stderr
    errors = [line for line in run.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1 and "index.md" in errors[0] and "--force" in errors[0]
    assert "Traceback" not in run.stderr
    assert (out / "index.md").read_text() == "# my notes\n"
    assert sorted(p.name for p in out.iterdir()) == ["index.md"]  # refused before any render


# --------------------------------------------------------------------------- item 3


@pytest.mark.slow
def test_audio_and_sidecars_are_committed_together(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure while the sidecars are written leaves the old audio and the old sidecars
    as they were, and no temporary file."""
    from kindvoice.pipeline import render
    from kindvoice.settings import MixSettings, RenderRequest

    out = tmp_path / "x.mp3"
    request = RenderRequest(
        "one-minute-break", out, 60_000, mix=MixSettings(background="none"), sidecars=True
    )
    render(request)
    before = {p.name: sha(p) for p in tmp_path.iterdir()}
    stage = OutputSet.stage

    def failing(self: OutputSet, target: Path, data: bytes | str) -> None:
        if target.suffix == ".lrc":
            raise AudioIOError(f"Cannot write '{target}': No space left on device.")
        stage(self, target, data)

    monkeypatch.setattr(OutputSet, "stage", failing)
    with pytest.raises(AudioIOError):
        render(RenderRequest("one-minute-break", out, 72_000, sidecars=True))
    assert {p.name: sha(p) for p in tmp_path.iterdir()} == before


def test_a_kill_between_renames_leaves_every_file_recognised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    audio = tmp_path / "x.mp3"
    first = OutputSet(audio, sidecars=True, force=False)
    for i, target in enumerate([audio, *first.sidecars.values()]):
        first.stage(target, f"old {i}")
    first.commit()
    second = OutputSet(audio, sidecars=True, force=False)
    for i, target in enumerate([audio, *second.sidecars.values()]):
        second.stage(target, f"new {i}")
    calls = []
    replace = os.replace

    def dies_on_the_third(src: str, dst: str) -> None:
        calls.append(dst)
        if len(calls) == 3:
            raise OSError(5, "Input/output error")  # what a kill there would leave
        replace(src, dst)

    monkeypatch.setattr(outputs.os, "replace", dies_on_the_third)
    with pytest.raises(AudioIOError):
        second.commit()
    contents = sorted(p.read_text() for p in [audio, *second.sidecars.values()])
    assert contents[0].startswith("new") and contents[-1].startswith("old")  # half and half
    for target in [audio, *second.sidecars.values()]:
        assert owned(target, audio), target  # still kindvoice's own: no --force needed
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]
    assert "inputs" not in (read_stamp(audio) or {})  # a batch renders it again


@pytest.mark.slow
def test_orphaned_sidecar_temporary_files_are_removed(tmp_path: Path) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    me = host_tag()
    orphans = [
        tmp_path / f".x.vtt.{dead}@{me}.k2j3h4.part",  # a killed render's on this machine
        tmp_path / f".x.chapters.json.{dead}@{me}.a8s7d6.part",
        tmp_path / f"..x.mp3.kindvoice.json.{dead}@{me}.q1w2e3.part",
        tmp_path / ".x.srt.abcdefgh.part",  # an older version's (no process id), a day old
        tmp_path / f".x.lrc.{dead}.abcdefgh.part",  # an older version's: no machine, a day old
    ]
    for orphan in orphans:
        orphan.write_text("half")
    for old in orphans[-2:]:
        os.utime(old, (time.time() - 2 * 86_400,) * 2)
    fresh = [  # maybe another process's, or another machine's: left alone
        tmp_path / ".x.lrc.zyxwvuts.part",
        tmp_path / f".x.lrc.{dead}.zyxwvuts.part",
        tmp_path / f".x.jpg.{dead}@another-machine-a1b2c3.zyxwvuts.part",
    ]
    for busy in fresh:
        busy.write_text("busy")
    assert build(tmp_path / "x.mp3")[0] == 0
    assert not [p for p in orphans if p.exists()]
    assert all(p.exists() for p in fresh)
    assert stamp_path(tmp_path / "x.mp3").is_file()


# --------------------------------------------------------------------------- item 4


def _descendants(proc: psutil.Process) -> list[psutil.Process]:
    try:
        return proc.children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _wait_for_workers(pid: int, count: int, timeout_s: float = 120) -> list[psutil.Process]:
    """The process's descendants once at least ``count`` of them run Python workers."""
    parent = psutil.Process(pid)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = _descendants(parent)
        workers = []
        for child in found:
            try:
                if "multiprocessing" in " ".join(child.cmdline()):
                    workers.append(child)
            except psutil.Error:
                continue
        if len(workers) >= count:
            time.sleep(0.5)  # let them start speaking
            return _descendants(parent)
        assert parent.is_running() and parent.status() != psutil.STATUS_ZOMBIE
        time.sleep(0.05)
    raise AssertionError("the workers never started")


def _gone(processes: list[psutil.Process], timeout_s: float = 5.0) -> list[psutil.Process]:
    _, alive = psutil.wait_procs(processes, timeout=timeout_s)
    return alive


def _cold_env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "KINDVOICE_CACHE_DIR": str(tmp_path / "cold-cache")}


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_killing_kindvoice_alone_leaves_no_process(tmp_path: Path, sig: signal.Signals) -> None:
    out = tmp_path / "long.mp3"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kindvoice",
            "build",
            "self-compassion-break",
            "--minutes",
            "10",
            "--engine",
            "pyttsx3",
            "--workers",
            "2",
            "-o",
            str(out),
        ],
        env=_cold_env(tmp_path),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    children = _wait_for_workers(proc.pid, 3)  # two speech workers, the resource tracker
    os.kill(proc.pid, sig)  # the parent alone, as `kill PID` or a job runner does
    _, err = proc.communicate(timeout=60)
    assert _gone(children) == []
    if sig == signal.SIGTERM:
        assert proc.returncode == 143
        lines = err.decode().strip().splitlines()
        assert lines[-1] == "Terminated; no output was written.", err.decode()
        assert "Traceback" not in err.decode()
    else:
        assert proc.returncode == -signal.SIGKILL
    time.sleep(2)
    assert not out.exists()
    if sig == signal.SIGTERM:  # cleaned up like Ctrl-C
        assert [p.name for p in tmp_path.iterdir() if p.name != "cold-cache"] == []


@pytest.mark.slow
def test_a_terminated_batch_writes_nothing_more(tmp_path: Path) -> None:
    manifest = tmp_path / "m.csv"
    manifest.write_text(
        "practice,minutes,engine,output\n"
        "self-compassion-break,10,pyttsx3,a.mp3\n"
        "loving-kindness,10,pyttsx3,b.mp3\n"
    )
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kindvoice",
            "batch",
            str(manifest),
            "--output-dir",
            str(out),
            "--workers",
            "2",
        ],
        env=_cold_env(tmp_path),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    # two renders in the pool, each with its speech worker, and the resource tracker
    children = _wait_for_workers(proc.pid, 5)
    os.kill(proc.pid, signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err.decode()
    assert "Traceback" not in err.decode()
    assert _gone(children) == []
    time.sleep(5)
    written = sorted(p.name for p in out.iterdir()) if out.exists() else []
    assert not [name for name in written if not name.endswith(".part")], written


# --------------------------------------------------------------------------- item 13


@pytest.mark.slow
def test_renders_sharing_a_cold_cache_give_the_same_bytes(tmp_path: Path) -> None:
    env = _cold_env(tmp_path)

    def one(name: str) -> str:
        code, err = build(tmp_path / name, "--engine", "pyttsx3", "--no-sidecars", env=env)
        assert code == 0, err
        return sha(tmp_path / name)

    with ThreadPoolExecutor(4) as pool:
        cold = list(pool.map(one, ["a.mp3", "b.mp3", "c.mp3", "d.mp3"]))
    warm = one("warm.mp3")
    assert cold == [warm] * 4


def test_the_python_api_replaces_no_users_file_unless_told(tmp_path: Path, own_cache: Path) -> None:
    from kindvoice.errors import UsageError
    from kindvoice.pipeline import render
    from kindvoice.settings import MixSettings, RenderRequest

    out = tmp_path / "mine.mp3"
    out.write_bytes(b"the user's own recording")
    request = RenderRequest(
        "one-minute-break", out, length_ms=60_000, mix=MixSettings(background="none")
    )
    with pytest.raises(UsageError, match="kindvoice did not write it"):
        render(request)  # the default: a file kindvoice did not write stays
    assert out.read_bytes() == b"the user's own recording"
    assert not spoken_phrases(own_cache)  # refused before any speech
