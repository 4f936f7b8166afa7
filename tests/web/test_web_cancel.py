"""Work nobody waits for any more is cancelled (issue 23 §2): the Build page's length
range is measured by speaking every phrase (espeak on a cold phrase cache); choosing
another engine, or leaving the page, stops that measurement on the server (its speech
workers end) instead of letting it run on. A real headless Chromium, a real server."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import psutil
import pytest

from kindvoice.template.library import bundled_dir
from kindvoice.template.parse import load_template

from kv_testing import BROWSER_TESTS

pytestmark = BROWSER_TESTS


def _spoken(cache: Path) -> int:
    return sum(1 for _ in (cache / "speech").rglob("*.kvp"))


def _speech_workers() -> list[psutil.Process]:
    me = psutil.Process()
    return [p for p in me.children(recursive=True) if "spawn" in " ".join(p.cmdline())]


def _wait(check: Any, timeout_s: float, what: str) -> None:
    end = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < end, what
        time.sleep(0.1)


def _stops(site: Any, own_cache: Path, total: int) -> None:
    """The measurement under way stops: no range in progress, no speech worker left, and
    the phrase cache stops growing before the practice's every phrase is spoken (a worker
    may finish the phrase it was speaking)."""
    _wait(lambda: not site.state.ranges.measuring(), 30, "the measurement went on")
    _wait(lambda: not _speech_workers(), 30, "speech workers are left running")
    spoken = _spoken(own_cache)
    time.sleep(2.0)
    assert _spoken(own_cache) == spoken < total


@pytest.mark.parametrize("practice", ["compassionate-body-scan", "loving-kindness"])
def test_moving_on_cancels_the_measurement(
    browser: Any, site: Any, own_cache: Path, practice: str
) -> None:
    script = load_template(bundled_dir() / f"{practice}.md")
    total = len(set(script.spoken_texts().values()))
    ranges = site.state.ranges
    found: list[bool] = []  # what each cancel found: a measurement under way, or none
    cancel = ranges.cancel
    ranges.cancel = lambda *args: found.append(cancel(*args)) or found[-1]
    page = browser.new_page()
    page.goto(f"{site.base}/build?practice={practice}&engine=pyttsx3")
    # the page asks for its range: espeak's workers start, then speak phrase after phrase
    _wait(lambda: site.state.ranges.measuring(), 60, "the measurement never started")
    assert not page.locator("form[data-range-ready]").count()
    if practice == "compassionate-body-scan":  # another engine: the page waits no more
        page.get_by_label("Engine").select_option("kokoro")
    else:  # the page is left
        page.goto(f"{site.base}/sessions")
    _wait(lambda: found, 30, "the page never asked to cancel the measurement")
    if not found[0]:  # espeak spoke every phrase before the cancel came (a loaded machine)
        pytest.skip("the measurement had finished when the page's cancel arrived")
    _stops(site, own_cache, total)
    page.close()
