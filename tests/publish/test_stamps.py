"""Issue 24 §1: a stamp proves what kindvoice wrote by the bytes it recorded. A stamp of
the previous version (its inputs, no file hashes) claims nothing; a batch's up-to-date
test checks the outputs' bytes, so an emptied or cut-off output is rendered again, and
an output the user replaced is refused without --force. Real batches, real espeak."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

import pytest
import soundfile

from kindvoice.export.outputs import owned, read_stamp, stamp_path

from kv_testing import kindvoice

MANIFEST = (
    "practice,minutes,background,engine,output\none-minute-break,{minutes},none,pyttsx3,{name}\n"
)


def _batch(
    tmp_path: Path, *extra: str, minutes: str = "1", name: str = "leg.mp3"
) -> tuple[int, str]:
    manifest = tmp_path / "m.csv"
    manifest.write_text(MANIFEST.format(minutes=minutes, name=name))
    run = kindvoice("batch", str(manifest), "--output-dir", str(tmp_path / "out"), *extra)
    assert "Traceback" not in run.stderr, run.stderr
    return run.code, run.stdout


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _row(stdout: str) -> str:
    return next(line for line in stdout.splitlines() if line.strip().startswith("1 "))


@pytest.mark.slow
def test_an_old_stamp_does_not_make_the_users_edits_kindvoices(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert _batch(tmp_path)[0] == 0
    # the stamp as the previous version wrote it: what went in, no hash of what came out
    stamp = read_stamp(out / "leg.mp3") or {}
    old = {"kindvoice": "0.1.0", "inputs": stamp["inputs"], "seconds": stamp["seconds"]}
    stamp_path(out / "leg.mp3").write_text(json.dumps(old))
    # nothing asked has changed: nothing is written, and the note says what is not known
    code, stdout = _batch(tmp_path)
    assert code == 0 and "0 rendered, 1 skipped" in stdout, stdout
    assert "older kindvoice" in _row(stdout)
    # the user corrects a caption and puts their own picture in; the length changes
    (out / "leg.srt").write_text("1\n00:00:00,000 --> 00:00:02,000\nMy corrected words\n")
    (out / "leg.jpg").write_bytes(b"\xff\xd8 my own 2000 px photo")
    before = {p.name: _sha(p) for p in out.iterdir()}
    code, stdout = _batch(tmp_path, minutes="1.2")
    assert code == 8, stdout
    assert "--force" in _row(stdout) and "failed" in _row(stdout)
    assert {p.name: _sha(p) for p in out.iterdir()} == before  # nothing replaced
    # --force renders it again and the new stamp knows every byte
    code, stdout = _batch(tmp_path, "--force", minutes="1.2")
    assert code == 0, stdout
    assert (out / "leg.srt").read_text() != "1\n00:00:00,000 --> 00:00:02,000\nMy corrected words\n"
    assert owned(out / "leg.srt", out / "leg.mp3") and owned(out / "leg.mp3")


@pytest.mark.slow
def test_a_damaged_output_is_rendered_again_and_a_replaced_one_is_refused(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    audio = out / "up.mp3"
    assert _batch(tmp_path, name="up.mp3")[0] == 0
    good = audio.read_bytes()

    def rendered_again() -> None:
        code, stdout = _batch(tmp_path, name="up.mp3")
        assert code == 0 and "1 rendered, 0 skipped" in stdout, stdout
        assert 59.5 < soundfile.info(str(audio)).duration < 60.5

    audio.write_bytes(b"")  # emptied (`: > up.mp3`)
    rendered_again()
    audio.write_bytes(audio.read_bytes()[: len(good) // 2])  # cut off (a copy that failed)
    rendered_again()
    (out / "up.vtt").write_bytes(b"")  # an emptied sidecar is damage too
    rendered_again()

    # touched, not changed: the bytes still match, so it is up to date
    os.utime(audio, (time.time() + 60,) * 2)
    code, stdout = _batch(tmp_path, name="up.mp3")
    assert code == 0 and "0 rendered, 1 skipped" in stdout, stdout

    # replaced by the user's own recording: not kindvoice's to replace without --force
    audio.write_bytes(b"my own recording of this practice " * 4000)
    mine = _sha(audio)
    code, stdout = _batch(tmp_path, name="up.mp3")
    assert code == 8, stdout
    assert "up.mp3" in _row(stdout) and "--force" in _row(stdout)
    assert _sha(audio) == mine
    code, stdout = _batch(tmp_path, "--force", name="up.mp3")
    assert code == 0, stdout
    assert 59.5 < soundfile.info(str(audio)).duration < 60.5
