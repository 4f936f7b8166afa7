"""What a recorded voice can render: its phrases recorded and missing, by length.

A practice plays different phrases at different lengths (its ``[from]`` / ``[under]``
blocks), so a teacher who records the short version can render the short lengths. The
gates cut the practice's ``minutes`` range into spans that each play one set of phrases;
a span is fully recorded when every phrase it plays has a take, and the lengths a voice
can render are those spans narrowed to what the solver can fill with the takes' own
lengths (a teacher's slow reading can make the shortest length impossible).

``check_recorded`` is the render's guard: a length that needs a phrase not yet recorded
is refused with one line naming the lengths that are fully recorded, unless the request
fills the gaps with a synthetic voice (``--fill-with``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kindvoice.audio import s_to_samples
from kindvoice.durations import clock
from kindvoice.errors import LengthError
from kindvoice.lengths import Voicing, measure_from_lengths, played_layout, voice_spec
from kindvoice.settings import RenderRequest
from kindvoice.speech.takes import RecordedVoice, phrase_stem
from kindvoice.template.fit import feasible_range
from kindvoice.template.gating import gates, select
from kindvoice.template.model import Script

#: a range of lengths in minutes: (from, to, whether ``to`` itself is included)
Span = tuple[float, float, bool]


@dataclass(frozen=True)
class Phrase:
    """One distinct phrase of a practice: its text, its take's file stem, the section it
    is first heard in and the lengths (minutes) that play it."""

    text: str
    stem: str
    section: str
    spans: tuple[Span, ...]


@dataclass(frozen=True)
class Coverage:
    """A recorded voice against a practice."""

    phrases: tuple[Phrase, ...]
    recorded: frozenset[str]  # texts with a take
    lengths: tuple[Span, ...]  # the lengths fully recorded that the solver can fill

    @property
    def missing(self) -> list[Phrase]:
        return [p for p in self.phrases if p.text not in self.recorded]

    def summary(self) -> str:
        """ "12 of 47 phrases recorded; enough for 3 to 4:59"."""
        done = sum(p.text in self.recorded for p in self.phrases)
        enough = describe_spans(self.lengths) or "not yet enough for any length"
        if self.lengths:
            enough = f"enough for {enough}"
        return f"{done} of {len(self.phrases)} phrases recorded; {enough}"


def minutes_text(minutes: float, *, before: bool = False) -> str:
    """A length for people: whole minutes bare ("5"), else m:ss; ``before`` writes the
    second just before it ("4:59"), the end of a span that stops at a gate."""
    if float(minutes).is_integer() and not before:
        return f"{minutes:g}"
    samples = s_to_samples(minutes * 60.0) - (s_to_samples(1.0) if before else 0)
    return clock(samples - samples % s_to_samples(1.0))  # whole seconds, never rounded up


def describe_spans(
    spans: tuple[Span, ...] | list[Span], say: Callable[..., str] | None = None
) -> str:
    """``3 to 4:59 and 10 to 30 minutes``; "" for none. ``say(message, **values)`` words
    each part (the web page's gettext); English by default."""
    words = say or _english
    parts = [
        minutes_text(a)
        if a == b
        else words(
            "%(low)s to %(high)s", low=minutes_text(a), high=minutes_text(b, before=not closed)
        )
        for a, b, closed in spans
    ]
    if not parts:
        return ""
    if len(parts) > 1:
        parts = [words("%(some)s and %(last)s", some=", ".join(parts[:-1]), last=parts[-1])]
    return str(words("%(lengths)s minutes", lengths=parts[0]))


def _english(message: str, **values: str) -> str:
    return message % values


def length_spans(script: Script) -> list[tuple[Span, list[str]]]:
    """The script's ``minutes`` range cut at its gates: each span and the written texts it
    plays, in first-use order (a gate at the longest length makes that length a span of
    its own)."""
    low, high = script.meta.minutes.min, script.meta.minutes.max
    thresholds = {g.threshold_ms / 60_000.0 for g in gates(script)}
    edges = [low, *sorted(t for t in thresholds if low < t < high), high]
    bounds: list[Span] = [(a, b, False) for a, b in itertools.pairwise(edges)]
    if high in thresholds and high > low:
        bounds.append((high, high, True))
    else:
        bounds[-1] = (bounds[-1][0], high, True)
    return [(span, list(select(script, span[0] * 60_000.0).spoken_texts())) for span in bounds]


def _merge(spans: list[Span]) -> tuple[Span, ...]:
    merged: list[Span] = []
    for span in spans:
        if merged and merged[-1][1] == span[0] and not merged[-1][2]:
            merged[-1] = (merged[-1][0], span[1], span[2])
        else:
            merged.append(span)
    return tuple(merged)


def coverage(request: RenderRequest, script: Script, voice: RecordedVoice | None) -> Coverage:
    """Which phrases of ``script`` ``voice`` has (None: a voice not recorded yet), and the
    lengths it can render alone."""
    import soundfile as sf

    takes = voice.takes() if voice is not None else {}
    texts = script.spoken_texts()
    sections: dict[str, str] = {}
    for section in script.sections:
        probe = Script(script.meta, (section,), script.source)
        for text in probe.spoken_texts():
            sections.setdefault(text, section.title)
    spans = length_spans(script)
    phrases = tuple(
        Phrase(
            text,
            phrase_stem(text),
            sections.get(text, ""),
            _merge([span for span, played in spans if text in played]),
        )
        for text in texts
    )
    recorded = frozenset(t for t in texts if t in takes)
    if voice is None or not recorded:
        return Coverage(phrases, recorded, ())
    lengths = {t: sf.info(str(voice.take_path(takes[t].stem))).frames for t in recorded}
    spec = voice_spec(request.voice, script.meta)
    measure = measure_from_lengths(Voicing.of(request), script, spec, lengths)
    usable: list[Span] = []
    for (a, b, inclusive), played in spans:
        if not all(t in recorded for t in played):
            continue
        layout = played_layout(script, measure, a * 60_000.0)[1]
        low, high = feasible_range(layout)
        minute = s_to_samples(60.0)
        start = max(a, low / minute)
        end, closed = (b, inclusive) if high is None else min((b, inclusive), (high / minute, True))
        if start < end or (start == end and closed):
            usable.append((start, end, closed))
    return Coverage(phrases, recorded, _merge(usable))


#: how alike (difflib's ratio) a take's text and a missing phrase must be to count as
#: the same phrase, reworded
SAME_PHRASE = 0.6


def changed_phrases(found: Coverage, voice: RecordedVoice | None) -> dict[str, str]:
    """Missing phrases that look like a reworded take: phrase -> the take's text (a
    script changed since the teacher recorded it; the phrase needs recording again)."""
    import difflib

    if voice is None:
        return {}
    wanted = {p.text for p in found.phrases}
    spare = [text for text in voice.takes() if text not in wanted]
    changed: dict[str, str] = {}
    for phrase in found.missing:
        close = difflib.get_close_matches(phrase.text, spare, n=1, cutoff=SAME_PHRASE)
        if close:
            changed[phrase.text] = close[0]
    return changed


def check_recorded(request: RenderRequest, script: Script, played: Script) -> None:
    """Refuse a length whose phrases a recorded voice does not all have, in one line naming
    the lengths it has fully recorded, unless ``--fill-with`` fills the gaps."""
    from kindvoice.speech.base import engine_class

    spec = voice_spec(request.voice, script.meta)
    if not engine_class(spec.engine).recorded or request.voice.fill_with:
        return
    from kindvoice.speech.recorded_engine import RecordedEngine

    voice = RecordedEngine(spec).voice
    takes = voice.takes()
    missing = [t for t in played.spoken_texts() if t not in takes]
    if not missing:
        return
    length_ms = request.length_ms
    minutes = script.meta.minutes.default if length_ms is None else length_ms / 60_000.0
    found = coverage(request, script, voice)
    has = describe_spans(found.lengths)
    has = f"fully recorded: {has}" if has else "no length is fully recorded yet"
    raise LengthError(
        f'"{script.meta.id}" at {minutes_text(minutes)} minutes needs {len(missing)} phrases '
        f"the recorded voice '{voice.name}' lacks ({has}); see kindvoice record "
        f"{script.meta.id} --voice {voice.name}, or add --fill-with VOICE."
    )


# --- the phrase list to read from, and a folder of takes brought in -------------------


def phrase_script(request: RenderRequest, script: Script) -> str:
    """The phrases of ``script`` as a script to read from: by section, each under the file
    name its take must have, with the lengths that need it when not every length does."""
    found = coverage(request, script, None)
    meta = script.meta
    every = describe_spans([(meta.minutes.min, meta.minutes.max, True)])
    lines = [
        f"# {meta.title}: the phrases to record ({len(found.phrases)})",
        "#",
        "# Record each phrase in a file of its own, named as shown (wav, flac, mp3, m4a, ogg,",
        "# opus or webm), leaving a second of quiet before and after; then:",
        f"#   kindvoice voices import NAME FOLDER --practice {meta.id}",
        f"# Lengths {every}; a phrase marked (only ...) is needed only for those lengths.",
    ]
    section = None
    for phrase in found.phrases:
        if phrase.section != section:
            section = phrase.section
            lines += ["", f"## {section}"]
        only = describe_spans(phrase.spans)
        note = "" if only == every else f"  (only {only})"
        lines += ["", f"{phrase.stem}{note}", f"    {phrase.text}"]
    return "\n".join(lines) + "\n"


@dataclass
class ImportReport:
    """What ``import_folder`` did with each file."""

    added: list[str]  # file names kept as takes
    kept: list[str]  # phrases that had a take already (not replaced)
    refused: list[str]  # "file: reason" lines
    unknown: list[str]  # files named like no phrase


AUDIO_SUFFIXES = frozenset(
    ".wav flac mp3 m4a mp4 aac ogg oga opus webm aif aiff caf wma".replace(" ", " .").split()
)


def import_folder(
    voice: RecordedVoice, folder: Path, texts: dict[str, str], *, replace: bool = False
) -> ImportReport:
    """Clean and keep every audio file of ``folder`` named by a phrase's stem (``texts``:
    stem -> text). A phrase that has a take keeps it unless ``replace``; a file the
    cleaning refuses is reported with its reason, and the others go on."""
    from kindvoice.errors import TakeError, TakeExists

    report = ImportReport([], [], [], [])
    seen: set[str] = set()
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.suffix.lower() not in AUDIO_SUFFIXES:
            continue
        text = texts.get(path.stem)
        if text is None:
            report.unknown.append(path.name)
            continue
        if path.stem in seen:
            report.refused.append(f"{path.name}: another file of this folder has this phrase")
            continue
        seen.add(path.stem)
        if voice.has(text) and not replace:
            report.kept.append(path.name)
            continue
        try:
            voice.record(text, path, replace=replace)
        except (TakeError, TakeExists) as exc:
            report.refused.append(exc.message)
            continue
        report.added.append(path.name)
    return report
