"""The page in the listener's language on a phone (issue 23 §6), in a real headless
Chromium at 390x844 with touch: a browser set to Spanish (es-ES) opens the listener's
link and reads the page in Spanish (the server's words and the scripts' words, and the
service worker's offline page), the English session's transcript marked English; it
switches to French with the page's switch, and filters the practice cards by language."""

from __future__ import annotations

import re
from typing import Any

import pytest

from conftest import OneSession
from kv_testing import BROWSER_TESTS, PHONE

pytestmark = BROWSER_TESTS


@pytest.fixture
def spanish_phone(browser: Any) -> Any:
    context = browser.new_context(**PHONE, locale="es-ES")
    yield context
    context.close()


def test_a_spanish_phone_reads_the_page_in_spanish_switches_and_filters(
    spanish_phone: Any, one_session: OneSession
) -> None:
    page = spanish_phone.new_page()
    page.goto(one_session.link("listener", "/sessions"))
    assert page.evaluate("document.documentElement.lang") == "es"
    assert page.locator("h1").inner_text() == "Tus sesiones"
    nav = page.get_by_role("navigation", name="Principal")
    assert nav.get_by_role("link", name="Prácticas").is_visible()

    # the player: the page's words in Spanish, the session's words marked as English
    page.locator(".cards .card h2 a").first.tap()
    page.wait_for_url(re.compile(r"/sessions/[^/]+$"))
    assert page.get_by_role("heading", name="Transcripción").is_visible()
    assert page.locator("ol.transcript").get_attribute("lang") == "en"
    assert "pyttsx3" not in page.locator("p.meta").inner_text()
    # a word the script writes: the Keep offline button (shown where caches work)
    keep = page.locator("[data-keep]")
    keep.wait_for(state="visible")
    assert keep.inner_text() == "Guardar sin conexión"

    # the history page is drawn by its script, in Spanish
    page.goto(f"{one_session.base}/history")
    assert page.locator("[data-history] p").first.inner_text().startswith("Aún no hay nada.")

    # offline, a page never kept: the service worker's own page, in the page's language
    page.wait_for_function(
        "() => caches.open('kindvoice-words-v1').then((c) => c.match('/offline-words.json'))"
        ".then((r) => r ? r.json() : {}).then((w) => w.lang === 'es')"
    )
    spanish_phone.set_offline(True)
    try:
        page.goto(f"{one_session.base}/timer")
        assert page.locator("h1").inner_text() == "Estás sin conexión"
        assert page.evaluate("document.documentElement.lang") == "es"
        assert page.get_by_role("link", name="Tu historial de práctica").is_visible()
    finally:
        spanish_phone.set_offline(False)
    page.goto(f"{one_session.base}/history")

    # the switch, at the foot of the page: French, remembered
    page.locator("#page-language").select_option("fr")
    page.wait_for_function("() => document.documentElement.lang === 'fr'")
    assert page.locator("h1").inner_text() == "Historique de pratique"
    page.goto(f"{one_session.base}/")
    assert page.locator("h1").inner_text() == "Pratiques"

    # the language filter on the practice cards
    every = page.locator(".cards > .card").count()
    page.get_by_label("Pratiques en").select_option("it")
    page.wait_for_url(re.compile(r"language=it"))
    italian = page.locator(".cards > .card")
    assert 0 < italian.count() < every
    titles = page.locator(".cards > .card h2")
    assert all(t == "it" for t in titles.evaluate_all("hs => hs.map(h => h.lang)"))
    assert page.locator("#practice-language option:checked").inner_text() == "italiano"
    assert page.evaluate("document.documentElement.lang") == "fr"  # the page stays French
    # nothing wider than the phone
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
