"""The languages kindvoice speaks, and the few words it shows a listener in each.

One owner for these facts: the BCP 47 code (also the translations' folder name under
``meditations/``), the ISO 639-2 code tags carry (ID3 TLAN), the language's own name, and
the words kindvoice itself writes into a file: the "preview" suffix, the length on the
generated cover and a course's "Day 3" or "Session 3". A code is matched whatever its
case or separator (``pt_br`` is ``pt-BR``).
"""

from __future__ import annotations

from dataclasses import dataclass

from kindvoice.errors import UnknownNameError

DEFAULT_LANGUAGE = "en"


@dataclass(frozen=True)
class Language:
    code: str  # BCP 47, as written in front matter and folder names
    iso639_2: str  # ID3 TLAN, COMM and USLT
    name: str  # in English, for messages
    native: str  # in the language itself, for listings
    preview: str  # the title suffix of a preview render
    second: str  # "{n} seconds" for the cover
    minute: str
    minutes: str
    day: str  # "Day {n}": a course's day, in its track titles
    session: str  # "Session {n}": a course planned as sessions

    def unit_words(self, unit: str, number: int) -> str:
        """ "Day 3" (``unit`` "Day") or "Session 3" (``unit`` "Session") in this language."""
        return (self.session if unit == "Session" else self.day).format(n=number)

    def length_words(self, seconds: float) -> str:
        """ "12 minutes" (or "45 seconds" under a minute) in this language."""
        if seconds < 60:
            return self.second.format(n=round(seconds))
        n = round(seconds / 60)
        return (self.minute if n == 1 else self.minutes).format(n=n)


LANGUAGES: dict[str, Language] = {
    lang.code: lang
    for lang in (
        Language("en", "eng", "English", "English", "preview", "{n} seconds", "{n} minute",
                 "{n} minutes", "Day {n}", "Session {n}"),
        Language("es", "spa", "Spanish", "español", "avance", "{n} segundos", "{n} minuto",
                 "{n} minutos", "Día {n}", "Sesión {n}"),
        Language("pt-BR", "por", "Brazilian Portuguese", "português do Brasil", "prévia",
                 "{n} segundos", "{n} minuto", "{n} minutos", "Dia {n}", "Sessão {n}"),
        Language("fr", "fra", "French", "français", "aperçu", "{n} secondes", "{n} minute",
                 "{n} minutes", "Jour {n}", "Séance {n}"),
        Language("it", "ita", "Italian", "italiano", "anteprima", "{n} secondi", "{n} minuto",
                 "{n} minuti", "Giorno {n}", "Sessione {n}"),
    )
}  # fmt: skip


def _key(code: str) -> str:
    return code.strip().replace("_", "-").casefold()


def find_language(code: str | None) -> Language:
    """The language a code names (None: English); ``UnknownNameError`` lists the choices.
    A regional English (en-US, en-GB) is English."""
    if code is None or not code.strip():
        return LANGUAGES[DEFAULT_LANGUAGE]
    wanted = _key(code)
    for lang in LANGUAGES.values():
        if _key(lang.code) == wanted:
            return lang
    if wanted.split("-")[0] == "en":
        return LANGUAGES["en"]
    raise UnknownNameError("language", code, LANGUAGES)


def is_english(code: str | None) -> bool:
    return find_language(code).code == DEFAULT_LANGUAGE
