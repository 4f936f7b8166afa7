"""No silent waiting, seen in a real headless Chromium (issue 23 §2): a render's page
shows the work's own percent and its time left in the page's language (Spanish here),
from the job's state; and a leftover of the walk-through: at 390 px the header's menu
fits the phone's screen on every page, no element wider than the viewport, folded under
"Menu" and opened."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from kindvoice.template.library import bundled_dir
from kindvoice.template.parse import load_template

from kv_testing import BROWSER_TESTS

pytestmark = BROWSER_TESTS

LONG = "compassionate-body-scan"


def test_a_render_says_its_time_left_in_spanish(browser: Any, site: Any, own_cache: Path) -> None:
    minutes = load_template(bundled_dir() / f"{LONG}.md").meta.minutes.default
    queued = site.post(
        "/build",
        {"practice": LONG, "minutes": str(minutes), "engine": "pyttsx3", "voice": "en-us"}
        | {"rate": "1", "format": "mp3"},
    )
    assert queued.status == 303, queued.text
    context = browser.new_context(locale="es-ES")
    page = context.new_page()
    page.goto(site.base + queued.headers["Location"])
    status = page.locator("[data-job-status]")
    # the percent and, once the pace is known, the time left in Spanish: "quedan ..."
    page.wait_for_function(
        "() => /\\d+ ?% \\(.*(queda|quedan) /.test("
        "document.querySelector('[data-job-status]').textContent)",
        timeout=300_000,
    )
    said = status.text_content() or ""
    spanish = r"quedan unos segundos|queda alrededor de un minuto|quedan alrededor de \d+ (min|s)"
    assert re.search(spanish, said), said
    assert "left" not in said and "so far" not in said
    job = site.state.jobs.get(queued.headers["Location"].rsplit("/", 1)[1])
    page.wait_for_url(re.compile(r"/sessions/"), timeout=300_000)  # then the player opens
    assert job.status == "done"
    context.close()


TEACHER_PAGES = [
    "/",
    "/build?practice=one-minute-break&engine=pyttsx3",
    "/write",
    "/timer",
    "/course",
    "/sessions",
    "/templates",
    "/courses",
    "/history",
]

#: elements wider than the screen on purpose: inside a box that scrolls sideways itself
_OVERFLOWING = """() => {
  const width = document.documentElement.clientWidth;
  const scrolls = (el) => {
    for (let up = el.parentElement; up; up = up.parentElement) {
      const x = getComputedStyle(up).overflowX;
      if (x === "auto" || x === "scroll" || x === "hidden") return true;
    }
    return false;
  };
  return [...document.body.querySelectorAll("*")]
    .filter((el) => el.getClientRects().length && !el.closest(".sr, .skip"))
    .filter((el) => {
      const r = el.getBoundingClientRect();
      return r.left < -0.5 || r.right > width + 0.5;
    })
    .filter((el) => !scrolls(el))
    .map((el) => `${el.tagName.toLowerCase()}: ${el.textContent.trim().slice(0, 30)}`);
}"""


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_menu_fits_a_phone_on_every_page(phone_browser: Any, site: Any, language: str) -> None:
    context = phone_browser(locale=language)
    page = context.new_page()
    for path in TEACHER_PAGES:
        page.goto(site.base + path)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
        assert page.evaluate(_OVERFLOWING) == [], path
        # the teacher's long menu folds under "Menu", so the page's own content is in view
        menu = page.locator("header summary")
        assert menu.is_visible() and page.locator("header nav li").first.is_hidden()
        menu.click()  # opened, it wraps inside the screen
        items = page.locator("header nav li")
        assert items.count() == 9 and items.last.is_visible()  # every entry, none cut
        assert page.evaluate(_OVERFLOWING) == [], path
        for box in items.evaluate_all("lis => lis.map(li => li.getBoundingClientRect().right)"):
            assert box <= 390.5, (path, box)
    context.close()


@pytest.fixture
def phone_browser(browser: Any) -> Any:
    from kv_testing import PHONE

    def make(**options: Any) -> Any:
        return browser.new_context(**PHONE, **options)

    return make
