"""``pronounce:`` respellings: which written words they match and the text the engine is
given. A word is a whole run of letters and digits joined by ' or - (``WORD_RE``); it
matches a key when both fold alike (``fold``: Unicode case folding, one apostrophe).
"""

from __future__ import annotations

import re
import unicodedata

WORD_RE = re.compile(r"\w+(?:['’-]\w+)*")


class RespellingTooLong(Exception):
    """``respell``'s result would be over its ``limit``: ``args[0]`` characters."""


def fold(word: str) -> str:
    """The form two spellings of one word share: composed (NFC: "café" typed on macOS is
    "cafe" and a combining accent), Unicode case folding (so ſ, ı, µ, ß and capitals meet
    their plain lower-case letters) and one apostrophe."""
    return unicodedata.normalize("NFC", word).casefold().replace("’", "'")


def respell(text: str, pronounce: tuple[tuple[str, str], ...], limit: int | None = None) -> str:
    """``text`` with every ``pronounce`` word replaced by its respelling: the text the
    engine is given. A word is a whole run of letters and digits joined by ' or -
    (``WORD_RE``); it matches a key when both fold alike (``fold``: any case, ſ for s,
    ß for ss ...). Without respellings, ``text`` itself. Over ``limit`` characters
    (counted before building): ``RespellingTooLong``."""
    if not pronounce:
        return text
    text = unicodedata.normalize("NFC", text)  # a combining accent is no word boundary
    table = {fold(word): said for word, said in pronounce}
    if limit is not None:
        chars = len(text)
        for match in WORD_RE.finditer(text):
            said = table.get(fold(match.group(0)))
            if said is not None:
                chars += len(said) - len(match.group(0))
                if chars > limit + len(text):  # the rest can take back at most len(text)
                    break
        if chars > limit:
            raise RespellingTooLong(chars)
    return WORD_RE.sub(lambda match: table.get(fold(match.group(0)), match.group(0)), text)
