"""Work nobody waits for any more is cancelled (issue 23 §2), in a real headless Chromium
on a real server: the Build page's length range is measured by speaking every phrase
(espeak on a cold phrase cache) while the page shows its progress; choosing another
engine, or leaving the page, ends that measurement "cancelled" (its speech workers stop);
a card's preview left behind on a phone, and a voice sample when the engine changes, too.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from kindvoice.template.library import bundled_dir
from kindvoice.template.parse import load_template

from kv_testing import BROWSER_TESTS, PHONE, speech_workers, spoken_phrases

pytestmark = BROWSER_TESTS

#: the pages here run without the service worker: in headless Chromium 156 a page it
#: controls lost about one leave in three sent as it was left (sendBeacon or a keepalive
#: fetch alike); the server's poll timeout covers those (test_web_waits.py)
NO_WORKER = {"service_workers": "block"}


def _wait(check: Any, timeout_s: float, what: str) -> Any:
    end = time.monotonic() + timeout_s
    while not (found := check()):
        assert time.monotonic() < end, what
        time.sleep(0.1)
    return found


def _job(site: Any, kind: str) -> Any:
    """The running job of ``kind`` (None while there is none)."""
    return next(
        (
            j
            for j in list(site.state.jobs._jobs.values())
            if j.kind == kind and j.status == "running"
        ),
        None,
    )


def _leaves(site: Any) -> list[bool]:
    """What each page's leave found from now on: True when it cancelled the job."""
    found: list[bool] = []
    leave = site.state.jobs.leave
    site.state.jobs.leave = lambda *args: found.append(leave(*args)) or found[-1]
    return found


def _stopped(
    site: Any, job: Any, own_cache: Path, total: int, leaves: list[bool] | None = None
) -> None:
    """``job`` ends cancelled, no speech worker is left, and the phrase cache stops
    growing before every phrase is spoken (a worker may finish the phrase it was on)."""
    if leaves is not None:  # the page says it leaves (its beacon, or the change of engine)
        _wait(lambda: leaves, 30, "the page never left the job")
    if job.status == "done":  # spoken to the end before the cancel came (a loaded machine)
        pytest.skip("the work had finished when the page's cancel arrived")
    _wait(lambda: job.finished, 30, "the work went on")
    assert job.status == "cancelled", job.message
    _wait(lambda: not speech_workers(), 30, "speech workers are left running")
    spoken = len(spoken_phrases(own_cache))
    time.sleep(2.0)
    assert len(spoken_phrases(own_cache)) == spoken < total


@pytest.mark.parametrize("practice", ["compassionate-body-scan", "loving-kindness"])
def test_moving_on_cancels_the_measurement(
    browser: Any, site: Any, own_cache: Path, practice: str
) -> None:
    script = load_template(bundled_dir() / f"{practice}.md")
    total = len(set(script.spoken_texts().values()))
    # the page asks for its range: a measuring job, which the page follows
    leaves = _leaves(site)
    page = browser.new_context(**NO_WORKER).new_page()
    page.goto(f"{site.base}/build?practice={practice}&engine=pyttsx3")
    job = _wait(lambda: _job(site, "measure"), 60, "the measurement never started")
    assert len(job.waiters) == 1
    # while it waits the page says what it does, how far (the job's percent) and how long
    page.wait_for_function(
        "() => /%.*\\((.* so far|.*left)\\)/"
        ".test(document.querySelector('[data-range-note]').textContent)"
    )
    assert not page.locator("form[data-range-ready]").count()
    if practice == "compassionate-body-scan":  # another engine: the page waits no more
        page.get_by_label("Engine").select_option("kokoro")
    else:  # the page is left
        page.goto(f"{site.base}/sessions")
    _stopped(site, job, own_cache, total, leaves)
    page.close()


def test_leaving_the_cards_cancels_a_preview_on_a_phone(
    browser: Any, site: Any, own_cache: Path
) -> None:
    practice = "compassionate-body-scan"
    total = len(set(load_template(bundled_dir() / f"{practice}.md").spoken_texts().values()))
    leaves = _leaves(site)
    page = browser.new_context(**PHONE, **NO_WORKER).new_page()
    page.goto(f"{site.base}/")
    page.locator(f"button[data-preview='{practice}']").click()
    job = _wait(lambda: _job(site, "preview"), 60, "the preview never started")
    page.wait_for_function(
        f"() => /%/.test(document.getElementById('preview-status-{practice}').textContent)"
    )
    page.goto(f"{site.base}/sessions")  # pagehide: the page leaves its preview
    _stopped(site, job, own_cache, total, leaves)
    assert not (site.library / "previews" / f"{practice}.mp3").exists()


def test_another_engine_cancels_a_voice_sample(browser: Any, site: Any, own_cache: Path) -> None:
    page = browser.new_page()
    page.goto(f"{site.base}/build?practice=one-minute-break&engine=pyttsx3")
    page.wait_for_function("() => document.querySelector('form[data-range-ready]') !== null")
    page.locator("button[data-sample]").first.click()
    job = _wait(lambda: _job(site, "preview"), 60, "the sample never started")
    assert job.title.startswith("Voice sample") and len(job.waiters) == 1
    page.get_by_label("Engine").select_option("kokoro")
    if job.status == "done":
        pytest.skip("the sample was spoken before the engine changed (a loaded machine)")
    _wait(lambda: job.finished, 30, "the sample went on")
    assert job.status == "cancelled", job.message
    _wait(lambda: not speech_workers(), 30, "speech workers are left running")
    page.close()
