"""The page in the listener's language: which languages the page speaks, which one a
request gets, the switch that changes it, and the words the page's scripts show.

The page's own words (navigation, buttons, player, history, errors) are in the gettext
catalogues under ``locales/`` (Flask-Babel): ``messages.pot`` lists them, one
``<lang>/LC_MESSAGES/messages.po`` per language with its compiled ``.mo`` beside it
(committed, so a clean clone and the wheel need no build step; ``scripts/i18n.sh``
extracts, updates and compiles, and a test checks every catalogue is complete and
compiled). A request's language is, in order: the switch's cookie (``COOKIE``), then the
browser's Accept-Language (the first language the page speaks, a regional variant
matching its language: ``es-MX`` gets ``es``, ``pt-PT`` gets ``pt-BR``), then English.

The scripts' words (``JS_WORDS``, written ``tr("...")`` in ``static/*.js`` with ``{name}``
placeholders) reach the page translated in a JSON block (``script_words``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import urlsplit

from flask import Blueprint, Flask, Response, has_request_context, redirect, request
from flask_babel import Babel, get_locale, gettext
from werkzeug.wrappers import Response as BaseResponse

log = logging.getLogger(__name__)

#: the languages the page speaks (BCP 47), English first: the practices' languages
PAGE_LANGUAGES = ("en", "es", "pt-BR", "fr", "it")
DEFAULT = "en"
#: the switch's cookie: the language a visitor chose on the page
COOKIE = "kindvoice_lang"
LOCALES = Path(__file__).parent / "locales"

bp = Blueprint("i18n", __name__)


def N_(text: str) -> str:  # gettext's name for "translate later"
    """Mark ``text`` for the catalogues; it is translated where it is shown."""
    return text


def match(tag: str | None) -> str | None:
    """The page language a language tag asks for (``es-MX`` -> ``es``, ``pt`` ->
    ``pt-BR``), or None when the page does not speak it."""
    wanted = (tag or "").strip().replace("_", "-").casefold()
    if not wanted or wanted == "*":
        return None
    for code in PAGE_LANGUAGES:
        if code.casefold() == wanted:
            return code
    primary = wanted.split("-")[0]
    return next((c for c in PAGE_LANGUAGES if c.split("-")[0].casefold() == primary), None)


def negotiate(cookie: str | None, accept: list[tuple[str, float]]) -> str:
    """The page language for a switch's cookie and the browser's languages (best first)."""
    chosen = match(cookie)
    if chosen:
        return chosen
    for tag, quality in accept:
        found = match(tag) if quality > 0 else None
        if found:
            return found
    return DEFAULT


def page_language() -> str:
    """The current request's page language (BCP 47); English outside a request."""
    if not has_request_context():
        return DEFAULT
    return negotiate(request.cookies.get(COOKIE), list(request.accept_languages))


def _babel_locale() -> str:
    return page_language().replace("-", "_")


def current() -> str:
    """The language the words of this request are in (BCP 47), as Babel resolved it."""
    return str(get_locale() or DEFAULT).replace("_", "-")


def init_app(app: Flask) -> None:
    """Flask-Babel on ``app``: the catalogues, the choice of language, and the page's
    language, the switch's choices and the scripts' words in every template."""
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(LOCALES)
    app.config["BABEL_DEFAULT_LOCALE"] = DEFAULT
    Babel(app, locale_selector=_babel_locale)

    @app.context_processor
    def words() -> dict[str, object]:
        from kindvoice.languages import find_language

        return {
            "page_lang": current(),
            "page_languages": [(code, find_language(code).native) for code in PAGE_LANGUAGES],
            "script_words": script_words,
        }

    app.register_blueprint(bp)


def _local_path(target: str) -> str:
    """``target`` if it is a path on this site (never another site's address), else "/"."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or "\\" in target:
        return "/"
    return target


@bp.get("/language")
def switch() -> BaseResponse:
    """The switch: remember the language chosen (``to``; empty: the browser's) and go back
    to the page (``next``, a path on this site)."""
    chosen = match(request.args.get("to"))
    response: Response | BaseResponse = redirect(
        _local_path(request.args.get("next", "/")), code=303
    )
    if chosen:
        response.set_cookie(COOKIE, chosen, max_age=365 * 24 * 3600, samesite="Lax")
    else:
        response.delete_cookie(COOKIE)
    return response


#: the words the page's scripts show (``tr("...")`` in static/*.js); a test checks that
#: this list and the scripts agree
JS_WORDS = (
    # wait.js
    "The server cannot be reached.",
    "{time} so far",
    "{doing}… {percent}% ({left})",
    # app.js
    "Measuring what this voice can fill",
    "no upper limit",
    "With {voice}: {low} to {high} on the slider (the script can run {from} to {to}).",
    "Loading the voices…",
    "Preparing a sample of {voice}…",
    "Waiting for a free worker to speak a sample of {voice}…",
    "Preparing a sample of {voice}",
    "Playing a sample of {voice}.",
    "The sample of {voice} could not be made: {reason}",
    "Replace your text with the starter template?",
    "{n} practices tagged {tag}.",
    "Starting…",
    "Waiting: {ahead} ahead ({running} rendering, {waiting} waiting).",
    "Speaking",
    "Rendering the sessions",
    "Mixing",
    "Done in {seconds} s.",
    "Listen",
    "Reconnecting…",
    "Waiting for a free worker…",
    "Preparing a preview",
    "Your text in the editor is kept.",
    "“{name}” is {size}: a template can be at most {limit}.",
    "“{name}” is not UTF-8 text: save it as UTF-8 in your editor, then choose it again.",
    "Replace the text in the editor with “{name}”?",
    "The template is {size}: it can be at most {limit}.",
    "Checking every length of its range… ({time} so far)",
    "Copied: paste it into your podcast app.",
    "Copy the selected address.",
    # pwa.js
    "This session is no longer on the server: the teacher may have deleted it.",
    "The audio stopped loading. Check the connection, then try again.",
    "Now: {chapter}",
    "Picking up where you left off, at {time}.",
    "Kept, on this phone only.",
    "No note: that is fine too.",
    "Remove the offline copy",
    "Kept on this phone: it plays without a connection.",
    "Kept on this phone: every day plays without a connection.",
    "Kept on this phone: every session plays without a connection.",
    "The offline copy is removed.",
    "Saving on this phone…",
    "Saving on this phone",
    "about {time} left",
    "Could not keep it offline ({reason}). There may be too little room on this phone.",
    "Kept offline",
    "You are offline",
    "This page needs a connection to the computer that renders your sessions.",
    "These sessions are kept on this phone and play without a connection:",
    "No session is kept on this phone yet. Next time you are online, open a session and "
    "choose “Keep offline”.",
    "Your practice history",
    # history.js
    "Days you practised in {month}",
    "one session",
    "{n} sessions",
    "Earlier month",
    "Later month",
    "Sessions and notes",
    "My practice history",
    "Kept on my phone with kindvoice; written out on {day}.",
    "Nothing here yet. When you listen to a session to the end, it is noted here, with "
    "room for a line about what helped. There is nothing to keep up with: each time you "
    "come back is enough.",
    "One session noted since {day}.",
    "{n} sessions noted since {day}.",
    "However often you come, you are welcome.",
    "Download as Markdown",
    "Clear the whole practice history on this phone? This cannot be undone.",
    "Clear the history",
    # record.js
    "Phrase {number} of {count}",
    "recorded",
    "not recorded yet",
    "changed since recorded (the take said “{text}”)",
    "The microphone cannot be opened ({reason}): allow it for this page, then try again.",
    "Stop",
    "Recording… read the phrase, then stop.",
    "Record again",
    "Record",
    "Cleaning the take…",
    "Cleaning the take… ({time} so far)",
    "Cleaning the take… ({time} so far, about {left} left)",
    "Listen back ({seconds} s, cleaned): keep it, or record again.",
    "Kept.",
    "Every phrase is recorded.",
)


def script_words() -> dict[str, str]:
    """The scripts' words in the page's language (English: none; the scripts show their
    own)."""
    if current() == DEFAULT:
        return {}
    return {text: gettext(text) for text in JS_WORDS}
