"""What a teacher meets on the web page (issue 17, item 4): the Write page runs
``kindvoice validate``'s checks (an infeasible range refused with validate's own words,
at its line), offers ``kindvoice new``'s starter and the format guide; the Build slider
ends where the server's limit is; the feasible range is measured once per voice and pace;
wrong fields are named in the page's words; every form's voice is a list; the queue says
where a job stands. Then, in Chromium: the caret goes to the error's line, the Course form
fits a 390 px phone, and the practice cards filter by tag."""

from __future__ import annotations

import html
import os
import re
import threading
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from kindvoice.cli import cli
from kindvoice.durations import MINUTES_FORMS
from kindvoice.settings import MAX_SESSION_MINUTES

# at most 60 s of silence: 5 minutes cannot be filled (validate rejects it)
INFEASIBLE = (
    "---\n"
    "title: Too Long\n"
    "minutes: {min: 1, default: 1, max: 5}\n"
    "---\n"
    "\n"
    "## Arriving\n"
    "Let yourself arrive.\n"
    "[pause 5s~60s]\n"
)
FEASIBLE = INFEASIBLE.replace("title: Too Long", "title: Open Pause").replace("60s]", "]")
# a range up to the server's limit (a template may not ask for more), every minute fillable
HUGE = FEASIBLE.replace("max: 5", "max: 600").replace("Open Pause", "Huge")


def _text(reply: Any) -> str:
    return html.unescape(reply.text)


def _validate(tmp_path: Path, text: str) -> list[str]:
    """``kindvoice validate template.md`` run beside the file: its problem lines."""
    folder = tmp_path / "cli"
    folder.mkdir(exist_ok=True)
    (folder / "template.md").write_text(text, encoding="utf-8")
    old = Path.cwd()
    os.chdir(folder)
    try:
        result = CliRunner().invoke(cli, ["validate", "template.md"])
    finally:
        os.chdir(old)
    return [line for line in result.stderr.splitlines() if line.startswith("template.md:")]


# --------------------------------------------------------------------------- Write page


def test_write_refuses_an_infeasible_range_with_validates_words(site, tmp_path: Path) -> None:
    reply = site.post("/write", {"text": INFEASIBLE, "engine": "pyttsx3"})
    assert reply.status == 422
    page = _text(reply)
    expected = _validate(tmp_path, INFEASIBLE)
    assert expected and expected[0].startswith("template.md:3:1: minutes")
    for line in expected:  # every problem validate prints, in its words
        assert line in page
    assert "Line 3, column 1:" in page  # the error names the line (the minutes key)
    assert 'data-error-line="3"' in reply.text  # where the page's script puts the caret
    assert not any((site.library / "templates").glob("*.md"))  # not kept

    ok = site.post("/write", {"text": FEASIBLE, "engine": "pyttsx3"})
    assert ok.status == 200 and "Open Pause</strong> is a valid template" in ok.text
    assert _validate(tmp_path, FEASIBLE) == []


def test_write_offers_the_starter_of_kindvoice_new_and_the_format_guide(site) -> None:
    from importlib.resources import files

    starter = files("kindvoice.template").joinpath("starter.md").read_text(encoding="utf-8")
    page = site.request("/write")
    assert 'href="/write/starter.md"' not in page.text  # the button's data, not a link
    assert 'data-starter="/write/starter.md"' in page.text
    assert site.request("/write/starter.md").text == starter
    assert starter in _text(site.request("/write?starter=1"))  # without JavaScript
    guide = site.request("/write/format")
    assert guide.status == 200 and "[pause 20s~]" in _text(guide)
    assert 'href="/write/format"' in page.text


# --------------------------------------------------------------------------- Build form


def test_slider_max_is_the_server_limit(site) -> None:
    written = site.post("/write", {"text": HUGE, "engine": "pyttsx3"})
    assert written.status == 200
    link = re.search(r'href="(/build\?practice=upload[^"]+)"', written.text)
    assert link is not None
    page = site.request(html.unescape(link.group(1)))
    slider = re.search(r'<input type="range" id="minutes"[^>]*>', page.text, re.S)
    assert slider is not None
    assert f'max="{MAX_SESSION_MINUTES:g}"' in slider.group(0).replace(".0", "")
    practice = html.unescape(link.group(1)).split("practice=")[1]
    answer = site.request(f"/api/range?practice={practice}&engine=pyttsx3&voice=&rate=1").json()
    assert answer["max"] == MAX_SESSION_MINUTES
    fields = {"practice": practice, "engine": "pyttsx3", "voice": "en-us", "rate": "1"}
    fields |= {"format": "wav", "channels": "mono", "bitrate": ""}
    top = site.request("/build", {**fields, "token": site.token, "minutes": "600"})
    assert top.status == 303  # the slider's end is accepted...
    over = site.request(
        "/build",
        {**fields, "token": site.token, "minutes": str(MAX_SESSION_MINUTES + 0.5)},
        headers={"Accept": "application/json"},
    )
    assert over.status == 400 and over.json()["field"] == "minutes"  # ...one step more is not


def test_feasible_range_is_measured_once_per_voice_and_pace(site, start_site, monkeypatch) -> None:
    import kindvoice.lengths.ranges

    calls: list[str] = []
    real = kindvoice.lengths.ranges.measure_speech

    def counted(request: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(str(request.voice))
        return real(request, *args, **kwargs)

    written = site.post("/write", {"text": FEASIBLE, "engine": "pyttsx3"})
    practice = re.search(r"practice=(upload(?:%3A|:)[0-9a-f]{16})", written.text)
    assert practice is not None
    monkeypatch.setattr(kindvoice.lengths.ranges, "measure_speech", counted)
    query = f"/api/range?practice={practice.group(1)}&engine=pyttsx3&voice=en-gb&rate=1.1"
    first = site.request(query).json()
    assert len(calls) == 1
    again = site.request(query).json()
    assert again == first and len(calls) == 1  # answered from the cache: nothing spoken
    site.request(query.replace("rate=1.1", "rate=0.9"))
    assert len(calls) == 2  # another pace is measured
    # a restarted server (a new app, another library) finds the answer in the cache folder
    again_site = start_site()
    again_site.post("/write", {"text": FEASIBLE, "engine": "pyttsx3"})
    calls.clear()
    assert again_site.request(query).json() == first and calls == []


def test_field_errors_are_named_in_the_pages_words(site) -> None:
    json_ = {"Accept": "application/json"}
    build = {"token": site.token, "practice": "one-minute-break", "engine": "pyttsx3"}
    build |= {"voice": "en-us", "rate": "1", "format": "mp3", "channels": "stereo"}
    bad_length = site.request("/build", {**build, "minutes": "abc"}, headers=json_)
    assert bad_length.status == 400
    assert bad_length.json() == {
        "error": f"Cannot read the length in minutes 'abc'; write {MINUTES_FORMS}.",
        "field": "minutes",
    }
    bad_voice = site.request("/build", {**build, "minutes": "3", "voice": "klingon"}, headers=json_)
    assert bad_voice.status == 400 and bad_voice.json()["field"] == "voice"
    assert "Unknown pyttsx3 voice 'klingon'" in bad_voice.json()["error"]

    timer = {"token": site.token, "minutes": "10", "warmup": "0s", "at": "", "bell": "chime"}
    timer |= {"background": "none", "welcome": "", "engine": "pyttsx3", "format": "wav"}
    long_interval = site.request("/timer", {**timer, "interval": "20m"}, headers=json_)
    answer = long_interval.json()
    assert long_interval.status == 400 and answer["field"] == "interval"
    assert "--" not in answer["error"] and answer["error"].startswith("The interval")
    bad_at = site.request("/timer", {**timer, "interval": "", "at": "30m"}, headers=json_)
    assert bad_at.json()["field"] == "at" and "--" not in bad_at.json()["error"]
    # without the page's script the error page says the same sentence
    page = site.request("/build", {**build, "minutes": "abc"})
    assert page.status == 400 and "Cannot read the length in minutes" in page.text


def test_every_form_offers_the_voice_list(site) -> None:
    for path in ("/build", "/timer", "/course"):
        page = site.request(path).text
        assert re.search(r'<input type="radio" name="voice"[^>]*value="en-us"', page), path
        assert not re.search(r'<input(?![^>]*type="radio")[^>]*name="voice"', page), path


def test_queue_says_where_a_waiting_job_stands(start_site) -> None:
    site = start_site(workers=1)
    release = threading.Event()

    def blocked(progress: Any) -> str:
        release.wait(30)
        return "x"

    try:
        first = site.state.jobs.submit("preview", "first", blocked)
        while site.state.jobs.get(first.id).status != "running":
            threading.Event().wait(0.02)
        second = site.state.jobs.submit("preview", "second", blocked)
        state = site.request(f"/api/jobs/{second.id}").json()
        assert (state["status"], state["ahead"], state["running"], state["workers"]) == (
            "waiting",
            0,
            1,
            1,
        )
        page = _text(site.request(f"/jobs/{second.id}"))
        assert "Waiting: 1 ahead (1 rendering, 0 waiting)." in page
    finally:
        release.set()


# --------------------------------------------------------------------------- browser


@pytest.mark.browser
def test_caret_course_on_a_phone_and_tag_filter(browser, site) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 844})
    # the Write page: the caret lands on the error's line
    page.goto(site.base + "/write")
    page.get_by_label("Template text").fill(INFEASIBLE)
    page.get_by_label("Check the lengths with").select_option("pyttsx3")
    page.get_by_role("button", name="Check it").click()
    page.wait_for_selector("textarea[data-error-line]")
    caret_line = page.evaluate(
        """() => { const t = document.getElementById('text');
                   return document.activeElement === t
                     ? t.value.slice(0, t.selectionStart).split('\\n').length : 0; }"""
    )
    assert caret_line == 3

    # the Course form at 390x844: no sideways scroll, 44 px targets
    page.goto(site.base + "/course")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    small = page.evaluate(
        """() => [...document.querySelectorAll(
                 'form input:not([type=hidden]):not([type=checkbox]):not([type=radio]),'
                 + 'form select, form button, .checks label')]
               .filter(el => el.offsetParent !== null)
               .map(el => [el.id || el.name || el.textContent.trim(),
                           el.getBoundingClientRect().height])
               .filter(([, h]) => h < 44)"""
    )
    assert small == []
    box = page.get_by_label("Affectionate Breathing").bounding_box()
    assert box is not None and box["x"] + box["width"] <= 390
    page.get_by_label("Affectionate Breathing").check()
    # a wrong field is shown next to it, in the page's words
    page.locator("#c-days").fill("0")
    page.locator("#c-days").evaluate("el => el.removeAttribute('min')")
    page.get_by_role("button", name="Build the course").click()
    error = page.locator("[data-field-error='days']")
    error.wait_for()
    said = "The number of days must be a whole number between 1 and 999; got 0."
    assert error.inner_text() == said
    assert page.evaluate("document.activeElement.id") == "c-days"

    # the practice cards: sorted by title, filtered by a tag
    page.goto(site.base + "/")
    titles = page.locator(".cards > .card h2").all_inner_texts()
    assert titles == sorted(titles, key=str.casefold)
    page.get_by_role("button", name="talk", exact=True).click()
    shown = page.locator(".cards > .card:visible h2").all_inner_texts()
    assert 0 < len(shown) < len(titles)
    tags = page.locator(".cards > .card:visible").evaluate_all(
        "cards => cards.map(c => c.dataset.tags.split(' ').includes('talk'))"
    )
    assert all(tags)
    page.get_by_role("button", name="All", exact=True).click()
    assert page.locator(".cards > .card:visible").count() == len(titles)
    page.close()


def test_a_listener_cannot_measure_ranges_or_open_the_write_helpers(start_site) -> None:
    site = start_site(require_token=True)
    listener = {"Cookie": f"kindvoice_token={site.state.listener_token}"}
    teacher = {"Cookie": f"kindvoice_token={site.token}"}
    for path in ("/api/range?practice=one-minute-break", "/write/starter.md", "/write/format"):
        assert site.request(path, headers=listener).status == 403, path
    assert site.request("/write/format", headers=teacher).status == 200
