"""Make the clips that ship ready to play (``kindvoice.web.shipped``): the voice sample of
every voice the default engine offers and the card preview of every bundled practice in
every language, each with the default engine's voice for it.

    flock /work/kokoro.lock nice -n 5 .venv/bin/python scripts/make_shipped.py \
        [--samples] [--previews] [--language L ...] [--check]

Incremental: a clip whose manifest entry still has the digest of what it would be made
from now is kept; only new or changed ones are spoken (a translator's edit remakes that
practice's preview, in about its 30 seconds of speech), and clips of practices or voices
that are gone are removed. The manifest is written after each clip, so an interrupted run
keeps what it made. ``--check`` makes nothing and lists what is missing or stale (exit 1
when something is). Uses the normal phrase cache, so phrases spoken before are free.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger("make_shipped")


@dataclass(frozen=True)
class Clip:
    """One clip to ship: its file name, the digest of its inputs, what it is, and how to
    render it into a file."""

    name: str
    digest: str
    facts: dict[str, Any]
    render: Callable[[Path], None]


def sample_clips() -> Iterator[Clip]:
    """Every voice the page offers for the default engine."""
    from kindvoice.pipeline import render
    from kindvoice.settings import default_engine
    from kindvoice.web import shipped
    from kindvoice.web.voices import choices, sample_name

    engine = default_engine()
    for voice in choices(engine):
        name = sample_name(engine, voice.name)

        def make(out: Path, voice: str = voice.name, language: str = voice.language) -> None:
            render(shipped.sample_request(engine, voice, language, out, workers=1))

        facts = shipped.sample_facts(engine, voice.name, voice.language)
        yield Clip(
            name,
            shipped.sample_digest(engine, voice.name, voice.language),
            {"kind": "sample", "voice": voice.name, "language": voice.language}
            | {"made_from": shipped.made_from(facts)},
            make,
        )


def preview_clips(languages: list[str], empty: Path) -> Iterator[Clip]:
    """Every bundled practice in ``languages`` (``empty``: a templates folder with none
    of the user's, so only bundled practices are listed)."""
    from kindvoice.template.library import list_practices
    from kindvoice.web import shipped

    for language in languages:
        for ref in list_practices(empty, language):
            code = None if language == "en" else language

            def make(out: Path, path: Path = ref.path) -> None:
                shipped.render_preview(path, out, workers=1)  # as the page's job does

            yield Clip(
                shipped.preview_name(ref.id, code),
                shipped.preview_digest(ref.path),
                {"kind": "preview", "practice": ref.id, "language": language}
                | {"made_from": shipped.made_from(shipped.preview_facts(ref.path))},
                make,
            )


def without_cover(path: Path) -> None:
    """The generated cover out of the clip's tags (about 70 KB, more than half of a
    preview; the card shows the practice itself), the other tags kept."""
    from mutagen.id3 import ID3

    tags = ID3(path)
    tags.delall("APIC")
    tags.save(path, v2_version=3, padding=lambda info: 0)


def clip_facts(path: Path) -> dict[str, Any]:
    """The made file's length and size (mutagen reads the MP3's frames)."""
    from mutagen.mp3 import MP3

    return {"seconds": round(MP3(path).info.length, 2), "bytes": path.stat().st_size}


def write_manifest(folder: Path, files: dict[str, dict[str, Any]]) -> None:
    from kindvoice.files import write_atomic
    from kindvoice.web.shipped import MANIFEST

    body = {
        "about": "Clips made by scripts/make_shipped.py; each is served while its digest "
        "is what a render would be made from now (kindvoice.web.shipped).",
        "files": dict(sorted(files.items())),
    }
    write_atomic(folder / MANIFEST, json.dumps(body, indent=1, ensure_ascii=False) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", action="store_true", help="the voice samples")
    parser.add_argument("--previews", action="store_true", help="the card previews")
    parser.add_argument("--language", action="append", help="previews in these (default: all)")
    parser.add_argument("--check", action="store_true", help="list what is stale; make nothing")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from kindvoice.settings import DEFAULT_ENGINE, ENGINE_ENV

    os.environ[ENGINE_ENV] = DEFAULT_ENGINE  # what ships is the default engine's
    from kindvoice.languages import LANGUAGES
    from kindvoice.web.shipped import FOLDER, manifest

    both = not (args.samples or args.previews)
    languages = args.language or list(LANGUAGES)
    folder = FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    files = dict(manifest(folder))
    with tempfile.TemporaryDirectory() as tmp:
        clips: list[Clip] = []
        if args.samples or both:
            clips += sample_clips()
        if args.previews or both:
            clips += preview_clips(languages, Path(tmp) / "no-user-templates")
        stale = [
            c
            for c in clips
            if files.get(c.name, {}).get("digest") != c.digest or not (folder / c.name).is_file()
        ]
        if args.check:
            for clip in stale:
                log.info("stale or missing: %s", clip.name)
            return 1 if stale else 0
        failed: list[str] = []
        for n, clip in enumerate(stale, 1):
            wall = time.perf_counter()
            out = Path(tmp) / clip.name
            try:
                clip.render(out)
            except Exception:  # the others are still worth making; the run fails at the end
                log.exception("%d/%d %s failed", n, len(stale), clip.name)
                failed.append(clip.name)
                continue
            without_cover(out)
            shutil.copyfile(out, folder / clip.name)
            files[clip.name] = {"digest": clip.digest, **clip.facts, **clip_facts(out)}
            write_manifest(folder, files)
            log.info(
                "%d/%d %s: %.1f s, %d KB, made in %.0f s",
                n,
                len(stale),
                clip.name,
                files[clip.name]["seconds"],
                files[clip.name]["bytes"] // 1024,
                time.perf_counter() - wall,
            )
    if both and args.language is None:  # a whole run: what is no longer offered goes
        wanted = {c.name for c in clips}
        for name in sorted(set(files) - wanted):
            log.info("removed: %s", name)
            (folder / name).unlink(missing_ok=True)
            del files[name]
        write_manifest(folder, files)
    if failed:
        log.error("not made: %s", ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
