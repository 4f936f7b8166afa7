"""The phrase cache: synthesized phrases on disk, keyed by engine identity and text.

Entries are content addressed (the key is the sha256 of the engine identity and the
text), sharded into folders by the key's first two hex digits, and written atomically
(a temporary file in the same folder, then ``os.replace``), so several processes can
read and write one cache at once: a reader sees a whole entry or none. A phrase is
stored once (``put_first``: the first writer wins) and every render plays the stored
entry, so renders that share a cold cache give the same bytes as a warm one. Every entry
carries the sha256 of its samples; a truncated or corrupt entry, or one holding NaN or
inf, is deleted and treated as a miss.

Entry layout: ``MAGIC`` (8 bytes), sample rate (uint32 LE), sample count (uint64 LE),
sha256 of the payload (32 bytes), then the samples as float32 LE.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import struct
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np
import platformdirs

from kindvoice.audio import SAMPLE_RATE, Mono

log = logging.getLogger(__name__)

ENV_VAR = "KINDVOICE_CACHE_DIR"
MAGIC = b"KVPHRS01"
_HEADER = struct.Struct("<8sIQ32s")
_SUFFIX = ".kvp"
_TMP_PREFIX = ".tmp-"
_STALE_TMP_S = 3600.0  # a temporary file this old was left by a crashed writer


def default_root() -> Path:
    """``$KINDVOICE_CACHE_DIR/speech`` when set, else the user cache folder's ``speech``."""
    parent = os.environ.get(ENV_VAR) or platformdirs.user_cache_dir("kindvoice")
    return Path(parent) / "speech"


class PhraseCache:
    """Synthesized phrases (float32 mono at the house rate) on disk."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_root()

    def __repr__(self) -> str:
        return f"PhraseCache({str(self.root)!r})"

    @staticmethod
    def key(identity: Mapping[str, str], text: str, level_st: float | None = None) -> str:
        """The entry key for ``text`` spoken by the engine ``identity`` describes, shaped to
        the pitch level ``level_st`` (semitones, to the hundredth; None: as spoken)."""
        entry: dict[str, object] = {"identity": dict(identity), "text": text}
        if level_st is not None:
            entry["level"] = f"{level_st:+.2f}"
        canonical = json.dumps(
            entry,
            sort_keys=True,
            ensure_ascii=False,
            separators=(",", ":"),
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def path(self, key: str) -> Path:
        """Where the entry for ``key`` lives (it may not exist)."""
        if len(key) != 64 or any(c not in "0123456789abcdef" for c in key):
            raise ValueError(f"not a phrase cache key: {key!r}")
        return self.root / key[:2] / f"{key}{_SUFFIX}"

    def look_up(
        self,
        identity: Mapping[str, str],
        texts: Sequence[str],
        levels: Mapping[str, float],
        found: dict[str, Mono],
    ) -> tuple[dict[str, str], dict[str, tuple[float, str | None]]]:
        """Fill ``found`` with the entries of ``texts`` (each at its level in ``levels``,
        if any) already here; each text's key, and for each text at a level, that level
        and its plain entry's key (what a shaped phrase is made from)."""
        keys: dict[str, str] = {}
        shaped: dict[str, tuple[float, str | None]] = {}
        for text in texts:
            keys[text] = self.key(identity, text, levels.get(text))
            if text in levels:
                shaped[text] = (levels[text], self.key(identity, text))
            audio = self.get(keys[text])
            if audio is not None:
                found[text] = audio
        return keys, shaped

    def get(self, key: str) -> Mono | None:
        """The cached audio, or None on a miss (a corrupt entry is removed: a miss too)."""
        path = self.path(key)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.debug("phrase cache: cannot read %s: %s", path, exc)
            return None
        audio = _decode(data)
        if audio is not None and not np.isfinite(audio).all():
            # NaN or inf would play as a full-scale block: speak the phrase again
            log.warning("phrase cache: entry %s holds NaN or inf; removed", path)
            audio = None
        if audio is None:
            log.debug("phrase cache: corrupt entry %s removed", path)
            # Worst case another process just replaced it with a good entry: one more miss.
            path.unlink(missing_ok=True)
        return audio

    def put(self, key: str, audio: Mono) -> None:
        """Store ``audio`` under ``key`` atomically, replacing any entry there."""
        self._write(key, audio, replace=True)

    def put_first(self, key: str, audio: Mono) -> Mono:
        """Store ``audio`` under ``key`` unless an entry is there already (the first writer
        wins, atomically), and return the entry as stored: the one audio every render of
        this phrase plays. An engine's output can depend on what it spoke before (espeak
        does), so two renders sharing a cold cache would otherwise each play their own."""
        for _ in range(2):
            self._write(key, audio, replace=False)
            stored = self.get(key)  # a corrupt entry is removed here: write again
            if stored is not None:
                return stored
        return audio

    def _write(self, key: str, audio: Mono, *, replace: bool) -> None:
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = np.ascontiguousarray(audio, dtype="<f4").tobytes()
        header = _HEADER.pack(
            MAGIC, SAMPLE_RATE, len(payload) // 4, hashlib.sha256(payload).digest()
        )
        # No fsync: a torn write after a crash fails its checksum and becomes a miss.
        fd, tmp = tempfile.mkstemp(prefix=_TMP_PREFIX, suffix=_SUFFIX, dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(header)
                f.write(payload)
            if replace:
                os.replace(tmp, path)
                return
            try:
                os.link(tmp, path)  # fails if the entry exists: never replaces it
            except FileExistsError:
                pass
            except OSError:  # no hard links on this file system: a small race remains
                if not path.exists():
                    os.replace(tmp, path)
        finally:
            Path(tmp).unlink(missing_ok=True)

    def info(self) -> tuple[int, int]:
        """(entries, bytes) in the cache."""
        entries = total_bytes = 0
        for path in self._entries():
            try:
                total_bytes += path.stat().st_size
            except FileNotFoundError:
                continue
            entries += 1
        return entries, total_bytes

    def clear(self) -> int:
        """Remove every entry (and stale temporary files); return how many entries."""
        removed = 0
        stale_before = time.time() - _STALE_TMP_S
        for path in list(self._files()):
            is_tmp = path.name.startswith(_TMP_PREFIX)
            try:
                # A fresh temporary file may belong to a writer that is still running.
                if is_tmp and path.stat().st_mtime > stale_before:
                    continue
                path.unlink()
            except FileNotFoundError:
                continue
            removed += not is_tmp
        return removed

    def _files(self) -> Iterator[Path]:
        if self.root.is_dir():
            yield from self.root.glob(f"??/*{_SUFFIX}")

    def _entries(self) -> Iterator[Path]:
        return (p for p in self._files() if not p.name.startswith(_TMP_PREFIX))


def _decode(data: bytes) -> Mono | None:
    """Entry bytes -> audio, or None when anything does not check out."""
    if len(data) < _HEADER.size:
        return None
    magic, sample_rate, count, digest = _HEADER.unpack_from(data)
    payload = data[_HEADER.size :]
    if (
        magic != MAGIC
        or sample_rate != SAMPLE_RATE
        or len(payload) != count * 4
        or hashlib.sha256(payload).digest() != digest
    ):
        return None
    return np.frombuffer(payload, dtype="<f4").astype(np.float32)
