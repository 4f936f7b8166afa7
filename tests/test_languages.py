"""Meditations in Spanish, Brazilian Portuguese, French and Italian.

Every translation is parsed and rendered exactly at its minimum and default with espeak-ng
speaking its language (fast); the one-minute break is rendered with each language's
Kokoro voice through the real CLI, the way a listener gets it. The tags, subtitles and
chapters are read back with mutagen and the files decoded with ffmpeg.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import soundfile
from mutagen.id3 import ID3
from mutagen.wave import WAVE

from kindvoice.errors import UnknownNameError
from kindvoice.languages import find_language
from kindvoice.pipeline import prepare, render
from kindvoice.settings import MixSettings, RenderRequest, VoiceSettings
from kindvoice.template.library import bundled_dir, languages_of, list_practices
from kindvoice.template.parse import load_template

from kv_testing import decode, kindvoice

TRANSLATIONS = sorted(
    (folder.name, path.stem)
    for folder in bundled_dir().iterdir()
    if folder.is_dir() and folder.name in ("es", "pt-BR", "fr", "it")
    for path in folder.glob("*.md")
)
KOKORO_VOICES = {"es": "dora", "pt-BR": "dora-br", "fr": "siwis", "it": "sara"}
REQUIRED = {
    "es": {
        "self-compassion-break",
        "soothing-touch",
        "affectionate-breathing",
        "loving-kindness",
        "morning-intention",
        "one-minute-break",
        "talk-what-is-self-compassion",
    },
    "pt-BR": {"self-compassion-break", "one-minute-break"},
    "fr": {"self-compassion-break", "one-minute-break"},
    "it": {"self-compassion-break", "one-minute-break"},
}


def test_language_codes_are_matched_whatever_their_spelling() -> None:
    assert find_language("pt_br").code == "pt-BR"
    assert find_language("ES").iso639_2 == "spa"
    assert find_language("en-GB").code == "en"
    assert find_language(None).code == "en"
    assert find_language("it").length_words(600) == "10 minuti"
    assert find_language("fr").length_words(60) == "1 minute"
    with pytest.raises(UnknownNameError, match="Choose one of: en, es, fr, it, pt-BR"):
        find_language("de")


@pytest.mark.parametrize("language", sorted(REQUIRED))
def test_each_language_has_its_practices_under_the_english_ids(language: str) -> None:
    ids = {ref.id for ref in list_practices(language=language)}
    assert REQUIRED[language] <= ids
    english = {ref.id for ref in list_practices()}
    assert ids <= english  # the same ids as the English files


def test_list_shows_the_spanish_tracks_and_refuses_an_unknown_language() -> None:
    run = kindvoice("list", "--language", "es")
    assert run.code == 0, run.stderr
    for practice in REQUIRED["es"]:
        assert practice in run.stdout
    assert "La pausa" in run.stdout or "pausa" in run.stdout.lower()
    bad = kindvoice("list", "--language", "klingon")
    assert bad.code == 4
    assert bad.stderr.strip().splitlines() == [
        "Error: Unknown language 'klingon'. Choose one of: en, es, fr, it, pt-BR"
    ]


def test_a_missing_translation_fails_cleanly_naming_the_languages_it_has(
    tmp_path: Path,
) -> None:
    out = tmp_path / "boundaries.mp3"  # a practice the starter course does not use
    run = kindvoice("build", "boundaries", "--language", "fr", "-o", str(out))
    assert run.code == 4
    assert run.stderr.strip().count("\n") == 0
    assert "'boundaries' has no French (fr) version; it exists in: en" in run.stderr
    assert not out.exists()
    assert languages_of("self-compassion-break")[:1] == ["en"]
    assert set(languages_of("self-compassion-break")) >= {"en", "es", "pt-BR", "fr", "it"}


@pytest.mark.slow
@pytest.mark.parametrize(("language", "practice"), TRANSLATIONS)
def test_every_translation_renders_exactly_at_its_minimum_and_plans_its_default(
    tmp_path: Path, language: str, practice: str
) -> None:
    path = bundled_dir() / language / f"{practice}.md"
    meta = load_template(path).meta
    assert find_language(meta.language).code == language
    assert meta.id == practice
    # the default is planned to the sample (a whole render of each costs the suite minutes)
    default = RenderRequest(
        practice=practice,
        output=tmp_path / "unused.wav",
        length_ms=meta.minutes.default * 60_000,
        voice=VoiceSettings(engine="pyttsx3"),
        language=language,
    )
    assert prepare(default).timeline.total == round(meta.minutes.default * 60 * 48_000)
    for minutes in [meta.minutes.min]:
        out = tmp_path / f"{practice}-{minutes:g}.wav"
        request = RenderRequest(
            practice=practice,
            output=out,
            length_ms=minutes * 60_000,
            voice=VoiceSettings(engine="pyttsx3"),
            mix=MixSettings(background="none"),
            language=language,
        )
        result = render(request)
        assert soundfile.info(str(out)).frames == round(minutes * 60 * 48_000)
        tags = WAVE(out).tags
        iso = find_language(language).iso639_2
        assert str(tags["TLAN"]) == iso
        assert tags.getall("USLT")[0].lang == iso
        assert f"pyttsx3 voice {language.casefold()}" in str(tags["TXXX:kindvoice voice"])
        chapters = sorted(tags.getall("CHAP"), key=lambda c: c.start_time)
        titles = [str(c.sub_frames["TIT2"]) for c in chapters]
        assert titles == [c.title for c in result.prepared.timeline.chapters]
        out.unlink()


@pytest.mark.slow
@pytest.mark.parametrize("language", sorted(KOKORO_VOICES))
def test_the_one_minute_break_speaks_each_language_with_its_kokoro_voice(
    tmp_path: Path, language: str
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "KINDVOICE_ENGINE"}
    out = tmp_path / f"break-{language}.mp3"
    shortest = load_template(bundled_dir() / language / "one-minute-break.md").meta.minutes.min
    run = kindvoice(
        "build", "one-minute-break", "--language", language, "--minutes", f"{shortest:g}",
        "-o", str(out), env=env,
    )  # fmt: skip
    assert run.code == 0, run.stderr
    assert len(decode(out)) == round(shortest * 60 * 48_000)
    tags = ID3(out)
    voice = KOKORO_VOICES[language]
    assert str(tags["TXXX:kindvoice voice"]) == f"kokoro voice {voice} at rate 0.8"  # a practice
    assert str(tags["TLAN"]) == find_language(language).iso639_2
    script = load_template(bundled_dir() / language / "one-minute-break.md")
    assert str(tags["TIT2"]) == script.meta.title
    chapter_titles = {str(c.sub_frames["TIT2"]) for c in tags.getall("CHAP")}
    assert chapter_titles <= {s.title for s in script.sections}
    vtt = out.with_suffix(".vtt").read_text(encoding="utf-8")
    assert vtt.startswith(f"WEBVTT\nLanguage: {language}\n\n")


@pytest.mark.slow
def test_a_course_and_a_batch_switch_language_with_one_option(tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        "title: Dos días\ndays: 2\nstart_minutes: 3\nend_minutes: 4\n"
        "practices: [self-compassion-break, one-minute-break]\nbackground: none\n"
        "engine: pyttsx3\n",
        encoding="utf-8",
    )
    folder = tmp_path / "curso"
    run = kindvoice(
        "course", str(plan), "--language", "es", "-o", str(folder),
        "--base-url", "https://example.org/curso",
    )  # fmt: skip
    assert run.code == 0, run.stderr
    feed = (folder / "feed.xml").read_text(encoding="utf-8")
    assert "<language>es</language>" in feed
    sessions = sorted(folder.glob("*.mp3"))
    assert len(sessions) == 2
    spanish = {load_template(bundled_dir() / "es" / f"{p}.md").meta.title for p in
               ("self-compassion-break", "one-minute-break")}  # fmt: skip
    for session in sessions:
        tags = ID3(session)
        assert str(tags["TLAN"]) == "spa"
        assert any(title in str(tags["TIT2"]) for title in spanish), str(tags["TIT2"])

    manifest = tmp_path / "batch.csv"
    manifest.write_text(
        "practice,minutes,engine,language,background,output\n"
        "one-minute-break,1,pyttsx3,fr,none,fr.mp3\n"
        "one-minute-break,1,pyttsx3,,none,en.mp3\n",
        encoding="utf-8",
    )
    run = kindvoice("batch", str(manifest), "--language", "it", "--no-sidecars")
    assert run.code == 0, run.stderr
    assert str(ID3(tmp_path / "fr.mp3")["TLAN"]) == "fra"
    assert str(ID3(tmp_path / "en.mp3")["TLAN"]) == "ita"  # the option fills the blank
