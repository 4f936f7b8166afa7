"""The page in the listener's language (issue 23 §6), through Flask's test client: the
language chosen from Accept-Language and from the switch's cookie, ``lang`` on the page
and on a session's transcript, the practice cards' language filter, voices and
backgrounds in plain words, and catalogues that are complete, consistent and compiled."""

from __future__ import annotations

import gettext
import io
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient

from kindvoice.web import create_app, i18n, plain, translations

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "src" / "kindvoice" / "web"
CATALOGUES = ["es", "pt_BR", "fr", "it"]


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    app = create_app(tmp_path / "library")
    yield app
    app.extensions["kindvoice"].jobs.shutdown()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def _lang(html: str) -> str:
    found = re.search(r'<html lang="([^"]+)"', html)
    assert found, html[:300]
    return found.group(1)


def _h1(html: str) -> str:
    found = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S)
    assert found
    return found.group(1).strip()


# --------------------------------------------------------------------------- choosing


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("es-ES,es;q=0.9,en;q=0.8", "es"),
        ("fr-CA,es;q=0.8", "fr"),  # a regional French beats a later exact Spanish
        ("pt-PT,pt;q=0.9", "pt-BR"),
        ("pt-br", "pt-BR"),
        ("de-DE,it;q=0.5", "it"),  # the first language the page speaks
        ("de-DE,ja;q=0.5", "en"),
        ("it;q=0,fr;q=0.2", "fr"),  # q=0 means "not this one"
        ("", "en"),
    ],
)
def test_the_browsers_languages_choose_the_page_language(
    client: FlaskClient, accept: str, expected: str
) -> None:
    html = client.get("/history", headers={"Accept-Language": accept}).text
    assert _lang(html) == expected


def test_the_page_speaks_the_browsers_language(client: FlaskClient) -> None:
    spanish = client.get("/sessions", headers={"Accept-Language": "es-MX,es;q=0.9"}).text
    assert _h1(spanish) == "Tus sesiones"
    assert ">Prácticas</a>" in spanish and ">Historial</a>" in spanish
    english = client.get("/sessions", headers={"Accept-Language": "de"}).text
    assert _h1(english) == "Your sessions"


def test_the_switch_remembers_the_language_and_returns_to_the_page(client: FlaskClient) -> None:
    reply = client.get("/language?to=fr&next=/history")
    assert reply.status_code == 303 and reply.headers["Location"] == "/history"
    assert "kindvoice_lang=fr" in reply.headers["Set-Cookie"]
    # the cookie wins over the browser's languages
    page = client.get("/history", headers={"Accept-Language": "es"}).text
    assert _lang(page) == "fr" and _h1(page) == "Historique de pratique"
    selected = re.search(r'<option value="([^"]+)"[^>]* selected>', page)
    assert selected and selected.group(1) == "fr"
    # empty: back to the browser's languages
    reply = client.get("/language?to=&next=/history")
    assert "kindvoice_lang=;" in reply.headers["Set-Cookie"]
    assert _lang(client.get("/history", headers={"Accept-Language": "it"}).text) == "it"


@pytest.mark.parametrize("target", ["https://example.com/", "//example.com/x", "x", "/\\evil"])
def test_the_switch_goes_back_only_to_this_site(client: FlaskClient, target: str) -> None:
    reply = client.get("/language", query_string={"to": "es", "next": target})
    assert reply.status_code == 303 and reply.headers["Location"] == "/"


def test_an_unknown_language_in_the_cookie_is_ignored(client: FlaskClient) -> None:
    client.set_cookie("kindvoice_lang", "klingon")
    assert _lang(client.get("/history", headers={"Accept-Language": "pt-BR"}).text) == "pt-BR"


def test_a_visitor_without_a_link_can_switch_and_reads_the_refusal_in_their_language(
    tmp_path: Path,
) -> None:
    app = create_app(tmp_path / "library", require_token=True)
    try:
        client = app.test_client()
        assert client.get("/language?to=it&next=/sessions").status_code == 303
        refused = client.get("/sessions")
        assert refused.status_code == 403 and _lang(refused.text) == "it"
        assert "Questo link non può aprire questa pagina" in refused.text
        assert "chiedi il link attuale a chi insegna" in refused.text
        listener = app.extensions["kindvoice"].listener_token
        client.get(f"/sessions?token={listener}")
        teacher_page = client.get("/build")
        assert teacher_page.status_code == 403 and "Per farlo, chiedi il suo link" in (
            teacher_page.text
        )
    finally:
        app.extensions["kindvoice"].jobs.shutdown()


def test_error_pages_in_the_page_language(client: FlaskClient) -> None:
    missing = client.get("/sessions/nothing-here", headers={"Accept-Language": "pt-BR"})
    assert missing.status_code == 404 and _lang(missing.text) == "pt-BR"
    assert "Voltar às práticas" in missing.text


# --------------------------------------------------------------------------- the cards


def test_the_practice_cards_filter_by_language_and_show_it(app: Flask) -> None:
    client = app.test_client()
    with app.app_context():
        translated = translations.practice_languages(None)
    every = client.get("/").text
    assert every.count('<li class="card"') == len(translated)
    for code in ("es", "fr", "it", "pt-BR"):
        page = client.get(f"/?language={code}").text
        wanted = [pid for pid, codes in translated.items() if code in codes]
        assert 0 < len(wanted) < len(translated)
        assert page.count('<li class="card"') == len(wanted), code
        # every card in that language, and marked so for screen readers
        assert page.count(f'<h2 lang="{code}">') == len(wanted)
        assert re.search(rf'<option value="{re.escape(code)}" lang="[^"]+" selected>', page)
    # the filter names each language in its own words
    assert '<option value="pt-BR" lang="pt-BR">português do Brasil</option>' in every
    # the tags in the page's words; the filter still keys on the tag
    spanish = client.get("/", headers={"Accept-Language": "es"}).text
    assert 'data-tag="inner-critic">crítica interna</button>' in spanish
    assert "atención plena" in spanish and "inner-critic" not in re.sub(r"<[^>]+>", "", spanish)
    # an unknown filter shows everything
    assert client.get("/?language=xx").text.count('<li class="card"') == len(translated)


# --------------------------------------------------------------------------- a session


def _render(client: FlaskClient, app: Flask, language: str) -> str:
    """A real render through the Build form (espeak), in ``language``: its stem."""
    state = app.extensions["kindvoice"]
    fields = {"token": state.token, "practice": "one-minute-break", "language": language}
    fields |= {"minutes": "1", "engine": "pyttsx3", "rate": "1", "format": "mp3"}
    fields |= {"bg_drone": "1", "bg_drone_db": "-6", "bg_ocean": "1", "bg_ocean_db": "0"}
    reply = client.post("/build", data=fields)
    assert reply.status_code == 303, reply.text[:500]
    job_id = reply.headers["Location"].rsplit("/", 1)[1]
    deadline = time.monotonic() + 240
    while (job := state.jobs.get(job_id)).status not in ("done", "failed"):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert job.status == "done", job.message
    return str(job.result)


def test_a_sessions_transcript_carries_its_language_and_plain_words(
    app: Flask, client: FlaskClient
) -> None:
    stem = _render(client, app, "es")
    meta: dict[str, Any] = app.extensions["kindvoice"].library.session(stem).meta
    assert "pyttsx3" in meta["voice"] and "drone@-6" in meta["background"]
    player = client.get(f"/sessions/{stem}", headers={"Accept-Language": "fr"}).text
    assert _lang(player) == "fr" and re.search(r'<h1 lang="es">', player)
    transcript = re.search(r'<ol class="transcript" lang="([^"]+)"[^>]*>(.*?)</ol>', player, re.S)
    assert transcript and transcript.group(1) == "es"
    assert "Transcription</h2>" in player
    # what a listener reads names no engine, rate, level or code
    listener = app.extensions["kindvoice"].listener_token
    client.get(f"/sessions?token={listener}")
    for page in (client.get("/sessions", headers={"Accept-Language": "fr"}).text, player):
        meta_line = re.sub(r"<[^>]+>", " ", page)
        for jargon in ("pyttsx3", "drone@", "@-6", "rate 1", " es-", "espeak"):
            assert jargon not in meta_line, (jargon, meta_line[:2000])
    assert "Voix d&#39;ordinateur, espagnol" in player or "Voix d'ordinateur, espagnol" in player
    assert "Bourdon chaleureux et vagues de l&#39;océan" in player


def test_voices_and_backgrounds_in_plain_words(app: Flask) -> None:
    with app.test_request_context(headers={"Accept-Language": "es"}):
        assert plain.voice_words("kokoro voice heart at rate 0.9") == (
            "Heart, inglés (Estados Unidos)"
        )
        assert plain.voice_words("kokoro voice dora-br at rate 1") == "Dora, portugués (Brasil)"
        assert plain.voice_words("pyttsx3 voice en-gb at rate 0.9") == (
            "Voz de ordenador, inglés (Reino Unido)"
        )
        assert plain.voice_words("recorded voice ana") == "Ana (voz grabada)"
        assert plain.voice_words("something else") == ""
        assert plain.background_words("drone@-6+ocean") == "Bordón cálido y olas del mar"
        assert plain.background_words("none") == plain.background_words(None) == "Silencio"
        assert plain.background_words("rain+music:/x/a+b.mp3@-3") == "Lluvia y tu propia música"
        assert plain.language_name("pt-BR") == "portugués (Brasil)"
        assert plain.language_label("es") == "español"
        assert plain.language_label("en") == "English (inglés)"
        assert plain.language_label("fr") == "français (francés)"


# --------------------------------------------------------------------------- catalogues


def _pot_ids() -> set[str]:
    with (WEB / "locales" / "messages.pot").open("rb") as pot:
        return {m.id for m in read_po(pot) if m.id}


def test_the_template_lists_every_word_the_page_shows() -> None:
    """Extracting again (as scripts/i18n.sh does) finds nothing the .pot lacks: a word
    wrapped in a template, the code or a script is in the catalogues."""
    method_map = [("**.py", "python"), ("templates/**.html", "jinja2")]
    method_map.append(("static/**.js", "javascript"))
    options = {"static/**.js": {"parse_template_string": "true"}}
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "tr": None}
    keywords["lazy_gettext"] = None
    found = {
        message[2]
        for message in extract_from_dir(
            str(WEB), method_map, options, keywords=keywords, comment_tags=()
        )
    }
    assert found == _pot_ids(), "run `bash scripts/i18n.sh` and translate the new words"


@pytest.mark.parametrize("lang", CATALOGUES)
def test_every_word_is_translated_in_every_catalogue(lang: str) -> None:
    with (WEB / "locales" / lang / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalogue = read_po(po)
    strings = {m.id: m for m in catalogue if m.id}
    missing = sorted(_pot_ids() - strings.keys())
    assert not missing, f"{lang}: not in the catalogue: {missing}"
    untranslated = sorted(m.id for m in strings.values() if not m.string or m.fuzzy)
    assert not untranslated, f"{lang}: no translation: {untranslated}"
    # the placeholders (%(name)s for the page, {name} for the scripts) survive
    for message in strings.values():
        pattern = r"%\(\w+\)[sd]|\{\w+\}"
        assert sorted(re.findall(pattern, str(message.id))) == sorted(
            re.findall(pattern, str(message.string))
        ), (lang, message.id, message.string)
    # what the package loads (.mo) is this catalogue, compiled
    compiled = io.BytesIO()
    write_mo(compiled, catalogue)
    compiled.seek(0)
    with (WEB / "locales" / lang / "LC_MESSAGES" / "messages.mo").open("rb") as shipped:
        assert gettext.GNUTranslations(shipped)._catalog == (  # type: ignore[attr-defined]
            gettext.GNUTranslations(compiled)._catalog  # type: ignore[attr-defined]
        ), f"{lang}: the .mo is stale: run `bash scripts/i18n.sh compile`"


def test_the_scripts_words_reach_the_page_translated(client: FlaskClient) -> None:
    with (WEB / "locales" / "messages.pot").open("rb") as pot:
        in_scripts = {m.id for m in read_po(pot) if any(f.endswith(".js") for f, _ in m.locations)}
    assert in_scripts == set(i18n.JS_WORDS)
    page = client.get("/history", headers={"Accept-Language": "it"}).text
    block = re.search(r'<script type="application/json" id="kindvoice-words">(.*?)</script>', page)
    assert block
    words = json.loads(block.group(1))
    assert set(words) == set(i18n.JS_WORDS)
    assert words["Remove the offline copy"] == "Rimuovi la copia offline"
    assert words["Now: {chapter}"] == "Ora: {chapter}"
    # English pages send no block: the scripts' own words are English
    assert 'id="kindvoice-words"' not in client.get("/history").text
