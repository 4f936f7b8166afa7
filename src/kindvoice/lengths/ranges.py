"""The range check (``validate``, the Write page): can a script be rendered at every
whole minute of its ``minutes`` range with a voice? The speech is measured once and each
minute is only solved, so the check stays cheap. The answer is ``Problem`` values (file,
line, column, text); when a ``[from]`` / ``[under]`` block is what makes a length
impossible, the problem is at that gate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from kindvoice.errors import LengthError
from kindvoice.lengths import (
    Measure,
    Voicing,
    check_bells,
    estimate_speech,
    fit_length,
    measure_speech,
)
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
    measure = guess.central if guess else measure_speech(voicing, script)[0]
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
