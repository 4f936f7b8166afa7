"""The web page's Language field: which translations a practice has, and the template
file for a practice id in the language asked for.

Translations live beside the English practices (``meditations/<language>/<id>.md``,
``template.library``). A request names a language by its code (``language=es``; empty or
``en``: English); ``practice_file`` turns an id into the file in that language, raising
``NotTranslatedError`` (a 400, with the languages the practice has) when it has none, or
``UnknownNameError`` for an id no language has. Only ids from the library are accepted,
never a path from the request.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from kindvoice.errors import UnknownNameError
from kindvoice.languages import LANGUAGES, find_language

log = logging.getLogger(__name__)


def language_code(value: str | None) -> str | None:
    """A request's ``language`` field -> its code, None for English (empty, ``en``, en-GB);
    an unknown code raises ``UnknownNameError`` listing the languages."""
    code = find_language((value or "").strip()[:20] or None).code
    return None if code == "en" else code


def practice_file(practice_id: str, language: str | None, templates_dir: Path | None) -> Path:
    """The template of ``practice_id`` in ``language`` (None: English), bundled or the
    user's. ``NotTranslatedError`` when the practice exists only in other languages."""
    from kindvoice.template.library import languages_of, list_practices, resolve_practice

    practices = list_practices(templates_dir, language)
    for ref in practices:
        if ref.id == practice_id:
            return ref.path
    if languages_of(practice_id, templates_dir) and not Path(practice_id).expanduser().exists():
        resolve_practice(practice_id, templates_dir, language)  # raises NotTranslatedError
    raise UnknownNameError("practice", practice_id, [ref.id for ref in practices])


def practice_languages(templates_dir: Path | None) -> dict[str, list[str]]:
    """Every practice id -> the language codes it exists in (the table's order, English
    first): one scan per language, for the practice cards."""
    from kindvoice.template.library import list_practices

    found: dict[str, list[str]] = {}
    for code in LANGUAGES:
        for ref in list_practices(templates_dir, code):
            found.setdefault(ref.id, []).append(code)
    return found


def describe(code: str) -> dict[str, str]:
    """One language as the page shows it: code, its own name and its English name."""
    lang = find_language(code)
    label = lang.native if lang.native == lang.name else f"{lang.native} ({lang.name})"
    return {"code": lang.code, "native": lang.native, "name": lang.name, "label": label}


def options(practice_id: str, templates_dir: Path | None) -> list[dict[str, str]]:
    """The Language field's choices for a practice: English, then each language it is
    translated into (an uploaded template has no translations: English only)."""
    from kindvoice.template.library import languages_of

    codes = ["en", *(c for c in languages_of(practice_id, templates_dir) if c != "en")]
    return [describe(code) for code in codes]


def all_options() -> list[dict[str, str]]:
    """Every language kindvoice has practices in (the Course page's choice)."""
    return [describe(code) for code in LANGUAGES]


def field(
    practice_id: str, language: str | None, templates_dir: Path | None, error: str | None = None
) -> dict[str, Any]:
    """What the Build page's Language field shows: the choices, the one selected (its
    code; "en" for English) and the message when the language asked for is missing."""
    return {
        "options": options(practice_id, templates_dir),
        "selected": language or "en",
        "error": error,
    }
