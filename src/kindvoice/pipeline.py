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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kindvoice.audio import (
    Mono,
    Stereo,
    db_to_gain,
    ms_to_samples,
    s_to_samples,
    samples_to_s,
)
from kindvoice.errors import UnknownNameError, UsageError
from kindvoice.languages import find_language
from kindvoice.lengths import (
    check_bells,
    estimate_speech,
    fit_length,
    measure_speech,
    played_layout,
)
from kindvoice.mix.master import StreamMeter, TruePeakLimiter, limit
from kindvoice.mix.mixer import BedShape, Mixer
from kindvoice.mix.timeline import Timeline, lay_out
from kindvoice.recorded import check_recorded
from kindvoice.settings import RenderRequest
from kindvoice.template.fit import Plan, feasible_range
from kindvoice.template.gating import GateChoice, choices, select
from kindvoice.template.model import Breathe, Script

log = logging.getLogger(__name__)

MAX_MINUTES = 24 * 60  # a session's longest length (the duration grammar's 24 hours)

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


class _Cues:
    """Breathing cue tones by key, gathered while the timeline is laid out."""

    def __init__(self) -> None:
        self.audio: dict[str, Mono] = {}

    def __call__(self, node: Breathe) -> list[tuple[int, str, int]]:
        from kindvoice.sound.breath import breathe_cues

        placed: list[tuple[int, str, int]] = []
        for offset, kind, tone in breathe_cues(node.in_ms, node.hold_ms, node.out_ms, node.count):
            key = f"{kind}/{len(tone)}"
            self.audio[key] = tone
            placed.append((offset, key, len(tone)))
        return placed


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
    from kindvoice.sound.beds import make_bed
    from kindvoice.sound.bells import DEFAULT_BELL, bell_duration_samples
    from kindvoice.template.library import resolve_practice
    from kindvoice.template.parse import load_template

    # load: the template, parsed to its IR with the listener's variables filled in
    if script is None:
        path = resolve_practice(request.practice, request.templates_dir, request.language)
        script = load_template(path, request.variables)
    else:
        path = Path(script.source)
    meta = script.meta
    background = request.mix.background or meta.background or DEFAULT_BACKGROUND
    bed = make_bed(background, request.mix.seed)  # an unknown name fails here, early
    if request.export.mono and getattr(bed, "needs_stereo", False):
        raise UsageError(
            f"Background '{background}' needs stereo (binaural beats vanish in mono). "
            "Drop --mono or choose another background."
        )
    check_bells(script)
    minutes = request.minutes if request.minutes is not None else meta.minutes.default
    if not 0 < minutes <= MAX_MINUTES:  # NaN and infinity fail this too
        raise UsageError(
            f"The length must be positive and at most {MAX_MINUTES // 60} hours; "
            f"{minutes:g} minutes asked."
        )

    # choose: the [from]/[under] blocks this length plays; only their phrases are spoken
    played = select(script, minutes * 60_000.0)
    check_recorded(request, script, played)  # a recorded voice has them all, or fills them

    # synthesize: every distinct phrase once (the cache makes re-renders free); a plan
    # may take a slow voice's lengths from the text instead
    guess = estimate_speech(request, played) if estimate else None
    if guess is not None:
        measure, phrases = guess.central, dict[str, Mono]()
    else:
        measure, phrases = measure_speech(request, played, progress)

    # fit: repeat counts and pause lengths that make the total exact
    played, layout, plan = fit_length(script, measure, minutes)
    feasible = feasible_range(layout)
    if guess is not None:  # what the voice surely can do: the long side's low, the short's high
        feasible = (
            feasible_range(played_layout(script, guess.long, minutes)[1])[0],
            feasible_range(played_layout(script, guess.short, minutes)[1])[1],
        )

    def bell_name(kind: str | None) -> str:
        return kind or DEFAULT_BELL

    # lay out: every sound's start sample, the chapters, the quiet stretches
    cues = _Cues()
    timeline = lay_out(
        played,
        plan,
        measure.speech_samples,
        paragraph_gap_samples=measure.paragraph_gap,
        lead_in_samples=ms_to_samples(request.mix.lead_in_ms),
        tail_samples=ms_to_samples(request.mix.tail_ms),
        bell_name=bell_name,
        bell_samples=bell_duration_samples,
        cue_offsets=cues,
    )
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
        tuple(choices(script, minutes * 60_000.0)),
        measure.paragraph_gap,
        measure.estimated,
    )


def master_voice(
    phrases: dict[str, Mono], target_lufs: float, ceiling_db: float, channels: int, gap: int
) -> tuple[dict[str, Mono], float]:
    """Bring the voice stem to ``target_lufs`` and under the true-peak ceiling.

    The stem is measured from the phrases themselves, each followed by a paragraph's
    gap (``gap`` samples) as on the timeline: the meter's 400 ms blocks that straddle
    speech and silence count as they will in the file, while the gate drops the longer
    silences. It is then gained, limited phrase by phrase, then measured again and corrected
    until the limiter's share is made up. The voice plays in every channel, and BS.1770
    sums channels: stereo reads 3 dB louder than the mono stem.
    """
    spread_db = 10.0 * float(np.log10(channels))
    if not phrases:
        return {}, target_lufs
    silence = np.zeros(gap, dtype=np.float32)

    def stem_lufs(audio: dict[str, Mono]) -> float:
        meter = StreamMeter()
        for phrase in audio.values():
            meter.feed(phrase)
            meter.feed(silence)
        return meter.lufs() + spread_db

    gains = [target_lufs - stem_lufs(phrases)]
    readings: list[float] = []
    for _ in range(4):
        g = np.float32(db_to_gain(gains[-1]))
        out = {text: limit(audio * g, ceiling_db) for text, audio in phrases.items()}
        readings.append(stem_lufs(out))
        error = target_lufs - readings[-1]
        if abs(error) < 0.1:
            break
        # the limiter takes more as the gain rises: step along the measured slope
        slope = 1.0
        if len(readings) > 1 and gains[-1] != gains[-2]:
            slope = (readings[-1] - readings[-2]) / (gains[-1] - gains[-2])
        gains.append(gains[-1] + error / min(max(slope, 0.3), 1.0))
    return out, readings[-1]


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
    request: RenderRequest,
    progress: Progress | None = None,
    *,
    section: str | None = None,
    limit_seconds: float | None = None,
    script: Script | None = None,
    sidecars: bool = False,
    cover: Path | None = None,
    title: str | None = None,
    track: tuple[int, int] | None = None,
    encoder_threads: int | None = None,
    stamp: Mapping[str, object] | None = None,
) -> RenderResult:
    """Render one practice to ``request.output``; see the module docstring for the stages.

    ``section`` or ``limit_seconds`` render only part of it (a preview): that section,
    or the first seconds, with a short fade at the cut. ``sidecars`` writes the VTT, SRT,
    LRC, chapters JSON and cover JPEG beside the audio once it is in place. ``cover`` is
    the user's own cover image (default: a generated one); ``title`` replaces the
    practice's title in the tags and ``track`` is (n, of N) for a course.
    ``encoder_threads`` caps the MP3 encoder's threads (None: one per core); a batch
    that renders one session per core gives each render one. ``stamp`` adds facts to the
    stamp beside the output (a batch's hash of its inputs)."""
    from kindvoice.export.cover import generate_cover, load_cover
    from kindvoice.export.encode import Writer, format_for
    from kindvoice.export.outputs import OutputSet
    from kindvoice.export.sidecars import sidecar_files
    from kindvoice.export.tags import TagInfo, write_tags
    from kindvoice.sound.beds import BED_REFERENCE_LUFS, make_bed
    from kindvoice.sound.bells import render_bell

    export, mix = request.export, request.mix
    fmt = format_for(request.output)  # an unknown extension fails before any work
    # the user's cover is checked before any work too; the generated one needs the title
    cover_jpeg = load_cover(cover) if cover is not None else None
    # no file kindvoice did not write is replaced without force; refused before any work
    outputs = OutputSet(request.output, sidecars=sidecars, force=request.force, cover=cover)
    outputs.check()
    outputs.clean()

    # load, synthesize, fit, lay out
    prepared = prepare(request, progress, script)
    timeline, script = prepared.timeline, prepared.script
    start, stop = _span(timeline, section, limit_seconds)
    partial = (start, stop) != (0, timeline.total)
    meta = script.meta
    language = find_language(meta.language)  # what the listener sees follows the script
    shown_title = title or meta.title
    if partial:
        shown_title = f"{shown_title} ({language.preview})"
    if cover_jpeg is None:
        length = language.length_words(samples_to_s(stop - start))
        cover_jpeg = generate_cover(title or meta.title, length, meta.id)
    chapters = () if partial else tuple((c.title, c.start, c.end) for c in timeline.chapters)

    # master the voice: the stem at the loudness target, every phrase under the ceiling
    voice, voice_lufs = master_voice(
        prepared.phrases,
        export.target_lufs,
        export.true_peak_ceiling_db,
        export.channels,
        prepared.paragraph_gap,
    )

    prepared = dataclasses.replace(prepared, phrases={})  # mastered copies from here on

    # gather the sounds: voice phrases, bell strikes and cue tones at their levels
    sounds: dict[tuple[str, str, int], Mono] = {}
    bell_peak = db_to_gain(export.target_lufs + mix.bell_level_lu)
    cue_peak = np.float32(db_to_gain(export.target_lufs + mix.cue_level_lu))
    for event in timeline.events:
        key = Mixer.event_key(event)
        if key in sounds:
            continue
        if event.kind == "speech":
            sounds[key] = voice[event.key]
        elif event.kind == "bell":
            sounds[key] = render_bell(event.key, event.strikes, bell_peak, mix.seed)
        else:
            sounds[key] = prepared.cues[event.key] * cue_peak

    # mix: background shaped around the voice, every sound overlaid, block by block
    bed_gain = db_to_gain(export.target_lufs + mix.background_level_lu - BED_REFERENCE_LUFS)
    shape = BedShape(
        gain=bed_gain,
        rise_db=mix.background_rise_lu,
        attack=ms_to_samples(mix.duck_attack_ms),
        release=ms_to_samples(mix.duck_release_ms),
        fade_in=ms_to_samples(mix.fade_in_ms),
        fade_out=ms_to_samples(mix.fade_out_ms),
    )
    bed = make_bed(prepared.background, mix.seed)
    mixer = Mixer(timeline, sounds, bed, shape, channels=export.channels)
    del sounds, voice  # the mixer holds its own copies as pydub segments

    # limit and encode as the blocks come, into a temporary file beside the output
    writer = Writer(
        request.output,
        export.channels,
        export.bitrate,
        export.lame_quality,
        chapters,
        encoder_threads,
    )
    limiter = TruePeakLimiter(export.true_peak_ceiling_db)
    peak = 0.0
    cut = _Cut(start, stop) if partial else None
    try:
        done = 0
        for block in mixer.blocks(start, stop):
            if cut is not None:
                block = cut(block)
            out = limiter.process(block)
            if len(out):
                peak = max(peak, float(out.max()), -float(out.min()))
            writer.write(out)
            done += len(block)
            if progress:
                progress("mix", done, stop - start)
        tail = limiter.flush()
        if len(tail):
            peak = max(peak, float(tail.max()), -float(tail.min()))
        writer.write(tail)
        finished = writer.finish()

        # tag: title, summary, transcript, chapters and cover, then rename into place
        write_tags(
            finished,
            fmt,
            TagInfo(
                title=shown_title,
                artist=export.artist,
                album=export.album or "kindvoice meditations",
                summary=meta.summary,
                transcript=transcript(timeline, prepared.engine_label),
                chapters=chapters,
                total_samples=stop - start,
                language=language.iso639_2,
                practice_id=meta.id,
                voice=prepared.engine_label,
                cover_jpeg=cover_jpeg,
                track=track,
            ),
        )
        if writer.samples != stop - start:
            raise AssertionError(f"wrote {writer.samples} samples, expected {stop - start}")
        # sidecars, timed from the same timeline, then every file into place at once
        outputs.adopt(request.output, finished)
        if sidecars:
            for target, data in sidecar_files(
                request.output,
                timeline,
                title=shown_title,
                artist=export.artist,
                span=(start, stop) if partial else None,
                cover_jpeg=cover_jpeg,
                language=language.code,
            ).items():
                outputs.stage(target, data)
        outputs.commit({**(stamp or {}), "seconds": samples_to_s(stop - start)})
        path = request.output
    except BaseException:
        writer.abort()
        outputs.abort()
        raise
    log.info("limiter took off at most %.1f dB", limiter.max_reduction_db)
    return RenderResult(
        path=path,
        total_samples=stop - start,
        voice_lufs=voice_lufs,
        peak_db=20.0 * float(np.log10(max(peak, 1e-9))),
        limiter_db=limiter.max_reduction_db,
        size_bytes=path.stat().st_size,
        prepared=prepared,
    )


class _Cut:
    """Half-second fades where a preview cuts into the session, so it neither clicks in
    nor stops dead."""

    def __init__(self, start: int, stop: int) -> None:
        self.start, self.stop = start, stop
        self.position = start
        self.fade = ms_to_samples(500)

    def __call__(self, block: Stereo) -> Stereo:
        t = np.arange(self.position, self.position + len(block))
        self.position += len(block)
        ramp = np.minimum(1.0, np.minimum(t - self.start, self.stop - 1 - t) / self.fade)
        if self.start == 0:  # the session's own fade-in is already there
            ramp = np.minimum(1.0, (self.stop - 1 - t) / self.fade)
        out: Stereo = (block * np.clip(ramp, 0.0, 1.0)[:, None]).astype(np.float32)
        return out


def transcript(timeline: Timeline, voice: str = "") -> str:
    """The spoken text, one utterance per line, with a blank line between chapters; a
    recorded ``voice`` is named on the first line (whose voice the listener hears)."""
    lines: list[str] = [f"Voice: {voice}"] if voice.startswith("recorded voice") else []
    chapters = list(timeline.chapters)
    current = -1
    for event in timeline.speech:
        index = max(i for i, c in enumerate(chapters) if c.start <= event.start)
        if index != current:
            if lines:
                lines.append("")
            lines.append(f"## {chapters[index].title}")
            current = index
        lines.append(event.text)
    return "\n".join(lines)
