"""The meditation timer (``kindvoice timer``): an unguided sitting with bells on time.

The timer is a ``Script`` built in code (the IR a template parses to), rendered by
``pipeline.render(request, script=...)``, so it gets the same mixing, mastering, tags and
atomic output as every practice. Only fixed pauses sit between the bells, computed so
each bell strikes on its time. The schedule, in samples at the house rate:

- the opening bell strikes at the end of the warm-up (``--warmup``). With no warm-up it
  strikes after the mixer's lead-in (3 s, so the track never starts on a strike), or,
  with a welcome and no warm-up, 2 s after the welcome ends;
- interval bells at opening + k * interval (``--interval``) or opening + each ``--at``;
- the closing bell at opening + minutes (``--minutes`` is the sitting time between the
  opening and the closing bell);
- the file ends when the closing bell has rung out, plus the mixer's tail.

A ``[bell]`` occupies its ring-out on the timeline (``bell_duration_samples``) and a
pause is whole milliseconds, so a pause cannot always end on the exact sample. Each pause
is therefore rounded down from the bell's *scheduled* time (never from the previous
bell's actual one): every bell strikes at most 1 ms (48 samples) early, errors never
accumulate, and an elastic pause of under 1 ms after the closing bell makes the file's
total exact to the sample.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from kindvoice.audio import SAMPLE_RATE, ms_to_samples, samples_to_s
from kindvoice.durations import clock
from kindvoice.errors import UsageError
from kindvoice.settings import RenderRequest
from kindvoice.template.model import Bell, Meta, Node, Pause, Pos, Script, Section, Speech

if TYPE_CHECKING:
    from kindvoice.pipeline import Progress, RenderResult

log = logging.getLogger(__name__)

SOURCE = "<timer>"
OPENING_STRIKES = 3  # as the bundled ``timer`` practice: [bell 3] to open, [bell] to close
INTERVAL_STRIKES = 1
CLOSING_STRIKES = 1
WELCOME_DELAY_MS = 2000  # the welcome starts this far into the warm-up
WELCOME_GAP_MS = 2000  # at least this much quiet between the welcome and the opening bell
_SAMPLES_PER_MS = SAMPLE_RATE // 1000


def clock_ms(ms: float) -> str:
    """A time as m:ss (tenths when not whole seconds), for messages: ``19:49.9``."""
    return clock(ms_to_samples(ms), 1, trim=True)


@dataclass(frozen=True)
class TimerSpec:
    """What the listener asked for. Times are milliseconds; ``at_ms`` are offsets from the
    opening bell. ``interval_ms`` and ``at_ms`` exclude each other."""

    minutes: float
    warmup_ms: int = 0
    interval_ms: int | None = None
    at_ms: tuple[int, ...] = ()
    bell: str = "bowl"
    welcome: str = ""


@dataclass(frozen=True)
class Schedule:
    """Where the bells strike (samples from the start of the file), and the total."""

    bells: tuple[int, ...]  # opening, interval bells, closing: the scheduled first strikes
    total: int

    @property
    def opening(self) -> int:
        return self.bells[0]


def timer_meta() -> Meta:
    """The bundled ``timer`` practice's front matter (title, summary, lengths, voice rate)."""
    from kindvoice.template.library import bundled_dir
    from kindvoice.template.parse import load_template

    return load_template(bundled_dir() / "timer.md").meta


def interval_offsets_ms(spec: TimerSpec, meta: Meta) -> list[int]:
    """The interval bells' offsets from the opening bell (ms), checked: each one clear of
    the bell before it and of the closing bell, and the welcome within the phrase limit.
    Raises ``UsageError`` naming the range."""
    from kindvoice.sound.bells import bell_duration_samples
    from kindvoice.template.limits import MAX_PHRASE_WORDS

    words = len(spec.welcome.split())
    if words > MAX_PHRASE_WORDS:  # checked before the welcome is spoken to measure it
        raise UsageError(
            f"--welcome is {words:,} words long; one phrase holds at most "
            f"{MAX_PHRASE_WORDS:,}: shorten it."
        )
    sitting_ms = round(spec.minutes * 60_000)
    low, high = meta.minutes.min, meta.minutes.max
    if not low <= spec.minutes <= high:
        raise UsageError(f"--minutes must be between {low:g} and {high:g}; got {spec.minutes:g}.")
    if spec.interval_ms is not None and spec.at_ms:
        raise UsageError("Give --interval or --at, not both.")
    # ring-outs in ms, rounded up: a bell needs this long before the next may strike
    opening_ms = math.ceil(bell_duration_samples(spec.bell, OPENING_STRIKES) / _SAMPLES_PER_MS)
    ring_ms = math.ceil(bell_duration_samples(spec.bell, INTERVAL_STRIKES) / _SAMPLES_PER_MS)
    latest = sitting_ms - ring_ms  # an interval bell must have rung out by the closing bell
    if spec.interval_ms is not None:
        offsets = _every(spec.interval_ms, sitting_ms, latest)
    else:
        offsets = _at(spec, sitting_ms, latest, ring_ms)
    _check_spacing(offsets, sitting_ms, opening_ms, ring_ms)
    return offsets


def _every(interval_ms: int, sitting_ms: int, latest: int) -> list[int]:
    """``--interval``: a bell every ``interval_ms`` that rings out before ``latest``."""
    if not 0 < interval_ms < sitting_ms:
        raise UsageError(
            f"--interval {clock_ms(interval_ms)} must be shorter than the sitting "
            f"({clock_ms(sitting_ms)}) and above 0."
        )
    offsets = list(range(interval_ms, latest + 1, interval_ms))
    dropped = (len(offsets) + 1) * interval_ms
    if dropped < sitting_ms:  # (a bell due exactly at the closing bell is the closing bell)
        log.info("no interval bell at %s: it would ring into the closing bell", clock_ms(dropped))
    return offsets


def _at(spec: TimerSpec, sitting_ms: int, latest: int, ring_ms: int) -> list[int]:
    """``--at``: the bells at the times given, each inside the sitting and rung out
    before the closing bell."""
    offsets = sorted(set(spec.at_ms))
    for at in offsets:
        if not 0 < at < sitting_ms:
            raise UsageError(
                f"--at {clock_ms(at)} is outside the sitting: interval bells fall between "
                f"0:00 and {clock_ms(sitting_ms)} (exclusive), counted from the opening bell."
            )
        if at > latest:
            raise UsageError(
                f"--at {clock_ms(at)} would ring into the closing bell: the {spec.bell} rings "
                f"for {ring_ms / 1000:.1f} s, so the last interval bell can be at "
                f"{clock_ms(latest)}."
            )
    return offsets


def _check_spacing(offsets: list[int], sitting_ms: int, opening_ms: int, ring_ms: int) -> None:
    """Each bell clear of the one before it (the opening bell rings ``opening_ms``, an
    interval bell ``ring_ms``), and the closing bell clear of the last."""
    previous, previous_ring = 0, opening_ms
    for at in offsets:
        if at - previous < previous_ring:
            what = "opening bell" if previous == 0 else f"bell at {clock_ms(previous)}"
            raise UsageError(
                f"The bell at {clock_ms(at)} comes {clock_ms(at - previous)} after the {what}, "
                f"which rings for {previous_ring / 1000:.1f} s; space the bells further apart."
            )
        previous, previous_ring = at, ring_ms
    if sitting_ms - previous < previous_ring:
        raise UsageError(
            f"The sitting ({clock_ms(sitting_ms)}) is shorter than the opening bell, which "
            f"rings for {previous_ring / 1000:.1f} s."
        )


class _Builder:
    """Collects nodes with fresh uids and positions, and tracks the time they fill."""

    def __init__(self, start_samples: int) -> None:
        self.position = start_samples
        self._next = 0
        self.nodes: list[Node] = []

    def _pos(self) -> tuple[int, Pos]:
        self._next += 1
        return self._next, Pos(SOURCE, self._next, 1)

    def pause_ms(self, ms: int) -> None:
        uid, pos = self._pos()
        self.nodes.append(Pause(uid, pos, ms, ms))
        self.position += ms_to_samples(ms)

    def pause_until(self, target_samples: int) -> None:
        """A fixed pause ending on ``target_samples``, or up to 1 ms (48 samples) before
        it: pauses are whole milliseconds."""
        self.pause_ms((target_samples - self.position) // _SAMPLES_PER_MS)

    def bell(self, kind: str, strikes: int) -> None:
        from kindvoice.sound.bells import bell_duration_samples

        uid, pos = self._pos()
        self.nodes.append(Bell(uid, pos, kind, strikes))
        self.position += bell_duration_samples(kind, strikes)

    def speech(self, text: str, samples: int) -> None:
        uid, pos = self._pos()
        self.nodes.append(Speech(uid, pos, text))
        self.position += samples

    def slack(self) -> None:
        """An elastic pause (at least 0): the length solver puts the last few samples here."""
        uid, pos = self._pos()
        self.nodes.append(Pause(uid, pos, 0, None))

    def section(self, title: str) -> Section:
        body, self.nodes = tuple(self.nodes), []
        return Section(title, Pos(SOURCE, self._next + 1, 1), body)


def build_timer(
    spec: TimerSpec,
    meta: Meta,
    offsets_ms: list[int],
    *,
    welcome_samples: int,
    lead_in_samples: int,
    tail_samples: int,
) -> tuple[Script, Schedule]:
    """The timer as a ``Script``, and the schedule its bells keep (see the module
    docstring for the rule). ``welcome_samples`` is the spoken welcome's length;
    ``lead_in_samples`` must be 0 when there is a warm-up (the warm-up replaces it)."""
    from kindvoice.sound.bells import bell_duration_samples

    welcome = " ".join(spec.welcome.split())
    sections: list[Section] = []
    b = _Builder(lead_in_samples)
    if spec.warmup_ms > 0:
        if lead_in_samples:
            raise ValueError("a warm-up replaces the lead-in: pass lead_in_samples=0")
        opening = ms_to_samples(spec.warmup_ms)
        if welcome:
            needed = ms_to_samples(WELCOME_DELAY_MS + WELCOME_GAP_MS) + welcome_samples
            if needed > opening:
                raise UsageError(
                    f"The welcome takes {samples_to_s(welcome_samples):.1f} s; with "
                    f"{WELCOME_DELAY_MS // 1000} s before and {WELCOME_GAP_MS // 1000} s after "
                    f"it, the warm-up needs at least {math.ceil(samples_to_s(needed))} s "
                    f"(--warmup {math.ceil(samples_to_s(needed))}s)."
                )
            b.pause_ms(WELCOME_DELAY_MS)
            b.speech(welcome, welcome_samples)
        b.pause_until(opening)
        sections.append(b.section("Warm-up"))
    else:
        if welcome:
            b.speech(welcome, welcome_samples)
            b.pause_ms(WELCOME_GAP_MS)
            sections.append(b.section("Warm-up"))
        opening = b.position

    sitting = round(spec.minutes * 60_000) * _SAMPLES_PER_MS
    bells = [opening, *(opening + at * _SAMPLES_PER_MS for at in offsets_ms), opening + sitting]
    b.bell(spec.bell, OPENING_STRIKES)
    for target in bells[1:-1]:
        b.pause_until(target)
        b.bell(spec.bell, INTERVAL_STRIKES)
    b.pause_until(bells[-1])
    sections.append(b.section("Sitting"))
    b.bell(spec.bell, CLOSING_STRIKES)
    b.slack()
    sections.append(b.section("Closing"))

    total = bells[-1] + bell_duration_samples(spec.bell, CLOSING_STRIKES) + tail_samples
    title = f"{meta.title} ({spec.minutes:g} min)"
    script = Script(replace(meta, title=title), tuple(sections), SOURCE, {"welcome": welcome})
    return script, Schedule(tuple(bells), total)


def _welcome_samples(text: str, request: RenderRequest, meta: Meta) -> int:
    """The spoken welcome's length: synthesized now (and cached, so the render reuses it)."""
    from kindvoice.lengths import voice_spec
    from kindvoice.speech.cache import PhraseCache
    from kindvoice.speech.synth import synthesize_phrases

    engine = voice_spec(request.voice, meta)  # the same choice as the render's
    cache = PhraseCache() if request.use_cache else None
    return len(synthesize_phrases(engine, [text], cache, request.workers)[text])


def render_timer(
    spec: TimerSpec,
    request: RenderRequest,
    progress: Progress | None = None,
) -> tuple[RenderResult, Schedule]:
    """Render the timer to ``request.output`` through ``pipeline.render``; returns the
    ``RenderResult`` and the schedule the bells keep. ``request.practice`` and
    ``request.length_ms`` are ignored (the schedule decides the length)."""
    from kindvoice import pipeline

    meta = timer_meta()
    offsets = interval_offsets_ms(spec, meta)
    welcome = " ".join(spec.welcome.split())
    welcome_samples = _welcome_samples(welcome, request, meta) if welcome else 0
    mix = replace(request.mix, lead_in_ms=0) if spec.warmup_ms > 0 else request.mix
    script, schedule = build_timer(
        spec,
        meta,
        offsets,
        welcome_samples=welcome_samples,
        lead_in_samples=ms_to_samples(mix.lead_in_ms),
        tail_samples=ms_to_samples(mix.tail_ms),
    )
    length_ms = schedule.total / _SAMPLES_PER_MS  # exact: the schedule's last sample
    timed = replace(request, practice=SOURCE, length_ms=length_ms, mix=mix)
    result = pipeline.render(timed, progress, script=script)
    # the timeline is the truth: every bell within 1 ms before its time, the total exact
    struck = [e.start for e in result.prepared.timeline.events if e.kind == "bell"]
    on_time = len(struck) == len(schedule.bells) and all(
        -_SAMPLES_PER_MS < s - t <= 0 for s, t in zip(struck, schedule.bells, strict=True)
    )
    if not on_time or result.total_samples != schedule.total:
        raise AssertionError(f"timer off schedule: bells {struck}, scheduled {schedule}")
    return result, schedule
