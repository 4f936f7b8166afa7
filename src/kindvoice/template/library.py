"""The practice library: where templates live and how a practice id becomes a file.

Two folders hold practices: the bundled ``meditations/`` (inside the wheel at
``kindvoice/_data/meditations``, or the repository's top-level folder in an editable
install) and the user's own folder (``platformdirs`` user data dir, or ``--templates``).
A user practice with the same id as a bundled one wins, so teachers can adapt a script.

Translations sit in a folder per language inside either folder (``meditations/es/``,
``meditations/pt-BR/``), under the same ids as the English files at the top.
"""

from __future__ import annotations

import functools
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs
import yaml

from kindvoice.errors import NotTranslatedError, UnknownNameError, UsageError, check_regular_file
from kindvoice.languages import LANGUAGES, find_language
from kindvoice.safe_yaml import NoAliasLoader

log = logging.getLogger(__name__)

_NOT_PRACTICES = frozenset({"TEMPLATE_FORMAT.md", "README.md"})
_FRONT_MATTER_PEEK_BYTES = 64 * 1024  # ids sit at the top; never read whole files to list


@dataclass(frozen=True)
class PracticeRef:
    """One practice file found in the library."""

    id: str
    path: Path
    origin: str  # "bundled" | "user"


def bundled_dir() -> Path:
    """The bundled ``meditations/`` folder (wheel data, else the repository's top level)."""
    packaged = Path(__file__).resolve().parents[1] / "_data" / "meditations"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[3] / "meditations"


def user_dir() -> Path:
    """The user's own practice folder (it may not exist yet)."""
    return Path(platformdirs.user_data_dir("kindvoice")) / "meditations"


def _practice_id(path: Path) -> str:
    """The front matter's ``id``, else the file stem (a broken file lists by its stem)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            head = handle.read(_FRONT_MATTER_PEEK_BYTES)
        lines = head.splitlines()
        if lines and lines[0].rstrip() == "---":
            end = next(i for i, line in enumerate(lines[1:], 1) if line.rstrip() in ("---", "..."))
            data = yaml.load("\n".join(lines[1:end]), Loader=NoAliasLoader)
            if isinstance(data, dict) and isinstance(data.get("id"), str) and data["id"].strip():
                return str(data["id"]).strip()
    except (OSError, StopIteration, yaml.YAMLError, RecursionError):
        log.debug("no front-matter id in %s; using the file name", path)
    return path.stem


@functools.lru_cache(maxsize=4096)
def _id_of(path: Path, _mtime_ns: int, _size: int) -> str:
    """``_practice_id`` remembered while the file's time and size stay (a batch of many
    rows resolves ids over and over: each unknown one read some 100 front matters)."""
    return _practice_id(path)


def _scan(folder: Path, origin: str) -> dict[str, PracticeRef]:
    found: dict[str, PracticeRef] = {}
    if not folder.is_dir():
        return found
    for path in sorted(folder.glob("*.md")):
        if path.name in _NOT_PRACTICES or not path.is_file():
            continue
        stat = path.stat()
        ref = PracticeRef(_id_of(path, stat.st_mtime_ns, stat.st_size), path, origin)
        if ref.id in found:
            log.warning(
                "%s and %s both have id '%s'; using the first", found[ref.id].path, path, ref.id
            )
            continue
        found[ref.id] = ref
    return found


def _language_folder(folder: Path, language: str | None) -> Path:
    code = find_language(language).code
    return folder if code == "en" else folder / code


def list_practices(
    templates_dir: Path | None = None, language: str | None = None
) -> list[PracticeRef]:
    """Every practice in ``language`` (None: English), bundled and user (``templates_dir``
    replaces the user folder), by id."""
    practices = _scan(_language_folder(bundled_dir(), language), "bundled")
    user = templates_dir if templates_dir is not None else user_dir()
    practices.update(_scan(_language_folder(user, language), "user"))
    return sorted(practices.values(), key=lambda ref: ref.id)


def languages_of(practice_id: str, templates_dir: Path | None = None) -> list[str]:
    """The languages a practice exists in (codes, English first)."""
    return [
        code
        for code in LANGUAGES
        if any(ref.id == practice_id for ref in list_practices(templates_dir, code))
    ]


def resolve_practice(
    id_or_path: str, templates_dir: Path | None = None, language: str | None = None
) -> Path:
    """The template file for a practice id in ``language`` (None: English), or
    ``id_or_path`` itself when it names a file."""
    candidate = Path(id_or_path).expanduser()
    if candidate.is_file():
        return candidate
    looks_like_path = id_or_path.endswith(".md") or "/" in id_or_path or os.sep in id_or_path
    if looks_like_path:
        check_regular_file(candidate, "template")
        raise UsageError(
            f"Template file '{id_or_path}' not found: check the path, or give a practice id"
        )
    practices = list_practices(templates_dir, language)
    for ref in practices:
        if ref.id == id_or_path:
            return ref.path
    lang = find_language(language)
    elsewhere = languages_of(id_or_path, templates_dir)
    if elsewhere:
        raise NotTranslatedError(
            f"'{id_or_path}' has no {lang.name} ({lang.code}) version; it exists in: "
            f"{', '.join(elsewhere)}. `kindvoice list --language {lang.code}` shows what does."
        )
    raise UnknownNameError("practice", id_or_path, [ref.id for ref in practices])
