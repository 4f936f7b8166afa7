"""The practice library: bundled and user folders, ids, overrides and lookups."""

from __future__ import annotations

from pathlib import Path

import pytest

from kindvoice.errors import UnknownNameError, UsageError
from kindvoice.template import library
from kindvoice.template.library import (
    PracticeRef,
    bundled_dir,
    list_practices,
    resolve_practice,
    user_dir,
)
from kindvoice.template.parse import load_template


def write(folder: Path, name: str, front: str = "title: T") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f"---\n{front}\n---\nBreathe.\n", encoding="utf-8")
    return path


@pytest.fixture
def bundled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "bundled"
    write(folder, "timer.md")
    write(folder, "loving-kindness.md", "id: loving-kindness\ntitle: Loving-kindness")
    write(folder, "old-name.md", "id: soothing-touch\ntitle: Soothing touch")
    write(folder, "TEMPLATE_FORMAT.md")
    write(folder, "README.md")
    (folder / "notes.txt").write_text("not a practice", encoding="utf-8")
    monkeypatch.setattr(library, "bundled_dir", lambda: folder)
    # keep the real user folder out of the tests
    monkeypatch.setattr(library, "user_dir", lambda: tmp_path / "no-user-dir")
    return folder


def test_lists_bundled_practices_by_id(bundled: Path) -> None:
    refs = list_practices()
    assert [r.id for r in refs] == ["loving-kindness", "soothing-touch", "timer"]
    assert all(r.origin == "bundled" for r in refs)
    assert refs[1].path == bundled / "old-name.md"  # the front-matter id wins over the stem


def test_user_practices_override_bundled_ones(bundled: Path, tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    write(mine, "timer.md", "title: My timer")
    write(mine, "my-own.md")
    write(mine, "kindness.md", "id: loving-kindness\ntitle: Mine")
    refs = {r.id: r for r in list_practices(mine)}
    assert sorted(refs) == ["loving-kindness", "my-own", "soothing-touch", "timer"]
    assert refs["timer"] == PracticeRef("timer", mine / "timer.md", "user")
    assert refs["loving-kindness"].path == mine / "kindness.md"
    assert refs["soothing-touch"].origin == "bundled"
    assert resolve_practice("timer", mine) == mine / "timer.md"
    assert resolve_practice("timer") == bundled / "timer.md"


def test_default_user_folder_is_used(
    bundled: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine = tmp_path / "data"
    write(mine, "evening.md")
    monkeypatch.setattr(library, "user_dir", lambda: mine)
    assert resolve_practice("evening") == mine / "evening.md"


def test_broken_front_matter_lists_by_file_stem(bundled: Path) -> None:
    (bundled / "broken.md").write_text("---\ntitle: [oops\n---\nHi.\n", encoding="utf-8")
    (bundled / "bare.md").write_text("No front matter at all.\n", encoding="utf-8")
    ids = [r.id for r in list_practices()]
    assert "broken" in ids and "bare" in ids


def test_resolve_by_id_and_by_path(
    bundled: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert resolve_practice("soothing-touch") == bundled / "old-name.md"
    own = write(tmp_path / "elsewhere", "letter.md")
    assert resolve_practice(str(own)) == own
    monkeypatch.chdir(own.parent)
    assert resolve_practice("letter.md") == Path("letter.md")


@pytest.mark.parametrize("name", ["missing.md", "some/dir/practice", "./timer-copy.md"])
def test_missing_template_path_is_a_usage_error(bundled: Path, name: str) -> None:
    with pytest.raises(UsageError) as info:
        resolve_practice(name)
    assert f"Template file '{name}' not found" in info.value.message


def test_unknown_practice_suggests_the_closest(bundled: Path) -> None:
    with pytest.raises(UnknownNameError) as info:
        resolve_practice("timr")
    assert "Unknown practice 'timr'. Did you mean timer?" in info.value.message
    assert "loving-kindness" in info.value.message
    assert info.value.exit_code == 4


def test_missing_folders_give_an_empty_library(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(library, "bundled_dir", lambda: tmp_path / "none")
    assert list_practices(tmp_path / "nothing") == []


def test_real_folders() -> None:
    assert bundled_dir().name == "meditations"
    assert bundled_dir().is_dir()
    assert user_dir().name == "meditations"
    assert "kindvoice" in str(user_dir())


BUNDLED = [ref for ref in list_practices(Path("/nonexistent")) if ref.origin == "bundled"]


@pytest.mark.parametrize("ref", BUNDLED, ids=[ref.id for ref in BUNDLED])
def test_every_bundled_practice_parses(ref: PracticeRef) -> None:
    script = load_template(ref.path)
    assert script.meta.id == ref.id
    assert script.speech_texts() or ref.id == "timer"


def test_unknown_ids_do_not_read_every_front_matter_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch of many rows with unknown practice ids read some 100 front matters per row
    (150-650 ms each under load): ids are remembered while a file's time and size stay."""
    reads: list[Path] = []
    real = library._practice_id
    monkeypatch.setattr(library, "_practice_id", lambda path: reads.append(path) or real(path))
    library._id_of.cache_clear()
    user = tmp_path / "mine"
    user.mkdir()
    mine = user / "mine.md"
    mine.write_text("---\nid: first-id\ntitle: Mine\n---\nHello.\n", encoding="utf-8")
    for attempt in range(2):
        with pytest.raises(UnknownNameError):
            library.resolve_practice("no-such-practice", templates_dir=user)
        assert (len(reads) > 20) if attempt == 0 else (reads == [])
        reads.clear()
    # an edited file is read again
    mine.write_text("---\nid: second-id\ntitle: Mine, longer\n---\nHello.\n", encoding="utf-8")
    assert library.resolve_practice("second-id", templates_dir=user) == mine
    assert reads == [mine]
