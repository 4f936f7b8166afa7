"""A teacher's recorded voice on disk: one cleaned take per phrase, keyed by its text.

The phrase text is the key, as in the phrase cache, and every phrase has a stable file
name (``phrase_stem``: a short slug of its first words and a hash of the whole text), the
name ``kindvoice voices export`` writes beside each phrase and ``voices import`` reads.

Layout, inside the library folder (``settings.default_library``)::

    voices/<name>/voice.json              the takes: stem -> text, source file, when, levels
    voices/<name>/takes/<stem>.flac       the cleaned take (48 kHz mono, 24-bit), what plays
    voices/<name>/originals/<stem>.<ext>  the file as the teacher gave it, byte for byte

A take is never replaced unless the caller says so (``replace=True``); the manifest is
written atomically after the audio, so a crash leaves at worst an unlisted file.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kindvoice import files
from kindvoice.audio import SAMPLE_RATE, Mono
from kindvoice.errors import EngineError, TakeExists, UnknownNameError, UsageError

log = logging.getLogger(__name__)

VOICES_FOLDER = "voices"
MANIFEST = "voice.json"
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
_SLUG_WORDS = 6
_SLUG_CHARS = 40
_HASH_CHARS = 8


def phrase_stem(text: str) -> str:
    """The file name (without extension) of ``text``'s take: its first words as an ASCII
    slug and 8 hex digits of the sha256 of the whole text, so a changed phrase gets a new
    name: ``this-is-a-hard-moment-1b2c3d4e``."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())[:_SLUG_WORDS]
    slug = "-".join(words)[:_SLUG_CHARS].strip("-") or "phrase"
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:_HASH_CHARS]
    return f"{slug}-{digest}"


def check_name(name: str) -> str:
    """A voice name as stored: lower case letters, digits, '-' and '_' (``anna``)."""
    if not _NAME.fullmatch(name):
        raise UsageError(
            f"'{name}' cannot name a recorded voice; use lower-case letters, digits, '-' and "
            "'_' (up to 40), such as 'anna'."
        )
    return name


def voices_root(library: Path | None = None) -> Path:
    """The folder holding every recorded voice of ``library`` (default: the user's)."""
    from kindvoice.settings import default_library

    return (library if library is not None else default_library()) / VOICES_FOLDER


def recorded_voices(library: Path | None = None) -> list[str]:
    """The names of the recorded voices in ``library``, sorted."""
    root = voices_root(library)
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / MANIFEST).is_file())


@dataclass(frozen=True)
class Take:
    """One kept take: the phrase, its file stem and what is known about it."""

    stem: str
    text: str
    source: str  # the file name the teacher gave
    added: str  # ISO time, UTC
    seconds: float  # the cleaned take's length
    lufs_before: float | None  # the take's loudness as given (None: too short to meter)


class RecordedVoice:
    """The takes of one recorded voice. ``create=True`` makes the voice if it is new;
    otherwise an unknown name raises ``UnknownNameError`` listing the recorded voices."""

    def __init__(self, name: str, library: Path | None = None, *, create: bool = False) -> None:
        self.name = check_name(name)
        self.library = library
        self.folder = voices_root(library) / name
        self._manifest = self.folder / MANIFEST
        if not self._manifest.is_file():
            if not create:
                raise UnknownNameError("recorded voice", name, recorded_voices(library))
            (self.folder / "takes").mkdir(parents=True, exist_ok=True)
            self._save({})

    def __repr__(self) -> str:
        return f"RecordedVoice({self.name!r}, {str(self.folder)!r})"

    # --- reading ---------------------------------------------------------------------

    def _load(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(self._manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise EngineError(f"The recorded voice '{self.name}' cannot be read: {exc}") from None
        takes: dict[str, dict[str, Any]] = data.get("takes", {})
        return takes

    def takes(self) -> dict[str, Take]:
        """Every take, by its phrase text."""
        return {
            entry["text"]: Take(
                stem,
                entry["text"],
                entry.get("source", ""),
                entry.get("added", ""),
                float(entry.get("seconds", 0.0)),
                entry.get("lufs_before"),
            )
            for stem, entry in self._load().items()
        }

    def has(self, text: str) -> bool:
        return phrase_stem(text) in self._load()

    def take_path(self, stem: str) -> Path:
        return self.folder / "takes" / f"{stem}.flac"

    def audio(self, text: str) -> Mono:
        """The cleaned take of ``text`` (float32 mono at the house rate)."""
        import numpy as np
        import soundfile as sf

        stem = phrase_stem(text)
        if stem not in self._load():
            raise EngineError(f"The recorded voice '{self.name}' has no take of {text!r}.")
        samples, rate = sf.read(self.take_path(stem), dtype="float32", always_2d=True)
        if rate != SAMPLE_RATE:
            raise EngineError(f"The take {self.take_path(stem)} is not at {SAMPLE_RATE} Hz.")
        audio: Mono = np.ascontiguousarray(samples[:, 0])
        return audio

    # --- writing ---------------------------------------------------------------------

    def add(
        self,
        text: str,
        cleaned: Mono,
        original: Path,
        *,
        lufs_before: float | None = None,
        replace: bool = False,
    ) -> Take:
        """Keep ``cleaned`` as the take of ``text`` and a copy of the ``original`` file;
        ``TakeExists`` when the phrase has a take already and ``replace`` is False."""
        import soundfile as sf

        stem = phrase_stem(text)
        takes = self._load()
        if stem in takes and not replace:
            raise TakeExists(
                f"'{self.name}' already has a take of {text!r}; it is kept (replace it "
                "only on purpose: --replace)."
            )
        target = self.take_path(stem)
        part = target.with_name(f".{target.name}.part")
        target.parent.mkdir(parents=True, exist_ok=True)
        sf.write(part, cleaned, SAMPLE_RATE, format="FLAC", subtype="PCM_24")
        part.replace(target)
        originals = self.folder / "originals"
        originals.mkdir(exist_ok=True)
        for old in originals.glob(f"{stem}.*"):
            old.unlink()
        shutil.copyfile(original, originals / f"{stem}{original.suffix.lower()}")
        entry = {
            "text": text,
            "source": original.name,
            "added": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "seconds": round(len(cleaned) / SAMPLE_RATE, 3),
            "lufs_before": None if lufs_before is None else round(lufs_before, 2),
        }
        takes[stem] = entry
        self._save(takes)
        return self.takes()[text]

    def record(self, text: str, path: Path, *, replace: bool = False) -> Take:
        """Clean the take in the audio file ``path`` (``cleaning``) and keep it as the take
        of ``text``: one call per take, for an import or an upload. ``TakeExists`` when the
        phrase has a take and ``replace`` is False (nothing is cleaned then); ``TakeError``
        when the cleaning refuses the file."""
        from kindvoice.speech.cleaning import clean_file

        if not replace and self.has(text):
            raise TakeExists(f"'{self.name}' already has a take of {text!r}; it is kept.")
        cleaned = clean_file(path)
        take = self.add(text, cleaned.audio, path, lufs_before=cleaned.lufs_before, replace=replace)
        log.info(
            "%s: %.1f s kept; loudness %s -> %s LUFS, noise floor %.1f -> %.1f dBFS",
            path.name,
            take.seconds,
            _lufs(cleaned.lufs_before),
            _lufs(cleaned.lufs_after),
            cleaned.noise_floor_before_db,
            cleaned.noise_floor_after_db,
        )
        return take

    def delete(self, stem: str) -> Take:
        """Remove one take (its cleaned audio and its original) by file stem."""
        takes = self._load()
        if stem not in takes:
            raise UnknownNameError(f"take of voice '{self.name}'", stem, takes)
        gone = self.takes()[takes[stem]["text"]]
        del takes[stem]
        self._save(takes)
        self.take_path(stem).unlink(missing_ok=True)
        for old in (self.folder / "originals").glob(f"{stem}.*"):
            old.unlink()
        return gone

    def archive(self, target: Path) -> int:
        """Write the whole voice (manifest, cleaned takes, originals) to the zip file
        ``target``, atomically; returns how many takes it holds."""
        import zipfile

        fd, tmp = files.temp_beside(target)
        os.close(fd)
        try:
            with zipfile.ZipFile(tmp, "w") as archive:
                for path in sorted(self.folder.rglob("*")):
                    if path.is_file() and not path.name.startswith("."):
                        name = f"{self.name}/{path.relative_to(self.folder).as_posix()}"
                        # audio is compressed already; only the manifest shrinks
                        packed = path.suffix == ".json"
                        method = zipfile.ZIP_DEFLATED if packed else zipfile.ZIP_STORED
                        archive.write(path, name, compress_type=method)
            files.put_in_place(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        return len(self._load())

    def remove(self) -> None:
        """Delete the whole voice: every take and original."""
        shutil.rmtree(self.folder)

    def _save(self, takes: dict[str, dict[str, Any]]) -> None:
        """The manifest, written to a temporary file and renamed into place."""
        data = {"name": self.name, "format": 1, "takes": dict(sorted(takes.items()))}
        text = json.dumps(data, indent=1, ensure_ascii=False) + "\n"
        files.write_atomic(self._manifest, text)


def _lufs(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"
