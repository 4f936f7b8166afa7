"""Plain words for what a session is made of, in the page's language: the voice ("Heart,
English (United States)", not "kokoro voice heart at rate 0.9"), the background ("Warm
drone and ocean waves", not "drone@-6+ocean") and a language's name. What listeners
read on the session list and the player; the technical spelling stays in the files' tags.
"""

from __future__ import annotations

import re

from babel import Locale, UnknownLocaleError
from babel.lists import format_list
from flask_babel import lazy_gettext

from kindvoice.web import i18n

#: each background's name in plain words (the sound registry's names)
BACKGROUNDS = {
    "none": lazy_gettext("Silence"),
    "brown": lazy_gettext("Soft low noise"),
    "pink": lazy_gettext("Gentle hush"),
    "drone": lazy_gettext("Warm drone"),
    "rain": lazy_gettext("Rain"),
    "ocean": lazy_gettext("Ocean waves"),
    "binaural-delta": lazy_gettext("Binaural beat, very slow (headphones)"),
    "binaural-theta": lazy_gettext("Binaural beat, slow (headphones)"),
    "binaural-alpha": lazy_gettext("Binaural beat, calm (headphones)"),
    "isochronic": lazy_gettext("Soft pulsing tone"),
}
#: the bundled practices' tags in plain words (a tag not here is shown as it is written)
TAGS = {
    "self-compassion": lazy_gettext("self-compassion"),
    "short": lazy_gettext("short"),
    "talk": lazy_gettext("talk"),
    "journaling": lazy_gettext("journaling"),
    "breath": lazy_gettext("breath"),
    "work": lazy_gettext("work"),
    "unguided": lazy_gettext("unguided"),
    "timer": lazy_gettext("timer"),
    "silence": lazy_gettext("silence"),
    "self-talk": lazy_gettext("self-talk"),
    "relationships": lazy_gettext("relationships"),
    "motivation": lazy_gettext("motivation"),
    "inner-critic": lazy_gettext("inner critic"),
    "everyday": lazy_gettext("everyday"),
    "writing": lazy_gettext("writing"),
    "touch": lazy_gettext("touch"),
    "three-components": lazy_gettext("three components"),
    "sleep": lazy_gettext("sleep"),
    "safety": lazy_gettext("safety"),
    "rest": lazy_gettext("rest"),
    "repair": lazy_gettext("repair"),
    "relaxation": lazy_gettext("relaxation"),
    "reflection": lazy_gettext("reflection"),
    "myths": lazy_gettext("myths"),
    "morning": lazy_gettext("morning"),
    "mistakes": lazy_gettext("mistakes"),
    "mindfulness": lazy_gettext("mindfulness"),
    "metta": lazy_gettext("metta"),
    "loving-kindness": lazy_gettext("loving-kindness"),
    "loss": lazy_gettext("loss"),
    "intervals": lazy_gettext("intervals"),
    "intention": lazy_gettext("intention"),
    "informal": lazy_gettext("informal"),
    "heartbreak": lazy_gettext("heartbreak"),
    "grief": lazy_gettext("grief"),
    "fierce-compassion": lazy_gettext("fierce compassion"),
    "feedback": lazy_gettext("feedback"),
    "evening": lazy_gettext("evening"),
    "emotions": lazy_gettext("emotions"),
    "difficult-emotions": lazy_gettext("difficult emotions"),
    "conflict": lazy_gettext("conflict"),
    "caregivers": lazy_gettext("caregivers"),
    "burnout": lazy_gettext("burnout"),
    "boundaries": lazy_gettext("boundaries"),
    "body-scan": lazy_gettext("body scan"),
    "body": lazy_gettext("body"),
    "beginner": lazy_gettext("beginner"),
    "backdraft": lazy_gettext("backdraft"),
}
#: the kind of voice each engine speaks with
ENGINES = {
    "kokoro": lazy_gettext("natural voice"),
    "piper": lazy_gettext("natural voice"),
    "pyttsx3": lazy_gettext("computer voice"),
    "recorded": lazy_gettext("recorded voice"),
}
# "kokoro voice heart at rate 0.9" (speech.base.voice_description), one per voice used
_VOICE = re.compile(r"\b(?P<engine>[a-z0-9]+) voice (?P<name>[^\s,()]+)")
_LAYER = re.compile(r"^\s*(?P<name>[A-Za-z0-9_-]+)")


def _babel(code: str) -> Locale | None:
    try:
        return Locale.parse(code.replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        return None


def language_name(code: str | None) -> str:
    """A language code in the page's language ("es" -> "espagnol" on a French page); the
    code itself when it names no language."""
    found, page = _babel(code or ""), _babel(i18n.current())
    if found is None or page is None:
        return code or ""
    return found.get_display_name(page) or code or ""


def language_label(code: str) -> str:
    """A language as a choice shows it: its own name, then the page's name for it when
    they differ ("español (Spanish)" on an English page, "español" on a Spanish one)."""
    from kindvoice.languages import find_language

    native, here = find_language(code).native, language_name(code)
    return native if native.casefold() == here.casefold() else f"{native} ({here})"


def _voice_language(engine: str, name: str) -> str | None:
    """The language (BCP 47) of one of the page's voices, None for one it does not list."""
    from kindvoice.web.voices import choices

    try:
        return next((v.language for v in choices(engine) if v.name == name), None)
    except Exception:  # an engine the page does not offer (recorded voices)
        return None


def voice_words(label: str | None) -> str:
    """A session's voice (its ``voice`` meta, as ``voice_description`` wrote it) in plain
    words: "Heart, English (United States)"; "" when it says nothing a listener can use."""
    from kindvoice.speech.base import engine_class

    said = []
    for found in _VOICE.finditer(label or ""):
        engine, name = found["engine"], found["name"]
        kind = ENGINES.get(engine)
        if kind is None:
            continue
        language = _voice_language(engine, name)
        if engine_class(engine).voices_named_by_language:  # say the language
            words = f"{str(kind).capitalize()}, {language_name(language or name)}"
        else:
            words = name.split("-")[0].title()  # "dora-br": the language says the rest
            words += f", {language_name(language)}" if language else f" ({kind})"
        if words not in said:
            said.append(words)
    return "; ".join(said)


def background_words(spec: str | None) -> str:
    """A session's background (``drone@-6+ocean``) in plain words ("Warm drone and ocean
    waves"); "Silence" for none."""
    names: list[str] = []
    for part in (spec or "none").split("+"):
        if part.strip().lower().startswith("music:"):
            names.append(str(lazy_gettext("Your own music")))
            break  # a music path may hold "+": nothing after it is another layer
        found = _LAYER.match(part)
        if found and found["name"].lower() in BACKGROUNDS:
            words = str(BACKGROUNDS[found["name"].lower()])
            if words not in names:
                names.append(words)
    if not names:
        return str(BACKGROUNDS["none"])
    if len(names) > 1:
        names = [names[0], *(n[:1].lower() + n[1:] for n in names[1:])]
    page = _babel(i18n.current())
    return format_list(names, locale=page) if page else ", ".join(names)


def tag_words(tag: str) -> str:
    """A practice's tag as the page shows it ("inner-critic" -> "inner critic", or its
    translation)."""
    found = TAGS.get(tag)
    return str(found) if found is not None else tag.replace("-", " ")
