"""``render()``: one practice template becomes one exact-length, phone-ready audio file.

load -> choose the gated blocks -> synthesize -> fit -> lay out -> master the voice -> mix
-> limit -> encode -> tag. Each stage is one call below; the stages live in their own
modules. Nothing is written until the length is known to be possible, and the output
appears only when complete. Phrases are synthesized from their spoken text (``pronounce:``
respellings) and keyed by their written text from then on.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from kindvoice.audio import Mono, Stereo, s_to_samples, samples_to_s
from kindvoice.durations import MAX_MS
from kindvoice.errors import UnknownNameError, UsageError
from kindvoice.languages import find_language
from kindvoice.lengths import (
    Estimate,
    Measure,
    Voicing,
    check_bells,
    estimate_speech,
    fit_played,
    layout_of,
    measure_speech,
)
from kindvoice.lengths.opening import Cues, Opening, lay_out_played, opening_samples, within
from kindvoice.mix.timeline import Timeline
from kindvoice.recorded import check_recorded
from kindvoice.settings import RenderRequest
from kindvoice.template.fit import Plan, feasible_range
from kindvoice.template.gating import GateChoice, choices, select
from kindvoice.template.model import Script

if TYPE_CHECKING:
    from kindvoice.export.encode import Writer
    from kindvoice.export.outputs import OutputSet
    from kindvoice.export.tags import TagInfo
    from kindvoice.sound.beds.base import Bed

log = logging.getLogger(__name__)

#: progress callback: (stage, done, total)
Progress = Callable[[str, int, int], None]

DEFAULT_BACKGROUND = "drone"


@dataclass(frozen=True)
class Prepared:
    """A script with its speech measured and its length solved: everything but the audio."""

    script: Script
    path: Path
    phrases: dict[str, Mono]
    cues: dict[str, Mono]
    plan: Plan
    timeline: Timeline
    background: str
    engine_label: str
    feasible: tuple[int, int | None]
    gates: tuple[GateChoice, ...] = ()  # every [from]/[under] block, in or out
    paragraph_gap: int = 0  # samples between paragraphs at this script's pace
    estimated: bool = False  # phrase lengths from the text, nothing spoken (a plan)
    bed: Bed | None = None  # the background, built once, not yet played


@dataclass(frozen=True)
class RenderResult:
    path: Path
    total_samples: int
    voice_lufs: float
    peak_db: float
    limiter_db: float
    size_bytes: int
    prepared: Prepared

    @property
    def seconds(self) -> float:
        return samples_to_s(self.total_samples)


def prepare(
    request: RenderRequest,
    progress: Progress | None = None,
    script: Script | None = None,
    *,
    estimate: bool = False,
) -> Prepared:
    """Load, synthesize, fit and lay out; raises before any audio file is touched.

    ``script`` skips loading: a script built in code (the timer) renders like a file.
    ``estimate`` (a plan, not a render): a slow voice's phrases not in the cache yet are
    not spoken; their lengths come from the text (``Prepared.phrases`` is then empty)."""
    # load: the template, parsed to its IR with the listener's variables filled in
    script, path = _load(request, script)
    find_language(script.meta.language)  # a language the render cannot tag fails early
    background, bed = _background(request, script)
    check_bells(script)
    length_ms = _length_ms(request, script)

    # choose: the [from]/[under] blocks this length plays; only their phrases are spoken
    gates = tuple(choices(script, length_ms))
    played = select(script, length_ms)
    check_recorded(request, script, played)  # a recorded voice has them all, or fills them

    # synthesize: every distinct phrase once (the cache makes re-renders free); a plan
    # may take a slow voice's lengths from the text instead, and keeps no samples
    measure, phrases, guess = _speech(request, played, length_ms, estimate, progress)

    # fit: repeat counts and pause lengths that make the total exact
    layout, plan = fit_played(played, measure, length_ms)
    feasible = feasible_range(layout)
    if guess is not None:  # what the voice surely can do: the long side's low, the short's high
        feasible = (
            feasible_range(layout_of(played, guess.long))[0],
            feasible_range(layout_of(played, guess.short))[1],
        )

    # lay out: every sound's start sample, the chapters, the quiet stretches
    cues = Cues()
    timeline = lay_out_played(played, plan, measure, request.mix, cues)
    return Prepared(
        played,
        path,
        phrases,
        cues.audio,
        plan,
        timeline,
        background,
        measure.voice_label,
        feasible,
        gates,
        measure.paragraph_gap,
        measure.estimated,
        bed,
    )


def _speech(
    request: RenderRequest,
    played: Script,
    length_ms: float,
    estimate: bool,
    progress: Progress | None,
) -> tuple[Measure, dict[str, Mono], Estimate | None]:
    """The phrases' lengths and audio: all spoken (or read from the cache); a plan's
    (``estimate``) from the text when the voice is slow; an opening's
    (``request.opening_only``) spoken only where the opening plays them. The estimate,
    when one was made."""
    voicing = Voicing.of(request)
    opening = opening_samples(request)
    guess = estimate_speech(voicing, played) if estimate or opening else None
    if guess is not None and opening and not estimate:
        speak = Opening(voicing, played, request.mix, length_ms, opening)
        return *speak(guess.central, progress), guess
    if guess is not None:
        return guess.central, {}, guess
    return *measure_speech(voicing, played, progress, lengths_only=estimate), None


def _load(request: RenderRequest, script: Script | None) -> tuple[Script, Path]:
    """The script to render and its file: ``request.practice`` parsed with the listener's
    variables, or a ``script`` built in code, held to the bounds a parsed one is held to."""
    from kindvoice.template.library import resolve_practice
    from kindvoice.template.limits import check_script
    from kindvoice.template.parse import load_template

    if script is None:
        path = resolve_practice(request.practice, request.templates_dir, request.language)
        return load_template(path, request.variables), path
    check_script(script)
    return script, Path(script.source)


def _background(request: RenderRequest, script: Script) -> tuple[str, Bed]:
    """The background's name and its bed, built once; an unknown name, or one that needs
    stereo in a mono render, fails here, before any speech."""
    from kindvoice.sound.beds import make_bed

    background = request.mix.background or script.meta.background or DEFAULT_BACKGROUND
    bed = make_bed(background, request.mix.seed)
    if request.export.mono and bed.needs_stereo:
        raise UsageError(
            f"Background '{background}' needs stereo (binaural beats vanish in mono). "
            "Drop --mono or choose another background."
        )
    return background, bed


def _length_ms(request: RenderRequest, script: Script) -> float:
    """The session's length: the request's, else the template's default; at most a day."""
    if request.length_ms is not None:
        length_ms = request.length_ms
    else:
        length_ms = script.meta.minutes.default * 60_000.0
    if not 0 < length_ms <= MAX_MS:  # NaN and infinity fail this too
        raise UsageError(
            f"The length must be positive and at most {MAX_MS // 3_600_000} hours; "
            f"{length_ms / 60_000.0:g} minutes asked."
        )
    return length_ms


def _span(timeline: Timeline, section: str | None, limit_seconds: float | None) -> tuple[int, int]:
    """The stretch to render: one section, or the start up to ``limit_seconds``, or all."""
    if section is not None:
        titles = [c.title for c in timeline.chapters]
        match = [c for c in timeline.chapters if c.title.lower() == section.strip().lower()]
        if not match:
            raise UnknownNameError("section", section, titles)
        return match[0].start, match[0].end
    if limit_seconds is not None:
        return 0, min(timeline.total, s_to_samples(limit_seconds))
    return 0, timeline.total


def render(
    request: RenderRequest, progress: Progress | None = None, script: Script | None = None
) -> RenderResult:
    """Render one practice to ``request.output``; see the module docstring for the stages.

    The request says it all: a part only (``section``, ``limit_seconds``), the files beside
    the audio (``sidecars``, ``cover``), the tags (``title``, ``track``), the encoder's
    threads and the stamp's extra facts. ``script`` skips loading (the timer's)."""
    from kindvoice.export.cover import load_cover
    from kindvoice.export.encode import Writer, encode_blocks, format_for
    from kindvoice.export.outputs import OutputSet
    from kindvoice.mix.master import master_voice

    export = request.export
    # check the output before any work: its format, the user's cover, and no file
    # kindvoice did not write replaced without force
    format_for(request.output)
    cover = load_cover(request.cover) if request.cover is not None else None
    outputs = OutputSet(
        request.output, sidecars=request.sidecars, force=request.force, cover=request.cover
    )
    outputs.check()
    outputs.clean()

    # load, choose the gated blocks, synthesize, fit, lay out
    prepared = prepare(request, progress, script)
    start, stop = span = _span(prepared.timeline, request.section, request.limit_seconds)
    info = _tag_info(request, prepared, span, cover)

    # master the voice: the stem at the loudness target, every phrase under the ceiling
    voice, voice_lufs = master_voice(prepared.phrases, export, prepared.paragraph_gap)

    # mix: voice, bells and cue tones at their levels over the background, block by block
    blocks = _mix(request, prepared, voice, span)
    prepared = dataclasses.replace(prepared, phrases={}, bed=None)  # the mixer has copies
    del voice

    # limit and encode as the blocks come, into a temporary file beside the output
    writer = Writer(
        request.output,
        export.channels,
        export.bitrate,
        export.lame_quality,
        info.chapters,
        request.encoder_threads,
    )
    report = (lambda done: progress("mix", done, stop - start)) if progress else None
    try:
        peak, limiter_db = encode_blocks(blocks, writer, export.true_peak_ceiling_db, report)
        # tag it, then it and its sidecars (timed from the same timeline) into place at once
        _finish(writer, outputs, request, prepared, info, span)
    except BaseException:
        writer.abort()
        outputs.abort()
        raise
    log.info("limiter took off at most %.1f dB", limiter_db)
    peak_db = 20.0 * float(np.log10(max(peak, 1e-9)))
    size = request.output.stat().st_size
    return RenderResult(
        request.output, stop - start, voice_lufs, peak_db, limiter_db, size, prepared
    )


def _mix(
    request: RenderRequest, prepared: Prepared, voice: dict[str, Mono], span: tuple[int, int]
) -> Iterator[Stereo]:
    """The mixer's blocks over ``span`` (samples), faded at the cuts of a part."""
    from kindvoice.mix.mixer import cut_fades, session_mixer

    if prepared.bed is None:
        raise ValueError("the background was played already: prepare the render again")
    export, timeline = request.export, prepared.timeline
    if opening_samples(request) is not None:  # its later phrases were never spoken
        timeline = within(timeline, span[1])
    mixer = session_mixer(
        timeline,
        voice,
        prepared.cues,
        prepared.bed,
        request.mix,
        export.target_lufs,
        export.channels,
    )
    blocks = mixer.blocks(*span)
    return cut_fades(blocks, *span) if span != (0, timeline.total) else blocks


def _tag_info(
    request: RenderRequest, prepared: Prepared, span: tuple[int, int], cover: bytes | None
) -> TagInfo:
    """What the tags say: the title (a preview says so), the transcript, the chapters (a
    whole session's only) and the cover (the user's, else one made from the title)."""
    from kindvoice.export.cover import generate_cover
    from kindvoice.export.tags import TagInfo, transcript

    meta, timeline = prepared.script.meta, prepared.timeline
    language = find_language(meta.language)  # what the listener sees follows the script
    start, stop = span
    partial = span != (0, timeline.total)
    shown_title = request.title or meta.title
    if partial:
        shown_title = f"{shown_title} ({language.preview})"
    if cover is None:
        length = language.length_words(samples_to_s(stop - start))
        cover = generate_cover(request.title or meta.title, length, meta.id)
    export = request.export
    return TagInfo(
        title=shown_title,
        artist=export.artist,
        album=export.album or "kindvoice meditations",
        summary=meta.summary,
        transcript=transcript(timeline, prepared.engine_label),
        chapters=() if partial else tuple((c.title, c.start, c.end) for c in timeline.chapters),
        total_samples=stop - start,
        language=language.iso639_2,
        practice_id=meta.id,
        voice=prepared.engine_label,
        cover_jpeg=cover,
        track=request.track,
    )


def _finish(
    writer: Writer,
    outputs: OutputSet,
    request: RenderRequest,
    prepared: Prepared,
    info: TagInfo,
    span: tuple[int, int],
) -> None:
    """The finished audio tagged, then it and its sidecars (over ``span``) into place at
    once, with the stamp."""
    from kindvoice.export.sidecars import sidecar_files
    from kindvoice.export.tags import write_tags

    partial = span != (0, prepared.timeline.total)
    finished = writer.finish()
    write_tags(finished, writer.format, info, output=request.output)
    if writer.samples != info.total_samples:
        raise AssertionError(f"wrote {writer.samples} samples, expected {info.total_samples}")
    outputs.adopt(request.output, finished)
    if request.sidecars:
        for target, data in sidecar_files(
            request.output,
            prepared.timeline,
            title=info.title,
            artist=info.artist,
            span=span if partial else None,
            cover_jpeg=info.cover_jpeg,
            language=find_language(prepared.script.meta.language).code,
        ).items():
            outputs.stage(target, data)
    outputs.commit({**request.stamp, "seconds": samples_to_s(info.total_samples)})
