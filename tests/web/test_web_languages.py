"""The Language field over real HTTP: the choices a practice offers, a build rendered in
its Spanish translation (ID3 language and title from the Spanish file), and a clear 400
for a language the practice lacks, on the page, the API, the render and the course."""

from __future__ import annotations

import html
import re

import mutagen.id3

from kindvoice.template.library import resolve_practice
from kindvoice.template.parse import load_template


def _options(page: str) -> list[str]:
    select = re.search(r'<select id="language-choice".*?</select>', page, re.S)
    assert select is not None, "no Language field on the page"
    return re.findall(r'<option value="([^"]+)"', select.group(0))


def test_language_choices_follow_the_translations(site) -> None:
    page = site.request("/build?practice=self-compassion-break")
    assert page.status == 200
    assert _options(page.text) == ["en", "es", "pt-BR", "fr", "it"]
    assert 'name="language" value="en"' in page.text  # the render form: English by default

    spanish = site.request("/build?practice=self-compassion-break&language=es")
    assert spanish.status == 200
    title = load_template(resolve_practice("self-compassion-break", None, "es"))
    assert title.meta.language == "es"
    assert html.escape(title.meta.title) in spanish.text
    assert 'name="language" value="es"' in spanish.text
    # the voice list for Spanish preselects the Spanish espeak voice
    checked = re.search(r'name="voice"[^>]*value="([^"]+)" checked', spanish.text)
    assert checked is not None and checked.group(1) == "es"
    query = "practice=self-compassion-break&language=es"
    assert site.request(f"/api/voices?engine=kokoro&{query}").json()["selected"] == "dora"
    assert site.request(f"/api/voices?engine=kokoro&{query[:-12]}").json()["selected"] == "heart"
    # the index shows the languages of each practice, linking to the build page
    index = site.request("/").text
    assert "/build?practice=self-compassion-break&amp;language=pt-BR" in index


def test_missing_translation_is_a_clear_400(site) -> None:
    needle = "'boundaries' has no Spanish (es) version; it exists in: en"
    page = site.request("/build?practice=boundaries&language=es")
    assert page.status == 400
    error = re.search(r'<p class="field-error" id="language-error"[^>]*>(.*?)</p>', page.text)
    assert error is not None and needle in html.unescape(error.group(1))
    assert _options(page.text) == ["en"]  # the English page, usable as it is

    api = site.request("/api/range?practice=boundaries&language=es&engine=pyttsx3")
    assert api.status == 400 and needle in api.json()["error"]
    voices = site.request("/api/voices?engine=pyttsx3&practice=boundaries&language=es")
    assert voices.status == 400 and needle in voices.json()["error"]
    fields = {"practice": "boundaries", "language": "es", "minutes": "5"}
    render = site.post("/build", {**fields, "engine": "pyttsx3", "format": "mp3", "rate": "1"})
    assert render.status == 400 and needle in html.unescape(render.text)
    unknown = site.request("/api/range?practice=self-compassion-break&language=xx&engine=pyttsx3")
    assert unknown.status == 400 and "language" in unknown.json()["error"]
    course = site.post(
        "/course",
        {
            "title": "Cartas",
            "days": "1",
            "start_minutes": "3",
            "end_minutes": "3",
            "practices": "boundaries",
            "language": "es",
            "background": "none",
            "engine": "pyttsx3",
        },
    )
    assert course.status == 400 and needle in html.unescape(course.text)
    assert not site.state.jobs._jobs  # nothing was queued


def test_build_in_spanish_renders_the_translation(site) -> None:
    answer = site.request(
        "/api/range?practice=one-minute-break&language=es&engine=pyttsx3&voice=es&rate=0.9"
    ).json()
    assert answer["min"] <= 1.25 <= answer["max"] and "es" in answer["voice"]
    queued = site.post(
        "/build",
        {
            "practice": "one-minute-break",
            "language": "es",
            "minutes": "1.25",  # its shortest
            "engine": "pyttsx3",
            "voice": "es",
            "rate": "0.9",
            "format": "mp3",
        },
    )
    assert queued.status == 303, queued.text
    state = site.wait_job(f"/api/jobs/{queued.headers['Location'].rsplit('/', 1)[1]}")
    assert state["status"] == "done", state["message"]
    audio = next(site.library.glob(f"{state['result']}.mp3"))
    tags = mutagen.id3.ID3(audio)
    assert str(tags["TLAN"]) == "spa"
    assert str(tags["TIT2"]).startswith("La pausa de autocompasión")
    sessions = site.request("/sessions").text
    assert "La pausa de autocompasión" in html.unescape(sessions)
    # the session's title marked as Spanish for readers; its language named in the page's
    assert re.search(r'<h2 lang="es"><a [^>]*>La pausa de autocompasi', sessions)
    assert "<dt>Language</dt><dd>Spanish</dd>" in sessions


def test_course_in_spanish_uses_the_translations(site) -> None:
    page = site.request("/course").text
    assert '<option value="es" lang="es">español (Spanish)</option>' in page
    fields = {
        "title": "Un minuto",
        "days": "1",
        "start_minutes": "1",
        "end_minutes": "1",
        "practices": "one-minute-break",
        "language": "es",
        "background": "none",
        "engine": "pyttsx3",
    }
    state = site.render("/course", fields)
    (audio,) = (site.library / "courses" / state["result"]).glob("*.mp3")
    tags = mutagen.id3.ID3(audio)
    assert str(tags["TLAN"]) == "spa" and "La pausa de autocompasión" in str(tags["TIT2"])
