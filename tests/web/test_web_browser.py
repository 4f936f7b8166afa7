"""End to end in a real headless Chromium (Debian's ``chromium``, driven by Playwright):
choose a practice, set 7 minutes, render, follow the progress, play the result in the
page's audio element, download it; the phone layout; the upload-and-validate path.

Run ``bash scripts/install_browser.sh`` once to install Chromium; Playwright's own browser
download is never used."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import mutagen
import pytest

from kv_testing import BROWSER_TESTS

pytestmark = BROWSER_TESTS

RANGE_TIMEOUT_MS = 180_000

BROKEN = "---\ntitle: Broken\nminutes: {min: 1, default: 2, max: 5}\n---\n\n## Start\n"
BROKEN += "Hello there.\n[pause 5s~]\n{nmae}\n"


def _unlabelled(page: Any) -> list[str]:
    """Form controls the page shows with no label (every one must have one)."""
    result: list[str] = page.evaluate(
        """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
              .filter(el => el.labels.length === 0 && !el.getAttribute('aria-label'))
              .map(el => el.id || el.name)"""
    )
    return result


def test_render_play_and_download_seven_minutes(browser, site, tmp_path: Path) -> None:
    page = browser.new_page(accept_downloads=True)
    page.goto(site.running.url)
    page.get_by_role("link", name="Build this practice: The Self-Compassion Break").click()
    # the slider's range: every phrase measured on a cold cache (slow on a busy machine)
    page.wait_for_selector("form[data-range-ready]", timeout=RANGE_TIMEOUT_MS)
    assert page.locator("#minutes").get_attribute("min") == "3"
    page.locator("#minutes").fill("7")
    assert page.locator("#minutes-out").inner_text() == "7:00"
    page.get_by_label("Engine").select_option("pyttsx3")
    page.get_by_role("button", name="Render").click()

    page.wait_for_url("**/jobs/*")
    job_url = page.locator("[data-job]").get_attribute("data-job")
    page.wait_for_url("**/sessions/*", timeout=300_000)  # the page moves on when done
    state = site.request(job_url).json()
    assert (state["status"], state["percent"]) == ("done", 100.0)
    assert page.locator("h1").inner_text() == "The Self-Compassion Break"

    # play it in the page's own audio element
    page.get_by_role("button", name="Arriving 0:00").click()
    page.wait_for_function(
        "() => { const a = document.getElementById('player');"
        " return a.readyState >= 1 && isFinite(a.duration) && !a.paused; }"
    )
    duration = page.evaluate("document.getElementById('player').duration")
    assert duration == pytest.approx(420.0, abs=0.05)

    # a chapter seeks, and the transcript follows to the words spoken there
    kindness = page.get_by_role("button", name="Kindness")
    starts = float(kindness.get_attribute("data-seek"))
    assert 60.0 < starts < 360.0
    kindness.click()
    page.wait_for_selector(".transcript li.now")
    assert page.evaluate("document.getElementById('player').currentTime") >= starts
    assert "kindness" in page.locator(".transcript li.now").inner_text().lower()

    with page.expect_download() as info:
        page.locator("a[data-kind=audio]").click()
    saved = tmp_path / info.value.suggested_filename
    info.value.save_as(saved)
    assert saved.suffix == ".mp3"
    assert mutagen.File(saved).info.length == pytest.approx(420.0, abs=0.05)
    assert saved.read_bytes() == (site.library / saved.name).read_bytes()
    for kind in ("vtt", "srt", "chapters"):
        assert page.locator(f"a[data-kind={kind}]").count() == 1
    page.close()


def test_phone_layout_fits_and_every_input_is_labelled(browser, site) -> None:
    queued = site.post(
        "/timer",
        {
            "minutes": "1",
            "bell": "chime",
            "background": "none",
            "engine": "pyttsx3",
            "format": "mp3",
            "welcome": "Welcome. Let yourself arrive.",
        },
    )
    state = site.wait_job(f"/api/jobs/{queued.headers['Location'].rsplit('/', 1)[1]}")
    assert state["status"] == "done", state["message"]

    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    for path in ("/", "/build", "/write", "/timer", "/course", "/sessions", state["url"]):
        page.goto(site.base + path)
        page.wait_for_load_state("networkidle")
        fits = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert fits, f"{path} scrolls sideways at 390 px"
        assert _unlabelled(page) == [], path
    # the transcript of the timer's welcome is there, and the page is keyboard usable
    assert "Welcome. Let yourself arrive." in page.locator(".transcript").inner_text()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to the content"
    context.close()


def test_upload_and_validate_a_broken_template(browser, site, tmp_path: Path) -> None:
    page = browser.new_page()
    page.goto(site.base + "/write")
    page.get_by_label("Template text").fill(BROKEN)
    page.get_by_role("button", name="Check it").click()
    alert = page.get_by_role("alert")
    assert "Line 9, column 1:" in alert.inner_text()
    assert "Unknown variable" in alert.inner_text()
    assert page.locator(".source li.bad").inner_text() == "{nmae}"
    assert page.get_by_label("Template text").input_value() == BROKEN  # kept for fixing

    fixed = tmp_path / "fixed.md"
    fixed.write_text(BROKEN.replace("{nmae}\n", "Be kind.\n"), encoding="utf-8")
    page.get_by_label("Template text").fill("")
    page.get_by_label("Or upload a file").set_input_files(str(fixed))
    page.get_by_role("button", name="Check it").click()
    assert "Broken is a valid template" in page.get_by_role("status").inner_text()
    page.get_by_role("link", name="Render it").click()
    assert page.locator("#practice-choice").input_value().startswith("upload:")
    page.close()


def test_voice_list_follows_the_engine_and_plays_samples(browser, site) -> None:
    page = browser.new_page()
    ranges: list[str] = []

    def range_for(route: Any) -> None:
        # the slider's range is asked again for each voice; Kokoro would measure the whole
        # practice (minutes of CPU), so its answer is given here and only the ask checked
        ranges.append(route.request.url)
        if "engine=kokoro" not in route.request.url:
            route.continue_()
            return
        body = {"low_s": 150.0, "high_s": None, "min": 3.0, "max": 30.0, "step": 0.5}
        body["voice"] = "kokoro voice heart at rate 1"
        route.fulfill(status=200, content_type="application/json", body=json.dumps(body))

    page.route("**/api/range?*", range_for)
    voices = "els => els.map(e => e.value)"
    page.goto(site.base + "/build?practice=self-compassion-break")
    page.wait_for_selector("form[data-range-ready]", timeout=RANGE_TIMEOUT_MS)
    assert page.locator("input[name=voice]:checked").get_attribute("value") == "en-us"

    page.get_by_label("Engine").select_option("kokoro")
    page.wait_for_selector("[data-voice-list-engine=kokoro]")
    names = page.locator("input[name=voice]").evaluate_all(voices)
    assert names[:6] == ["heart", "bella", "nicole", "michael", "emma", "george"]
    assert {"dora", "siwis", "sara", "dora-br"} <= set(names)
    assert page.locator("input[name=voice]:checked").get_attribute("value") == "heart"
    page.wait_for_function(
        "() => document.querySelector('[data-range-note]').textContent.includes('kokoro')"
    )
    assert any("engine=kokoro" in url and "voice=heart" in url for url in ranges)

    page.get_by_label("Engine").select_option("pyttsx3")
    page.wait_for_selector("[data-voice-list-engine=pyttsx3]")
    assert "es" in page.locator("input[name=voice]").evaluate_all(voices)
    play = page.get_by_role("button", name="Play a sample of en-gb-x-rp", exact=True)
    with page.expect_response("**/api/voices/sample") as first:
        play.click()
    assert "job" in first.value.json()  # rendered on the server on the first play
    page.wait_for_function(
        "() => { const a = document.querySelector('[data-voice-audio]');"
        " return a.readyState >= 1 && isFinite(a.duration) && !a.paused; }",
        timeout=120_000,
    )
    audio = page.locator("[data-voice-audio]")
    src = audio.get_attribute("src")
    assert re.fullmatch(r"/previews/voice_pyttsx3_en-gb-x-rp\.[0-9a-f]{12}\.mp3", src), src
    assert 10.0 < audio.evaluate("a => a.duration") < 40.0
    assert page.locator("[data-voice-status]").inner_text() == "Playing a sample of en-gb-x-rp."
    with page.expect_response("**/api/voices/sample") as second:
        play.click()
    assert second.value.json() == {"url": src}  # kept

    # a voice the server does not offer: the refusal in words, next to the field
    page.evaluate("document.querySelector('[data-sample=\"en-gb\"]').dataset.sample = 'nobody'")
    page.get_by_role("button", name="Play a sample of en-gb", exact=True).click()
    error = page.locator("[data-voice-error]")
    error.wait_for(state="visible")
    assert error.inner_text().startswith(
        "The sample of nobody could not be made: Unknown pyttsx3 voice 'nobody'. "
        "Choose one of: en-029, en-gb"
    )
    assert error.get_attribute("role") == "alert"
    page.close()


def test_language_field_reloads_the_translation_with_its_voice(browser, site) -> None:
    page = browser.new_page()
    asked: list[str] = []

    def range_for(route: Any) -> None:  # Kokoro is never measured here (minutes of CPU)
        asked.append(route.request.url)
        if "engine=kokoro" not in route.request.url:
            route.continue_()
            return
        body = {"low_s": 50.0, "high_s": 130.0, "min": 1.0, "max": 2.0, "step": 0.5}
        body["voice"] = "kokoro voice dora at rate 0.9"
        route.fulfill(status=200, content_type="application/json", body=json.dumps(body))

    page.route("**/api/range?*", range_for)
    page.goto(site.base + "/build?practice=one-minute-break")
    page.wait_for_selector("form[data-range-ready]", timeout=RANGE_TIMEOUT_MS)
    language = page.get_by_label("Language")
    options = language.locator("option").evaluate_all("els => els.map(e => e.value)")
    assert options == ["en", "es", "pt-BR", "fr", "it"]

    # the engine chosen survives the reload; the Spanish page preselects Kokoro's dora
    page.get_by_label("Engine").select_option("kokoro")
    page.wait_for_selector("[data-voice-list-engine=kokoro]")
    language.select_option("es")
    page.wait_for_url("**language=es**")
    page.wait_for_selector("form[data-range-ready]", timeout=RANGE_TIMEOUT_MS)
    chosen = page.locator("#practice-choice option:checked").inner_text()
    assert chosen.startswith("La pausa de autocompasión")  # the practice's Spanish title
    assert page.locator("input[name=voice]:checked").get_attribute("value") == "dora"
    assert any("language=es" in url and "voice=dora" in url for url in asked)

    # back to espeak: the list is fetched for the Spanish template, so its voice is "es"
    with page.expect_response("**/api/voices?*") as listed:
        page.get_by_label("Engine").select_option("pyttsx3")
    assert "language=es" in listed.value.url
    page.wait_for_selector("[data-voice-list-engine=pyttsx3]")
    assert page.locator("input[name=voice]:checked").get_attribute("value") == "es"
    page.wait_for_function(
        "() => document.querySelector('[data-range-note]').textContent.startsWith('With ')"
        " && !document.querySelector('[data-range-note]').textContent.includes('kokoro')",
        timeout=RANGE_TIMEOUT_MS,
    )
    assert page.locator("#language-error").is_hidden()
    assert _unlabelled(page) == []
    page.close()
