"""``pronounce:`` matching (issue 24 §3): whole words, compared by Unicode case folding
(``str.casefold`` on both sides, one apostrophe), so a character that folds but does not
lower to its key (long s, micro sign, German ß) is respelled, never an internal error;
a Turkish dotless ı is its own letter and simply does not match an ``i`` key. Words in
every language the project speaks, in the body and in ``--var`` values; one such file
never breaks ``list``."""

from __future__ import annotations

from pathlib import Path

import pytest

from kindvoice.template.model import Speech, walk
from kindvoice.template.parse import load_template

from kv_testing import kindvoice

HEAD = "---\ntitle: Words\nlanguage: {language}\nminutes: {{min: 0.2, default: 0.3, max: 5}}\n"


def spoken(tmp_path: Path, language: str, pronounce: str, body: str, **values: str) -> list[str]:
    """The spoken text of every phrase of a template with ``pronounce`` and ``body``."""
    path = tmp_path / "t.md"
    path.write_text(
        HEAD.format(language=language) + f"pronounce: {pronounce}\n---\n{body}\n",
        encoding="utf-8",
    )
    script = load_template(path, values)
    return [
        node.spoken
        for section in script.sections
        for node in walk(section.body)
        if isinstance(node, Speech)
    ]


CASES = [
    # (language, pronounce, written, spoken)
    ("en", "{sun: son}", "The ſun and the SUN and the Sun.", "The son and the son and the son."),
    ("en", "{μg: microgram}", "Ten µg, ten μg.", "Ten microgram, ten microgram."),
    ("en", "{straße: street}", "STRASSE, Straße, strasse.", "street, street, street."),
    ("en", "{naïve: nah-eve}", "NAÏVE, Naïve. Naive.", "nah-eve, nah-eve. Naive."),
    ("es", "{corazón: corasón}", "CORAZÓN, Corazón, corazones.", "corasón, corasón, corazones."),
    ("es", "{niño: ninyo}", "El NIÑO y el Niño.", "El ninyo y el ninyo."),
    ("fr", "{cœur: keur}", "CŒUR et Cœur, cœurs.", "keur et keur, cœurs."),
    ("fr", '{"l\'été": "lété"}', "L’ÉTÉ, l'été.", "lété, lété."),
    ("it", "{perché: perké}", "PERCHÉ? Perché.", "perké? perké."),
    ("it", "{città: citta}", "La CITTÀ, la Città.", "La citta, la citta."),
    ("pt-BR", "{coração: corassão}", "CORAÇÃO, Coração.", "corassão, corassão."),
    ("pt-BR", "{você: vocêê}", "VOCÊ e Você, vocês.", "vocêê e vocêê, vocês."),
    # whole words only: not inside a longer word, a hyphenated word or a possessive
    ("en", "{sun: son}", "Sunny sun-dial, the sun's ſun.", "Sunny sun-dial, the sun's son."),
    # decomposed accents (as macOS saves "café": e and a combining acute) meet composed ones
    ("fr", "{café: kafé}", "Un cafe\u0301, un CAFÉ.", "Un kafé, un kafé."),
    ("pt-BR", "{coração: corassão}", "Corac\u0327a\u0303o.", "corassão."),
    ("es", "{corazo\u0301n: corasón}", "Corazón.", "corasón."),
    # the dotless ı is a letter of its own (Turkish kız is not kiz): no match, no error
    ("en", "{kiz: kuz}", "Kız and KIZ.", "Kız and kuz."),
]


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}-{c[2][:12]}" for c in CASES])
def test_folding_respells_whole_words(tmp_path: Path, case: tuple[str, str, str, str]) -> None:
    language, pronounce, written, said = case
    assert spoken(tmp_path, language, pronounce, written) == [said]


def test_variable_values_are_respelled_the_same_way(tmp_path: Path) -> None:
    body = "Hello {name|friend}."
    assert spoken(tmp_path, "en", "{kiz: kuz}", body, name="Kız") == ["Hello Kız."]
    assert spoken(tmp_path, "en", "{sun: son}", body, name="ſUN") == ["Hello son."]
    assert spoken(tmp_path, "es", "{josé: hosé}", body, name="JOSÉ") == ["Hello hosé."]


def test_a_key_twice_under_folding_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.md"
    path.write_text(HEAD.format(language="en") + "pronounce: {sun: son, ſun: sone}\n---\nHi.\n")
    run = kindvoice("validate", "--no-length-check", str(path))
    assert run.code == 3, run.stderr
    assert "'ſun' is respelled twice under 'pronounce'" in run.stderr


@pytest.mark.parametrize(
    "args",
    [("validate", "--no-length-check", "{t}"), ("plan", "{t}", "--var", "name=Kız")],
    ids=["validate", "plan --var"],
)
def test_the_cli_respells_without_internal_errors(tmp_path: Path, args: tuple[str, ...]) -> None:
    """They were "Internal error: KeyError: 'ſun'" and "... 'kız'" (exit 1)."""
    path = tmp_path / "sun.md"
    path.write_text(
        HEAD.format(language="en")
        + "pronounce: {sun: son, kiz: kuz}\n---\nThe ſun, {name|friend}.\n[pause 5s~]\n",
        encoding="utf-8",
    )
    run = kindvoice(*(a.replace("{t}", str(path)) for a in args))
    assert run.code == 0, run.stderr
    assert "Internal error" not in run.stderr


def test_one_such_file_does_not_break_list(tmp_path: Path) -> None:
    """``list`` failed as a whole on one file whose words fold to a key."""
    (tmp_path / "sun.md").write_text(
        HEAD.format(language="en") + "pronounce: {sun: son}\n---\nThe ſun.\n", encoding="utf-8"
    )
    run = kindvoice("--templates-dir", str(tmp_path), "list")
    assert run.code == 0, run.stderr
    assert "self-compassion-break" in run.stdout  # the bundled ones are listed
    assert "Words" in run.stdout and "broken" not in run.stdout.lower()


def test_an_internal_error_on_one_file_leaves_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Any bug while reading one file (a stand-in raising in the parser) lists it under
    Broken with its reason; every other practice is listed, exit 0."""
    from kindvoice.template import parse

    real = parse.load_template

    def failing(path: Path, *args: object, **kwargs: object) -> object:
        if Path(path).name == "sun.md":
            raise RuntimeError("a bug")
        return real(path, *args, **kwargs)  # type: ignore[arg-type]

    (tmp_path / "sun.md").write_text(HEAD.format(language="en") + "---\nHi.\n", encoding="utf-8")
    monkeypatch.setattr(parse, "load_template", failing)
    run = kindvoice("--templates-dir", str(tmp_path), "list")
    assert run.code == 0, run.stderr
    assert "self-compassion-break" in run.stdout
    assert "RuntimeError: a bug" in run.stdout.split("Broken:")[1]
