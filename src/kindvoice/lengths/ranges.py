"""A script's lengths with a voice, its speech measured once and each length only solved.

``range_problems`` is the range check (``validate``, the Write page): can a script be
rendered at every whole minute of its ``minutes`` range? The answer is ``Problem`` values
(file, line, column, text); when a ``[from]`` / ``[under]`` block is what makes a length
impossible, the problem is at that gate. ``feasible_lengths`` is what the Build page's
slider offers: the range a voice can fill at each length asked.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from kindvoice.errors import LengthError
from kindvoice.lengths import (
    Measure,
    Progress,
    Voicing,
    check_bells,
    estimate_speech,
    fit_length,
    measure_speech,
    played_layout,
)
from kindvoice.template.fit import feasible_range
from kindvoice.template.gating import choices
from kindvoice.template.model import Gate, Script


@dataclass(frozen=True)
class Problem:
    """A length a script cannot fill: where (the gate to blame, else the ``minutes`` key)
    and why; ``str()`` is the line ``validate`` prints."""

    file: str
    line: int
    col: int
    text: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.text}"


def range_minutes(low: float, high: float) -> list[float]:
    """The lengths validate tries: the range's ends and every whole minute between."""
    whole = range(math.ceil(low), math.floor(high) + 1)
    return sorted({low, high, *(float(m) for m in whole)})


def range_problems(path: Path, script: Script, voicing: Voicing) -> list[Problem]:
    """The lengths of the ``minutes`` range this script (read from ``path``) cannot fill
    with ``voicing``'s voice; empty when every whole minute works.

    Every phrase, gated blocks included, is synthesized once; each minute is then solved on
    durations only. A length that fails only because of one gate (it works with that gate
    the other way round) is reported at the gate; consecutive minutes failing for the same
    reason are reported once, by their first and last minute. A slow voice on a cold cache
    is not spoken at all: its lengths are the central estimate from the text, and the
    problems say so (a render then measures exactly)."""
    check_bells(script)
    guess = estimate_speech(voicing, script)
    measure = guess.central if guess else measure_speech(voicing, script, lengths_only=True)[0]
    m = script.meta.minutes
    minutes_line = _key_line(path, "minutes")
    failures: list[tuple[float, str, Gate | None]] = []
    for minutes in range_minutes(m.min, m.max):
        length_ms = minutes * 60_000.0
        try:
            fit_length(script, measure, length_ms)
        except LengthError as exc:
            failures.append((minutes, exc.message, _blame(script, measure, length_ms)))

    def label(minutes: float) -> str:
        if minutes == m.min:
            return f"min ({minutes:g})"
        if minutes == m.max:
            return f"max ({minutes:g})"
        return f"{minutes:g}"

    problems: list[Problem] = []
    runs: list[list[tuple[float, str, Gate | None]]] = []
    allowed = range_minutes(m.min, m.max)
    for failure in failures:
        last = runs[-1][-1] if runs else None
        adjacent = last is not None and allowed.index(failure[0]) == allowed.index(last[0]) + 1
        if last is not None and adjacent and failure[2] is last[2]:
            runs[-1].append(failure)
        else:
            runs.append([failure])
    for run in runs:
        first, final = run[0], run[-1]
        gate = first[2]
        where = (
            (gate.pos.file, gate.pos.line, gate.pos.col)
            if gate is not None
            else (str(path), minutes_line, 1)
        )
        cause = ""
        if gate is not None:
            state = "in" if gate.is_open(first[0] * 60_000) else "out"
            cause = f" with the {gate.label} block on line {gate.pos.line} {state}"
        problems.append(
            Problem(*where, f"minutes {label(first[0])} cannot be met{cause}: {first[1]}")
        )
        if final is not first:
            between = f" (nor any whole minute from {first[0]:g})"
            text = f"minutes {label(final[0])} cannot be met{cause}{between}: {final[1]}"
            problems.append(Problem(*where, text))
    return problems


def _blame(script: Script, measure: Measure, length_ms: float) -> Gate | None:
    """The one gate whose other state would make ``length_ms`` possible, if there is one."""
    found = [
        choice.gate
        for choice in choices(script, length_ms)
        if choice.reached and _fits(script, measure, length_ms, frozenset({choice.gate.uid}))
    ]
    return found[0] if len(found) == 1 else None


def _fits(script: Script, measure: Measure, length_ms: float, flip: frozenset[int]) -> bool:
    try:
        fit_length(script, measure, length_ms, flip)
    except LengthError:
        return False
    return True


def _key_line(path: Path, key: str) -> int:
    """The line of a top-level front-matter key (1 when absent or unreadable)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return 1
    rows = enumerate(text.splitlines(), start=1)
    return next((i for i, row in rows if row.startswith(f"{key}:")), 1)


@dataclass(frozen=True)
class Feasible:
    """What a voice can fill of a script (samples): ``fitting`` holds each length asked
    (minutes) that it can meet, with the range that plays there; ``span`` is the script's
    own (the shortest fitting length's low to the longest's high), or when none fits the
    range at its default length; ``voice`` says who spoke (or was estimated)."""

    fitting: list[tuple[float, tuple[int, int | None]]]
    span: tuple[int, int | None]
    voice: str


def feasible_lengths(
    script: Script,
    voicing: Voicing,
    asked_minutes: Sequence[float],
    stop: threading.Event | None = None,
    progress: Progress | None = None,
) -> Feasible:
    """Each length asked solved on phrase durations only: a template with [from]/[under]
    blocks plays different blocks at different lengths, so the range at one length is not
    the range at another. The durations are spoken once (fast voices, or a warm cache) or,
    for a slow voice on a cold cache, estimated from the text: the range is then the long
    estimate's low to the short one's high, inside what the voice can do. ``stop`` ends
    the speech (``errors.SpeechStopped``), also when set before it starts; ``progress``
    hears the phrases spoken (stage "speech")."""
    from kindvoice.errors import SpeechStopped

    guess = estimate_speech(voicing, script)
    if guess is not None:
        long, short = guess.long, guess.short
    else:
        if stop is not None and stop.is_set():
            raise SpeechStopped("Nobody waits for this measurement any more.")
        long = short = measure_speech(voicing, script, progress, stop, lengths_only=True)[0]
    fitting: list[tuple[float, tuple[int, int | None]]] = []
    for asked in asked_minutes:
        try:
            low = feasible_range(fit_length(script, long, asked * 60_000.0)[1])[0]
            high = feasible_range(fit_length(script, short, asked * 60_000.0)[1])[1]
        except LengthError:
            continue
        fitting.append((asked, (low, high)))
    if fitting:  # the script's own span: the shortest length's low, the longest's high
        return Feasible(fitting, (fitting[0][1][0], fitting[-1][1][1]), long.voice_label)
    default_ms = script.meta.minutes.default * 60_000.0  # fitted or not: the layout's range
    anywhere = (
        feasible_range(played_layout(script, long, default_ms)[1])[0],
        feasible_range(played_layout(script, short, default_ms)[1])[1],
    )
    return Feasible(fitting, anywhere, long.voice_label)
