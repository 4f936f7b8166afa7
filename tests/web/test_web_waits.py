"""No silent waiting, no work nobody waits for (issue 23 §2), on a real server without a
browser: the time left each job's state carries (``web.eta``), the waiters of a shared
job (a measurement, a preview) and its cancelling when the last one leaves or nobody polls
any more (the speech workers stop), a teacher's render that is never cancelled; and the
small leftovers: the 413 message of each route, ``kindvoice site --language``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from kindvoice.web import eta, i18n, jobs
from kindvoice.web.site import build_site

from kv_testing import kindvoice, speech_workers, spoken_phrases

LONG = "compassionate-body-scan"  # many phrases: espeak takes seconds on a cold cache
RANGE = f"/api/range?practice={LONG}&engine=pyttsx3&voice=&rate=1"


def _until(check: Any, timeout_s: float, what: str) -> None:
    end = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < end, what
        time.sleep(0.05)


# --------------------------------------------------------------------------- time left


def test_time_left_follows_the_works_own_pace() -> None:
    left = eta.TimeLeft()
    left.report(0.0, now=100.0)  # the workers starting: not a pace
    assert left.seconds(now=107.0) is None
    for step in range(1, 6):  # then 5 % a second
        left.report(0.1 + 0.05 * step, now=107.0 + step)
    # first moving report at 108 s (15 %), 4 s past it: 0.65 of the work at 0.05 a second
    assert left.seconds(now=112.0) == pytest.approx(0.65 / 0.05, rel=0.01)
    # between two reports it counts down with the clock
    assert left.seconds(now=114.0) == pytest.approx(0.65 / 0.05 - 2.0, rel=0.01)
    # a pace that halves moves the estimate toward it, not all the way at once
    left.report(0.375, now=114.0)
    slower = left.seconds(now=114.0)
    assert slower is not None and 0.625 / 0.05 < slower < 0.625 / 0.025


def test_no_estimate_too_early_or_from_a_jump_of_cached_phrases() -> None:
    left = eta.TimeLeft()
    left.report(0.35, now=0.1)  # the phrases in the cache: a jump at the start
    left.report(0.36, now=1.0)
    assert left.seconds(now=1.5) is None  # under MIN_ELAPSED_S past the first report
    left.report(0.40, now=3.0)
    # the pace since the jump (0.05 in 2.9 s), never the jump's (0.35 in 0.1 s)
    assert left.seconds(now=3.0) == pytest.approx(0.60 / (0.05 / 2.9), rel=0.01)


def test_work_that_reports_in_bursts_counts_for_what_it_did() -> None:
    """A block of mixing then a pause, again and again: 2 % every 2 s, in ten reports."""
    left = eta.TimeLeft()
    now, done = 0.0, 0.1
    left.report(done, now=now)
    for _ in range(12):
        now += 2.0
        for _ in range(10):
            now, done = now + 0.001, done + 0.002
            left.report(done, now=now)
    assert left.seconds(now=now) == pytest.approx((1.0 - done) / (0.02 / 2.01), rel=0.05)


def test_each_stage_has_a_pace_of_its_own() -> None:
    left = eta.TimeLeft()
    for n in range(1, 11):  # speaking, 0 to 35 %, fast
        left.report(0.035 * n, now=0.5 * n, stage="speech", until=0.35)
    assert not left.final  # its time left is this step's: the mixing's pace is unknown
    assert left.seconds(now=5.0) == pytest.approx(0.0, abs=0.01)
    for n in range(0, 11):  # mixing, 35 to 100 %, slowly
        left.report(0.35 + 0.01 * n, now=5.0 + n, stage="mix", until=1.0)
    assert left.final
    assert left.seconds(now=15.0) == pytest.approx(0.55 / 0.01, rel=0.01)


@pytest.mark.parametrize(
    ("language", "seconds", "said"),
    [
        ("en", None, ""),
        ("en", 4, "a few seconds left"),
        ("en", 33, "about 35 seconds left"),
        ("en", 70, "about a minute left"),
        ("en", 400, "about 7 min left"),
        ("es", 400, "quedan alrededor de 7 min"),
        ("pt-BR", 33, "faltam cerca de 35 segundos"),
        ("fr", 70, "encore environ une minute"),
        ("it", 4, "mancano pochi secondi"),
        ("es", 200, "quedan alrededor de 3 min para este paso"),
    ],
)
def test_time_left_in_the_pages_words(language: str, seconds: float | None, said: str) -> None:
    app = Flask(__name__)
    i18n.init_app(app)
    with app.test_request_context(headers={"Accept-Language": language}):
        assert eta.left_words(seconds, final="paso" not in said) == said


# --------------------------------------------------------------------------- waiters


def test_the_last_page_to_leave_cancels_the_shared_measurement(site: Any, own_cache: Path) -> None:
    first = site.request(f"{RANGE}&waiter=page-a")
    second = site.request(f"{RANGE}&waiter=page-b")
    assert first.status == second.status == 202
    job_id = first.json()["job"]
    assert second.json()["job"] == job_id  # one measurement, two pages waiting
    job = site.state.jobs.get(job_id)
    assert job.kind == "measure" and job.waiters == {"page-a", "page-b"}

    def polled_and_speaking() -> bool:  # both pages poll, as they would (ABANDON_S)
        for page in ("page-a", "page-b"):
            site.request(f"/api/jobs/{job_id}?waiter={page}")
        return bool(speech_workers())

    _until(polled_and_speaking, 60, "the measurement never started speaking")
    assert site.post(f"/api/jobs/{job_id}/leave", {"waiter": "page-a"}).json() == {
        "cancelled": False
    }
    assert not job.stop.is_set() and job.status == "running"  # page-b still waits
    # a page that never waited cannot cancel it
    assert site.post(f"/api/jobs/{job_id}/leave", {"waiter": "page-x"}).json()["cancelled"] is False
    assert site.post(f"/api/jobs/{job_id}/leave", {"waiter": "page-b"}).json()["cancelled"]
    _until(lambda: job.status == "cancelled", 30, "the measurement went on")
    _until(lambda: not speech_workers(), 30, "its speech workers are left running")
    spoken = len(spoken_phrases(own_cache))
    time.sleep(1.0)
    assert len(spoken_phrases(own_cache)) == spoken  # nothing more is spoken
    state = site.request(f"/api/jobs/{job_id}").json()
    assert state["status"] == "cancelled" and not state["retryable"]
    # the page that comes back asks again: a new measurement, not the cancelled one
    again = site.request(f"{RANGE}&waiter=page-c").json()
    assert again["job"] != job_id
    assert site.post(f"/api/jobs/{again['job']}/leave", {"waiter": "page-c"}).json()["cancelled"]


def test_a_measurement_answers_in_the_request_when_no_page_follows_it(site: Any) -> None:
    """A client that names no waiter (a script, an older page) gets the answer itself."""
    answer = site.request("/api/range?practice=one-minute-break&engine=pyttsx3&voice=&rate=1")
    # the range the template declares (1.25 to 2 minutes), espeak fills all of it
    assert answer.status == 200 and answer.json()["min"] <= 1.25 <= answer.json()["max"]
    measured = [j for j in site.state.jobs._jobs.values() if j.kind == "measure"]
    assert len(measured) == 1 and measured[0].status == "done"


def test_a_preview_nobody_polls_is_cancelled_a_render_never(
    site: Any, own_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jobs, "ABANDON_S", 1.5)
    render = site.post(
        "/build",
        {"practice": "one-minute-break", "minutes": "1", "engine": "pyttsx3", "voice": "en-us"}
        | {"rate": "1", "format": "mp3"},
    )
    assert render.status == 303
    render_id = render.headers["Location"].rsplit("/", 1)[1]
    preview = site.request(
        f"/api/previews/{LONG}",
        {"token": site.token, "waiter": "card-page"},
    ).json()
    job = site.state.jobs.get(preview["job"])
    # nobody polls either: the preview is cancelled, the teacher's render goes on to the end
    _until(lambda: job.finished, 120, "the preview nobody polls went on")
    assert job.status == "cancelled", job.message
    assert not (site.library / "previews" / f"{LONG}.mp3").exists()
    kept = site.state.jobs.get(render_id)
    assert not site.state.jobs.cancel(kept)  # kept work: cancelling refuses
    _until(lambda: kept.finished, 300, "the render never finished")
    assert kept.status == "done", kept.message
    _until(lambda: not speech_workers(), 30, "speech workers are left running")


def test_a_job_state_carries_its_time_so_far_and_left(site: Any) -> None:
    queued = site.post(
        "/build",
        {"practice": "one-minute-break", "minutes": "1", "engine": "pyttsx3", "voice": "en-us"}
        | {"rate": "1", "format": "wav"},
    )
    url = f"/api/jobs/{queued.headers['Location'].rsplit('/', 1)[1]}"
    seen = []
    while (state := site.request(url).json())["status"] not in ("done", "failed"):
        seen.append(state)
        time.sleep(0.1)
    assert state["status"] == "done" and state["elapsed_s"] == state["seconds"]
    running = [s for s in seen if s["status"] == "running"]
    assert running and all(s["elapsed_s"] >= 0 for s in running)
    # what the page shows is what the state says: the words always go with the seconds
    for s in running:
        told = s["left_s"] if s["step_left_s"] is None else s["step_left_s"]
        assert (told is None) == (s["left"] == "")
        assert s["left_s"] is None or s["step_left_s"] is None  # the work's or its step's


# --------------------------------------------------------------------------- leftovers


def test_the_413_page_says_the_limit_of_the_route_that_refused(site: Any) -> None:
    write = site.post("/write", {"text": "x" * (1024 * 1024 + 10)})
    assert write.status == 413 and "at most 1024 KB" in write.text
    # a recorded take may be 32 MB: a larger one is refused with that limit, not 1024 KB
    body = b"token=" + site.token.encode() + b"&take=" + b"x" * (33 * 2**20)
    take = site.request(
        "/api/record/take", body, {"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert take.status == 413
    assert "32 MB" in take.json()["error"] and "1024 KB" not in take.json()["error"]
    # a 2 MB take is not refused for its size (it is not a take at all: 400)
    small = b"token=" + site.token.encode() + b"&practice=one-minute-break&x=" + b"x" * 2**21
    assert (
        site.request(
            "/api/record/take", small, {"Content-Type": "application/x-www-form-urlencoded"}
        ).status
        != 413
    )


def test_a_static_copy_in_spanish(one_session: Any, tmp_path: Path) -> None:
    library = one_session.state.library.root
    built = build_site(library, tmp_path / "es", language="es")
    home = (built.folder / "index.html").read_text("utf-8")
    assert '<html lang="es">' in home
    assert "Historial" in home and "History<" not in home  # the menu in Spanish
    player = next((built.folder / "sessions").glob("*/index.html")).read_text("utf-8")
    assert '<html lang="es">' in player
    # the CLI's option, and a language the page does not speak
    run = kindvoice("site", str(tmp_path / "pt"), "--library", str(library), "--language", "pt")
    assert run.code == 0, run.stderr
    assert '<html lang="pt-BR">' in (tmp_path / "pt" / "index.html").read_text("utf-8")
    bad = kindvoice("site", str(tmp_path / "de"), "--library", str(library), "--language", "de")
    assert bad.code != 0 and "es, pt-BR, fr, it" in bad.stderr


def test_the_waiting_code_is_its_own_script_kept_offline_and_loaded_where_pages_wait(
    site: Any,
) -> None:
    static = Path(jobs.__file__).parent / "static"
    for script in static.glob("*.js"):  # the package's rule for modules, for scripts too
        assert len(script.read_text(encoding="utf-8").splitlines()) < 500, script.name
    worker = (static / "sw.js").read_text(encoding="utf-8")
    for name in ("app.js", "wait.js", "pwa.js", "history.js"):
        assert f'"static/{name}"' in worker, name  # an offline page still has its scripts
    assert "function untilDone" in (static / "wait.js").read_text(encoding="utf-8")
    waits = "/static/wait.js"
    for path in ("/", "/build?practice=one-minute-break&engine=pyttsx3", "/write", "/timer"):
        page = site.request(path).text
        assert waits in page and page.index(waits) < page.index("/static/app.js"), path
    assert waits not in site.request("/history").text  # a page that never waits
