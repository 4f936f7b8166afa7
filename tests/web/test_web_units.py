"""The web package's pure parts: the job queue's order and limit, the VTT reader, the
slider bounds and the library's name checks."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from kindvoice.errors import QueueFull
from kindvoice.export.sidecars import Cue as SidecarCue
from kindvoice.export.sidecars import vtt_text
from kindvoice.web.jobs import JobQueue
from kindvoice.web.renders import slider_bounds, slider_steps
from kindvoice.web.sessions import Library, NotInLibrary, parse_vtt, stem_for


def test_jobs_run_first_in_first_out_and_refuse_beyond_the_limit() -> None:
    queue = JobQueue(workers=1, limit=3)
    release = threading.Event()
    started = threading.Event()
    order: list[str] = []
    finished = threading.Semaphore(0)

    def job(name: str, wait: bool = False):  # type: ignore[no-untyped-def]
        def work(progress):  # type: ignore[no-untyped-def]
            if wait:
                started.set()
                release.wait(60)
            progress("mix", 1, 2)
            order.append(name)
            finished.release()
            return name

        return work

    first = queue.submit("session", "first", job("first", wait=True))
    second = queue.submit("session", "second", job("second"))
    third = queue.submit("session", "third", job("third"))
    with pytest.raises(QueueFull, match=r"3 renders are already waiting or running"):
        queue.submit("session", "fourth", job("fourth"))
    assert started.wait(60)
    assert queue.position(third) == 1  # behind "second"; "first" holds the only worker
    release.set()
    for _ in range(3):
        assert finished.acquire(timeout=60)
    queue.shutdown()
    assert order == ["first", "second", "third"]
    while not third.finished:  # the worker sets the status just after the work returns
        threading.Event().wait(0.01)
    assert [j.status for j in (first, second, third)] == ["done"] * 3
    assert queue.state(second)["percent"] == 100.0 and second.result == "second"


def test_a_failing_job_reports_its_message() -> None:
    from kindvoice.errors import LengthError

    queue = JobQueue(workers=1, limit=2)
    done = threading.Event()

    def work(progress):  # type: ignore[no-untyped-def]
        try:
            raise LengthError('"x" runs 2:16 to 3:00; 9:00 asked.')
        finally:
            done.set()

    job = queue.submit("session", "x", work)
    assert done.wait(60)
    while not job.finished:
        threading.Event().wait(0.01)
    queue.shutdown()
    assert job.status == "failed" and job.message == '"x" runs 2:16 to 3:00; 9:00 asked.'


def test_vtt_round_trip() -> None:
    cues = [
        SidecarCue(48_000, 96_000, ("Hello <Sam> & friends.",)),
        SidecarCue(3_600 * 48_000 + 24_000, 3_601 * 48_000, ("One hour in.", "Two lines.")),
    ]
    parsed = parse_vtt(vtt_text(cues))
    assert [(c.start_s, c.end_s, c.text) for c in parsed] == [
        (1.0, 2.0, "Hello <Sam> & friends."),
        (3600.5, 3601.0, "One hour in. Two lines."),
    ]


def test_slider_bounds() -> None:
    # the template's own range, narrowed to what the voice can fill, on half minutes
    assert slider_bounds(2.27, None, 3, 30) == {"min": 3, "max": 30, "step": 0.5}
    assert slider_bounds(4.1, 20.2, 3, 30) == {"min": 4.5, "max": 20.0, "step": 0.5}
    # a voice too slow for the template's range: offer what it can do
    assert slider_bounds(11.2, None, 3, 10) == {"min": 11.5, "max": 11.5, "step": 0.5}


def test_library_names(tmp_path: Path) -> None:
    library = Library(tmp_path / "lib")
    (library.root / "a.mp3").write_bytes(b"a")
    (tmp_path / "outside.mp3").write_bytes(b"o")
    assert library.file("a.mp3") == library.root / "a.mp3"
    for name in ("../outside.mp3", "a.exe", "", ".a.mp3", "sub/a.mp3", "missing.mp3"):
        with pytest.raises(NotInLibrary):
            library.file(name)
    with pytest.raises(NotInLibrary):
        library.upload_path("../../etc/passwd")
    stem = stem_for("Self Compassion/Break", 450.0)
    assert stem.startswith("self-compassion-break-7m30s-") and "." not in stem


def test_slider_steps_cover_the_written_range_on_half_minutes() -> None:
    assert slider_steps(3.0, 5.0) == [3.0, 3.5, 4.0, 4.5, 5.0]
    assert slider_steps(0.2, 1.2) == [0.2, 0.5, 1.0, 1.2]  # the written ends themselves


def test_the_page_clock_is_the_one_clock(tmp_path: Path) -> None:
    from kindvoice.web import create_app

    app = create_app(tmp_path / "lib", workers=1)
    try:
        clock = app.jinja_env.filters["clock"]
        assert [clock(s) for s in (0, 59.6, 450, 3725)] == ["0:00", "1:00", "7:30", "1:02:05"]
    finally:
        app.extensions["kindvoice"].jobs.shutdown()
