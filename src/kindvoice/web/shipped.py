"""Clips that ship with the package ready to play: the card preview of every bundled
practice in every language (its opening, with its own default voice) and the voice
sample of every voice the default engine offers, so the first tap on a card or a voice
plays at once instead of waiting minutes for Kokoro.

The clips sit in ``shipped_audio/`` beside this module with ``manifest.json``, which names
for each file the digest of what it was made from (``preview_digest``, ``sample_digest``:
the text spoken, the engine's identity with its voice, rate and format version, and how
the clip is cut and encoded). A clip is served only while its digest is what a render
would be now; a script a translator changed, another default engine or a new Kokoro
format falls back to the job that renders it (``web.renders.preview_work``,
``web.voices.sample_work``), whose file is named by the same digest. ``scripts/make_shipped.py``
makes the clips, again only where a digest no longer matches.

The blueprint serves them: ``GET /shipped/<name>``, only names the manifest lists.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, abort, send_file

from kindvoice.settings import ExportSettings, RenderRequest, VoiceSettings

if TYPE_CHECKING:
    from kindvoice.pipeline import Progress

log = logging.getLogger(__name__)

bp = Blueprint("shipped", __name__)

#: where the clips and their manifest live (package data)
FOLDER = Path(__file__).with_name("shipped_audio")
MANIFEST = "manifest.json"
#: bump when how a clip is made changes in a way its inputs do not show
CLIP_FORMAT = "1"
#: a card preview: the practice's first seconds, as the session at its shortest begins
PREVIEW_SECONDS = 30.0
#: mono at a speech bitrate: a 30-second preview is about 120 KB
CLIP_EXPORT = ExportSettings(mono=True, bitrate_kbps=32)


def _digest(facts: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()


def _identity(voice: VoiceSettings, path: Path) -> tuple[dict[str, str], str]:
    """The engine identity of the voice that speaks the template at ``path`` (its own
    voice, language and kind decide it, as in a render), and the template's language."""
    from kindvoice.lengths import voice_spec
    from kindvoice.speech.base import engine_identity
    from kindvoice.template.parse import load_template

    meta = load_template(path).meta
    return engine_identity(voice_spec(voice, meta)), meta.language


def preview_digest(path: Path) -> str:
    """The digest of ``preview_facts``."""
    return _digest(preview_facts(path))


def preview_facts(path: Path) -> dict[str, Any]:
    """What a card preview of the template at ``path`` is made from: its text, the voice
    that speaks it with the default engine, the length and the encoding."""
    identity, language = _identity(VoiceSettings(), path)
    return {
        "kind": "preview",
        "format": CLIP_FORMAT,
        "text": hashlib.sha256(path.read_bytes()).hexdigest(),
        "language": language,
        "engine": identity,
        "seconds": PREVIEW_SECONDS,
        "export": [CLIP_EXPORT.channels, CLIP_EXPORT.bitrate],
    }


def sample_digest(engine: str, voice: str, language: str) -> str:
    """The digest of ``sample_facts``."""
    return _digest(sample_facts(engine, voice, language))


def sample_facts(engine: str, voice: str, language: str) -> dict[str, Any]:
    """What the sample of ``voice`` is made from: the passage in its ``language``, the
    voice as it speaks that passage, and the encoding."""
    from kindvoice.speech.samples import sample_template

    passage = sample_template(language)
    identity, _ = _identity(VoiceSettings(engine=engine, voice=voice), passage)
    return {
        "kind": "sample",
        "format": CLIP_FORMAT,
        "text": hashlib.sha256(passage.read_bytes()).hexdigest(),
        "engine": identity,
        "export": [CLIP_EXPORT.channels, CLIP_EXPORT.bitrate],
    }


def made_from(facts: dict[str, Any]) -> dict[str, str]:
    """The facts a manifest entry shows a reader: the text's digest and the voice (engine,
    voice pack, rate, the engine's format version)."""
    engine = facts["engine"]
    shown = {"text_sha256": facts["text"]}
    for key in ("engine", "voice", "rate", "format"):
        if key in engine:
            shown[key] = str(engine[key])
    return shown


def preview_name(practice_id: str, language: str | None) -> str:
    """A preview's file name: ``soothing-touch.mp3``, ``soothing-touch.es.mp3`` (no
    underscore: voice samples hold one)."""
    slug = re.sub(r"[^a-z0-9-]+", "-", practice_id.lower()).strip("-") or "practice"
    return f"{slug}.{language}.mp3" if language and language != "en" else f"{slug}.mp3"


def rendered_name(name: str, digest: str) -> str:
    """The name of a clip rendered into the library: ``name`` with its digest's first
    hex digits, so a clip of an older script is never served for the current one."""
    stem, _, suffix = name.rpartition(".")
    return f"{stem}.{digest[:12]}.{suffix}"


def drop_older(kept: Path) -> list[Path]:
    """Remove the clips beside ``kept`` (a ``rendered_name``) that were rendered for the
    same name from an older digest: nothing serves them any more. The removed paths."""
    base, _, suffix = kept.name.rpartition(".")
    name_stem = base.rpartition(".")[0]
    older = re.compile(rf"{re.escape(name_stem)}\.[0-9a-f]{{12}}\.{re.escape(suffix)}")
    removed = []
    for path in kept.parent.iterdir():
        if path.name != kept.name and older.fullmatch(path.name):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def preview_lengths(path: Path) -> list[float]:
    """The session lengths (minutes) a card preview of the template at ``path`` is taken
    from, in the order to try: the shortest, the default, the longest. The opening speaks
    only its own phrases and estimates the rest on the safe side, so a practice whose
    shortest length is tight for its voice (the French one-minute break with siwis)
    takes a longer session's opening."""
    from kindvoice.template.parse import load_template

    minutes = load_template(path).meta.minutes
    return list(dict.fromkeys((minutes.min, minutes.default, minutes.max)))


def preview_request(path: Path, output: Path, minutes: float, **more: Any) -> RenderRequest:
    """The render of a card preview: the opening of the session ``minutes`` long, only
    the phrases it plays spoken (``RenderRequest.opening_only``), mono at a speech
    bitrate."""
    return RenderRequest(
        practice=str(path),
        output=output,
        length_ms=minutes * 60_000.0,
        limit_seconds=PREVIEW_SECONDS,
        opening_only=True,
        export=CLIP_EXPORT,
        **more,
    )


def render_preview(path: Path, output: Path, progress: Progress | None = None, **more: Any) -> None:
    """Render the card preview of the template at ``path`` to ``output``: the opening of the
    first of ``preview_lengths`` whose session fits (the page's job and
    ``scripts/make_shipped.py`` both make previews this way, so a shipped clip is what the
    job would make)."""
    from kindvoice.errors import LengthError
    from kindvoice.pipeline import render

    *shorter, longest = preview_lengths(path)
    for minutes in shorter:
        try:
            render(preview_request(path, output, minutes, **more), progress=progress)
            return
        except LengthError:
            continue
    render(preview_request(path, output, longest, **more), progress=progress)


def sample_request(
    engine: str, voice: str, language: str, output: Path, **more: Any
) -> RenderRequest:
    """The render of a voice's sample: the passage in its language, mono at a speech
    bitrate."""
    from kindvoice.speech.samples import sample_template

    return RenderRequest(
        practice=str(sample_template(language)),
        output=output,
        voice=VoiceSettings(engine=engine, voice=voice),
        export=CLIP_EXPORT,
        title=f"Voice sample: {voice}",
        **more,
    )


@functools.lru_cache(maxsize=4)
def _manifest(folder: Path, _mtime_ns: int) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("no shipped clips: %s", exc)
        return {}
    files = data.get("files") if isinstance(data, dict) else None
    return files if isinstance(files, dict) else {}


def manifest(folder: Path | None = None) -> dict[str, dict[str, Any]]:
    """The shipped clips (in ``folder``, default ``FOLDER``): file name -> its entry
    (``digest`` and what it was made of)."""
    folder = FOLDER if folder is None else folder
    try:
        mtime = (folder / MANIFEST).stat().st_mtime_ns
    except OSError:
        return {}
    return _manifest(folder, mtime)


def ready(name: str, digest: str, folder: Path | None = None) -> Path | None:
    """The shipped clip ``name`` when it was made from ``digest`` (what a render would be
    now), else None: render it."""
    folder = FOLDER if folder is None else folder
    entry = manifest(folder).get(name)
    path = folder / name
    if entry is None or entry.get("digest") != digest or not path.is_file():
        return None
    return path


@bp.get("/shipped/<name>")
def shipped_file(name: str) -> Response:
    """A shipped clip: only a name the manifest lists (never a path from the request)."""
    if name not in manifest() or not (FOLDER / name).is_file():
        abort(404, "No such clip.")
    return send_file(FOLDER / name, mimetype="audio/mpeg", conditional=True, max_age=3600)
