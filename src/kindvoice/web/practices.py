"""The practices the web page offers: a practice field's value -> its template file
(bundled or user practices by id, or templates uploaded on the Write page; never a path
from the request), and the card each practice shows (title, minutes, variables...),
parsed once per file version.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from kindvoice.errors import KindvoiceError, NotFound, UsageError, internal_error
from kindvoice.web import translations
from kindvoice.web.sessions import NotInLibrary
from kindvoice.web.state import UPLOAD_PREFIX, current

log = logging.getLogger(__name__)


def practice(value: str, language: str | None = None) -> tuple[str, Path]:
    """A practice field -> (its value, its template file in ``language``, None: English).
    Only bundled or user practices by id, or templates uploaded to the library: never a
    path from the request."""
    state = current()
    if value.startswith(UPLOAD_PREFIX):
        if language:
            raise UsageError("Your own template has no translations: choose English.")
        try:
            path = state.library.upload_path(value[len(UPLOAD_PREFIX) :])
        except NotInLibrary:
            raise NotFound(f"No uploaded template '{value}'.") from None
        if not path.is_file():
            raise NotFound(f"No uploaded template '{value}': paste it again on the Write page.")
        return value, path
    return value, translations.practice_file(value, language, state.templates_dir)


def card(practice_id: str, path: Path) -> dict[str, Any]:
    """What a practice card and the build form show, cached per file version."""
    from kindvoice.template.parse import load_template

    state = current()
    key = (str(path), path.stat().st_mtime_ns)
    if key not in state.cards:
        try:
            script = load_template(path)
        except KindvoiceError as exc:
            return {"id": practice_id, "title": practice_id, "broken": exc.format_message()}
        except Exception as exc:  # a bug on one file must not take every page down
            log.warning("reading %s", path, exc_info=True)
            reason = internal_error(exc, " (please report it)")
            return {"id": practice_id, "title": practice_id, "broken": reason}
        meta = script.meta
        state.cards[key] = {
            "id": practice_id,
            "meta_id": meta.id,
            "title": meta.title,
            "summary": meta.summary,
            "minutes": meta.minutes,
            "rate": meta.voice_rate or _default_rate(meta.kind),
            "background": meta.background or "drone",
            "variables": meta.variables,
            "sections": [s.title for s in script.sections],
            "tags": meta.tags,
            "kind": meta.kind,
            "voice_engine": meta.voice_engine,
            "voice_name": meta.voice_name,
            "language": meta.language,
            "broken": None,
        }
    return state.cards[key]


def _default_rate(kind: str) -> float:
    """The pace the default engine speaks a ``kind`` of template at, for the form's slider."""
    from kindvoice.settings import default_engine
    from kindvoice.speech.base import engine_class

    return engine_class(default_engine()).default_rate(kind)


def cards() -> list[dict[str, Any]]:
    """Every installed practice's card (bundled and the user's), sorted by title."""
    from kindvoice.template.library import list_practices

    found = [card(ref.id, ref.path) for ref in list_practices(current().templates_dir)]
    return sorted(found, key=lambda c: (str(c["title"]).casefold(), c["id"]))


def card_for(value: str, language: str = "") -> dict[str, Any] | None:
    """The card of practice field ``value`` in ``language`` (a request's code), or None
    without a practice."""
    if not value:
        return None
    found, path = practice(value, translations.language_code(language))
    return card(found, path)
