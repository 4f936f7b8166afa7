"""One practice whose words fold to a ``pronounce`` key (issue 24 §3): the Home, Build and
Course pages answered 500 ("KeyError: 'ſun'") for the whole library, and the Write page
too. Now every page lists it and the others; a practice that fails for any other reason is
shown as broken, never a 500."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

SUN = (
    "---\ntitle: The Long S\nminutes: {min: 0.5, default: 0.5, max: 2}\n"
    "pronounce: {sun: son}\n---\nThe ſun, {name|friend}.\n[pause 5s~]\n"
)


@pytest.fixture
def own_practices(tmp_path: Path) -> Path:
    folder = tmp_path / "practices"
    folder.mkdir()
    (folder / "long-s.md").write_text(SUN, encoding="utf-8")
    return folder


@pytest.mark.parametrize("page", ["/", "/build", "/course", "/build?practice=long-s"])
def test_pages_list_the_practice_and_the_others(start_site, own_practices: Path, page: str) -> None:
    site = start_site(templates_dir=own_practices)
    reply = site.request(page)
    assert reply.status == 200, reply.text[:500]
    assert "The Long S" in reply.text
    if page != "/build?practice=long-s":
        assert "Self-Compassion Break" in reply.text


def test_write_page_checks_such_a_template(site) -> None:
    reply = site.post("/write", {"text": SUN})
    assert reply.status == 200, re.sub(r"<[^>]+>|\s+", " ", reply.text.split("<main")[-1])
    assert "The Long S" in reply.text


def test_an_internal_error_on_one_practice_leaves_the_others(
    start_site, own_practices: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Any bug while reading one file (here a stand-in raising in the parser) shows that
    practice as broken; the page still answers with the rest."""
    from kindvoice.template import parse

    real = parse.load_template

    def failing(path: Path, *args: object, **kwargs: object) -> object:
        if Path(path).name == "long-s.md":
            raise RuntimeError("a bug")
        return real(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(parse, "load_template", failing)
    site = start_site(templates_dir=own_practices)
    reply = site.request("/")
    assert reply.status == 200, reply.text[:500]
    assert "Self-Compassion Break" in reply.text
    assert "RuntimeError: a bug" in reply.text
