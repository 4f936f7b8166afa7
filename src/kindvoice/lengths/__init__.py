"""Lengths: each phrase measured once, then any length solved on durations alone.

Measuring needs a ``Voicing`` (the voice, the silences at the session's edges, the cache
and the workers), not a whole render request. ``measure_speech`` synthesizes a script's
phrases (from their spoken text, keyed by the written one) and gathers what the solver
needs; ``fit_played`` solves a length for a script whose gated blocks are chosen, and
``fit_length`` chooses them first. Lengths are milliseconds (``durations``), the solver's
target samples. ``ranges`` checks a script's whole ``minutes`` range (``validate``).
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kindvoice.audio import Mono, ms_to_samples, s_to_samples
from kindvoice.durations import clock
from kindvoice.errors import LengthError, TemplateError, UsageError
from kindvoice.settings import MixSettings, RenderRequest, VoiceSettings, pace_for
from kindvoice.speech.base import EngineSpec, paced
from kindvoice.template.fit import Infeasible, Layout, Plan, build_layout, solve
from kindvoice.template.gating import select
from kindvoice.template.model import Bell, Meta, Script

if TYPE_CHECKING:
    from kindvoice.speech.cache import PhraseCache

#: progress callback: (stage, done, total)
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Voicing:
    """What measuring a script's speech needs of a render: who speaks, the silences at the
    session's edges (``mix.lead_in_ms``, ``mix.tail_ms``), the phrase cache and the speech
    worker processes (None: one per core)."""

    voice: VoiceSettings = field(default_factory=VoiceSettings)
    mix: MixSettings = field(default_factory=MixSettings)
    use_cache: bool = True
    workers: int | None = None

    @classmethod
    def of(cls, request: RenderRequest) -> Voicing:
        return cls(request.voice, request.mix, request.use_cache, request.workers)


@dataclass(frozen=True)
class Measure:
    """What the solver needs besides the script: every sound's length in samples."""

    speech_samples: Mapping[str, int]  # written text -> samples
    paragraph_gap: int
    edges: int  # lead-in plus tail
    bell_samples: Callable[[str | None, int], int]
    voice_label: str
    estimated: bool = False  # lengths from the text (``speech.estimate``), not spoken


@dataclass(frozen=True)
class Estimate:
    """A slow voice's phrase lengths known from the text: the ``short`` and ``long``
    sides bound what the voice can do (a range from ``long``'s low and ``short``'s high
    is inside the real one), ``central`` is the best guess for a plan."""

    short: Measure
    central: Measure
    long: Measure


def played_layout(
    script: Script, measure: Measure, length_ms: float, flip: frozenset[int] = frozenset()
) -> tuple[Script, Layout]:
    """The script as it plays at ``length_ms`` (its gates chosen; ``flip`` inverts those
    gates) and the solver's layout of it."""
    played = select(script, length_ms, flip)
    return played, layout_of(played, measure)


def layout_of(played: Script, measure: Measure) -> Layout:
    """The solver's layout of a script whose gated blocks are chosen (``select``)."""
    return build_layout(
        played,
        measure.speech_samples,
        paragraph_gap_samples=measure.paragraph_gap,
        bell_samples=measure.bell_samples,
        edge_samples=measure.edges,
    )


def fit_length(
    script: Script, measure: Measure, length_ms: float, flip: frozenset[int] = frozenset()
) -> tuple[Script, Layout, Plan]:
    """The script as it plays at ``length_ms`` (gates chosen), its layout and the solver's
    plan; ``flip`` inverts those gates (to find which gate makes a length impossible).
    Raises ``LengthError`` with the feasible range when the length cannot be met."""
    played = select(script, length_ms, flip)
    return played, *fit_played(played, measure, length_ms)


def fit_played(played: Script, measure: Measure, length_ms: float) -> tuple[Layout, Plan]:
    """The layout and the solver's plan of ``played`` (its gated blocks chosen for
    ``length_ms``) at ``length_ms``; ``LengthError`` (with the feasible range) when the
    length cannot be met."""
    target = ms_to_samples(length_ms)
    meta = played.meta
    if not played.sections:
        raise LengthError(
            f'"{meta.id}" has nothing to play at {clock(target)}: every block is gated out.'
        )
    layout = layout_of(played, measure)
    minutes = length_ms / 60_000.0  # where the length sits in the range the script declares
    span = meta.minutes.max - meta.minutes.min
    position = (minutes - meta.minutes.min) / span if span > 0 else 0.5
    try:
        return layout, solve(layout, target, position)
    except Infeasible as exc:
        high = "no upper limit" if exc.high is None else clock(exc.high)
        runs = f"runs {clock(exc.low)} to {high}"
        if exc.near is not None:
            runs += f" (nearest: {clock(exc.near[0])} or {clock(exc.near[1])})"
        raise LengthError(
            f'"{meta.id}" {runs} with {measure.voice_label}; {clock(target)} asked.'
        ) from None


def check_bells(script: Script) -> None:
    """Every ``[bell NAME]`` names a bell the soundscapes have (gated blocks included)."""
    from kindvoice.sound.bells import bell_names

    for bell in (node for node in script.nodes() if isinstance(node, Bell)):
        if bell.kind is not None and bell.kind not in bell_names():
            raise TemplateError(
                bell.pos.file,
                bell.pos.line,
                bell.pos.col,
                f"Unknown bell '{bell.kind}'. Choose one of: {', '.join(bell_names())}",
            )


def voice_spec(voice: VoiceSettings, meta: Meta) -> EngineSpec:
    """The voice that speaks a script: the command line's choice, else the template's
    ``voice:`` and ``language:``, else the engine's defaults."""
    from kindvoice.speech.base import choose_voice

    return choose_voice(
        voice,
        engine=meta.voice_engine,
        voice=meta.voice_name,
        rate=meta.voice_rate,
        language=meta.language,
        kind=meta.kind,
    )


def measure_speech(
    voicing: Voicing,
    script: Script,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
    lengths_only: bool = False,
) -> tuple[Measure, dict[str, Mono]]:
    """Every phrase of ``script`` (gated blocks included) synthesized once from its spoken
    text at its section's pace, keyed by ``Speech.key``, and the lengths the solver needs.
    ``stop`` ends the speech early (``errors.SpeechStopped``); ``lengths_only``
    keeps no samples (``synthesize_phrases``)."""
    from kindvoice.speech.base import engine_class
    from kindvoice.speech.cache import PhraseCache

    spec = voice_spec(voicing.voice, script.meta)
    cache = PhraseCache() if voicing.use_cache else None
    report = (lambda done, total: progress("speech", done, total)) if progress else None
    if engine_class(spec.engine).recorded:  # the teacher's takes, by written text
        phrases, label = _recorded_phrases(voicing, script, spec, cache, report)
        taken = {t: len(a) for t, a in phrases.items()}
        return measure_from_lengths(voicing, script, spec, taken, label), phrases
    phrases = _speak_by_pace(voicing, script, spec, _by_pace(script), report, stop, lengths_only)
    lengths = {t: len(a) for t, a in phrases.items()}
    return measure_from_lengths(voicing, script, spec, lengths), phrases


def speak_phrases(
    voicing: Voicing,
    script: Script,
    keys: Collection[str],
    report: Callable[[int, int], None] | None = None,
) -> dict[str, Mono]:
    """The phrases ``keys`` of ``script`` (``Speech.key``) synthesized at their sections'
    paces, the others left unspoken (an opening); ``report(done, total)`` counts them."""
    spec = voice_spec(voicing.voice, script.meta)
    wanted = {
        pace: {key: spoken for key, spoken in keyed.items() if key in keys}
        for pace, keyed in _by_pace(script).items()
    }
    return _speak_by_pace(voicing, script, spec, wanted, report)


def _speak_by_pace(
    voicing: Voicing,
    script: Script,
    spec: EngineSpec,
    wanted: Mapping[str, Mapping[str, str]],
    report: Callable[[int, int], None] | None,
    stop: threading.Event | None = None,
    lengths_only: bool = False,
) -> dict[str, Mono]:
    """The phrases ``wanted`` (pace -> phrase key -> spoken text) synthesized at their
    paces, shaped to the script's pitch levels unless only lengths are asked;
    ``report(done, total)`` counts distinct texts."""
    from kindvoice.speech.cache import PhraseCache
    from kindvoice.speech.synth import synthesize_phrases

    cache = PhraseCache() if voicing.use_cache else None
    total = len({(pace, s) for pace, keyed in wanted.items() for s in keyed.values()})
    phrases: dict[str, Mono] = {}
    done_before = 0
    for pace, keyed in wanted.items():
        unique = list(dict.fromkeys(keyed.values()))
        if not unique:
            continue

        def paced_report(done: int, _: int, before: int = done_before) -> None:
            if report is not None:
                report(before + done, total)

        audio = synthesize_phrases(
            paced(spec, pace),
            unique,
            cache,
            voicing.workers,
            paced_report,
            stop,
            lengths_only,
            None if lengths_only else _levels(script, keyed),
        )
        phrases.update({key: audio[spoken] for key, spoken in keyed.items()})
        done_before += len(unique)
    return phrases


def estimate_speech(voicing: Voicing, script: Script) -> Estimate | None:
    """The phrase lengths from the text, when the voice is slow to speak (Kokoro) and some
    phrase of ``script`` is not in the phrase cache yet; None: measure by speaking (or
    reading the cache), which is then as quick."""
    from kindvoice.speech.base import engine_class, engine_identity
    from kindvoice.speech.cache import PhraseCache

    spec = voice_spec(voicing.voice, script.meta)
    engine = engine_class(spec.engine)
    by_pace = _by_pace(script)
    if voicing.use_cache:
        cache = PhraseCache()
        identities = {pace: engine_identity(paced(spec, pace)) for pace in by_pace}
        if all(
            cache.path(cache.key(identities[pace], spoken)).is_file()
            for pace, keyed in by_pace.items()
            for spoken in keyed.values()
        ):
            return None
    guesses = {
        key: engine.estimate_seconds(paced(spec, pace), spoken)
        for pace, keyed in by_pace.items()
        for key, spoken in keyed.items()
    }
    known = {key: guess for key, guess in guesses.items() if guess is not None}
    if len(known) != len(guesses):
        return None
    sides = measure_from_lengths(voicing, script, spec, {t: 0 for t in known})
    short, central, long = (
        dataclasses.replace(
            sides,
            speech_samples={t: s_to_samples(g[i]) for t, g in known.items()},
            voice_label=f"{sides.voice_label} (estimated from the text)",
            estimated=True,
        )
        for i in range(3)
    )
    return Estimate(short, central, long)


def _levels(script: Script, keyed: Mapping[str, str]) -> dict[str, float]:
    """Spoken text -> the pitch level the script's structure gives it
    (``template.intonation``), for the phrases ``keyed`` (phrase key -> spoken text); a
    text spoken under two keys keeps the first's."""
    from kindvoice.template.intonation import levels

    by_key = levels(script)
    out: dict[str, float] = {}
    for key, spoken in keyed.items():
        out.setdefault(spoken, by_key[key])
    return out


def _by_pace(script: Script) -> dict[str, dict[str, str]]:
    """Pace -> (phrase key -> spoken text) for every phrase of ``script``, in first-use
    order: each pace is one voice to speak with."""
    out: dict[str, dict[str, str]] = {}
    for key, speech in script.phrases().items():
        out.setdefault(speech.pace, {})[key] = speech.spoken
    return out


def _recorded_phrases(
    voicing: Voicing,
    script: Script,
    spec: EngineSpec,
    cache: PhraseCache | None,
    report: Callable[[int, int], None] | None,
) -> tuple[dict[str, Mono], str]:
    """A recorded voice's takes of ``script``'s phrases, the missing ones spoken by the
    ``--fill-with`` voice at the takes' loudness, and the voice in words (naming the
    fill); ``LengthError`` when a phrase is missing and nothing fills it."""
    from kindvoice.speech.base import choose_voice, engine_class, split_voice, voice_description
    from kindvoice.speech.cleaning import match_loudness
    from kindvoice.speech.recorded_engine import RecordedEngine
    from kindvoice.speech.synth import synthesize_phrases

    texts = script.spoken_texts()  # phrase key -> spoken text
    written = {key: speech.text for key, speech in script.phrases().items()}
    takes = RecordedEngine(spec).voice.takes()  # a take is of the written words, at any pace
    have = [t for t in texts if written[t] in takes]
    missing = [t for t in texts if written[t] not in takes]
    said = synthesize_phrases(
        spec, list(dict.fromkeys(written[t] for t in have)), None, voicing.workers, report
    )
    phrases = {t: said[written[t]] for t in have}
    label = voice_description(spec)
    if not missing:
        return phrases, label
    engine, voice = split_voice(voicing.voice.fill_with)
    if voicing.voice.fill_with is None:
        raise LengthError(f"The {label} has no take of {missing[0]!r}; add --fill-with VOICE.")
    if engine is not None and engine_class(engine).recorded:
        raise UsageError(
            f"--fill-with takes a synthetic voice such as kokoro:heart or pyttsx3, not "
            f"'{voicing.voice.fill_with}'."
        )
    fill = choose_voice(
        VoiceSettings(engine=engine, voice=voice),
        language=script.meta.language,
        kind=script.meta.kind,
    )
    spoken = synthesize_phrases(fill, [texts[t] for t in missing], cache, voicing.workers)
    phrases.update({t: match_loudness(spoken[texts[t]]) for t in missing})
    label += f" ({len(missing)} of {len(texts)} phrases by {voice_description(fill)})"
    return {t: phrases[t] for t in texts}, label


def measure_from_lengths(
    voicing: Voicing,
    script: Script,
    spec: EngineSpec,
    lengths: Mapping[str, int],
    label: str | None = None,
) -> Measure:
    """The ``Measure`` of ``script`` spoken by ``spec`` with these phrase ``lengths``
    (``label``: the voice in words, when more than ``spec`` speaks)."""
    from kindvoice.sound.bells import DEFAULT_BELL, bell_duration_samples
    from kindvoice.speech.base import voice_description

    mix = voicing.mix
    pace = voicing.voice.pace or pace_for(script.meta.kind)
    return Measure(
        dict(lengths),
        ms_to_samples(pace.paragraph_gap_ms),
        ms_to_samples(mix.lead_in_ms) + ms_to_samples(mix.tail_ms),
        lambda kind, strikes: bell_duration_samples(kind or DEFAULT_BELL, strikes),
        label or voice_description(spec),
    )
