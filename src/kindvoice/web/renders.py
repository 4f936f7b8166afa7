"""What the web page's jobs actually do: render a session, a timer, a course or a preview
clip into the library, and work out the feasible length range for the build form's slider.

Each ``*_work`` function returns a job body for ``JobQueue.submit``: it takes the
progress callback and returns where the result is (a session stem or a preview's file
name). Sessions get their sidecars (``export.sidecars``, committed with the audio as one
set, with its stamp) and then a ``.session.json`` holding
the chapters and cues from the timeline, so the player works even without the .vtt.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kindvoice.audio import SAMPLE_RATE
from kindvoice.errors import RangeCancelled
from kindvoice.settings import RenderRequest
from kindvoice.web.sessions import Library, stem_for

if TYPE_CHECKING:
    from kindvoice.pipeline import RenderResult
    from kindvoice.publish.course import CoursePlan
    from kindvoice.timer import TimerSpec
    from kindvoice.web.jobs import Progress

log = logging.getLogger(__name__)

SLIDER_STEP_MIN = 0.5


def _seconds(samples: int) -> float:
    return round(samples / SAMPLE_RATE, 3)


def _record(library: Library, stem: str, result: RenderResult, info: dict[str, Any]) -> str:
    """Write the session's meta file (the render committed the sidecars with the audio)."""
    from kindvoice.export.sidecars import timeline_cues

    prepared = result.prepared
    timeline, meta = prepared.timeline, prepared.script.meta
    title = str(info.get("name") or meta.title)  # the name the teacher gave it, if any
    library.save_meta(
        stem,
        {
            **info,
            "title": title,
            "summary": meta.summary,
            "practice": meta.id,
            "language": meta.language,
            "audio": result.path.name,
            "seconds": _seconds(result.total_samples),
            "background": prepared.background,
            "voice": prepared.engine_label,
            "size_bytes": result.size_bytes,
            "chapters": [
                {"title": c.title, "start": _seconds(c.start), "end": _seconds(c.end)}
                for c in timeline.chapters
            ],
            "cues": [
                {"start": _seconds(c.start), "end": _seconds(c.end), "text": c.text}
                for c in timeline_cues(timeline)
            ],
        },
    )
    return stem


def session_work(
    library: Library, request: RenderRequest, practice_id: str, info: dict[str, Any]
) -> Callable[[Progress], str]:
    """A job that renders ``request`` into the library (its ``output`` gives the format)."""

    def work(progress: Progress) -> str:
        import time

        from kindvoice.pipeline import render

        seconds = (request.length_ms or 0.0) / 1000.0
        stem = stem_for(practice_id, seconds)
        name = info.get("name")  # the teacher's name for it: in the tags and sidecars too
        target = replace(
            request,
            output=library.root / f"{stem}{request.output.suffix}",
            title=str(name) if name else None,
            sidecars=True,  # one set
        )
        result = render(target, progress=progress)
        return _record(library, stem, result, {**info, "kind": "session", "created": time.time()})

    return work


def timer_work(
    library: Library, spec: TimerSpec, request: RenderRequest, info: dict[str, Any]
) -> Callable[[Progress], str]:
    """A job that renders a meditation timer into the library."""

    def work(progress: Progress) -> str:
        import time

        from kindvoice.timer import render_timer

        stem = stem_for("timer", spec.minutes * 60.0)
        target = replace(request, output=library.root / f"{stem}{request.output.suffix}")
        result, _ = render_timer(spec, replace(target, sidecars=True), progress)
        return _record(library, stem, result, {**info, "kind": "timer", "created": time.time()})

    return work


def course_work(
    library: Library, plan: CoursePlan, templates_dir: Path | None, workers: int
) -> Callable[[Progress], str]:
    """A job that builds a course into a new ``courses/<slug>`` folder of the library
    (``publish.course.build_course``); returns the slug. Fails if any session failed."""

    def work(progress: Progress) -> str:
        from kindvoice.publish.batch import check_outcomes
        from kindvoice.publish.course import build_course
        from kindvoice.publish.executors import LocalBackend

        folder = library.new_course_folder(plan.title)
        progress("sessions", 0, plan.count)  # planning measures the speech first
        result = build_course(
            plan,
            folder,
            templates_dir=templates_dir,
            backend=LocalBackend(workers),
            progress=lambda done, total: progress("sessions", done, total),
        )
        check_outcomes(result.outcomes)
        return folder.name

    return work


def preview_work(
    library: Library, name: str, path: Path, templates_dir: Path | None
) -> Callable[[Progress], str]:
    """A job that renders a practice's card preview (``web.shipped.preview_request``: the
    first ``shipped.PREVIEW_SECONDS`` of the session at its shortest, speaking only the phrases
    they play) as ``previews/<name>``; returns the file name."""

    def work(progress: Progress) -> str:
        from kindvoice.web.shipped import drop_older, render_preview

        target = library.previews / name
        if target.is_file():
            return target.name
        target.parent.mkdir(parents=True, exist_ok=True)
        render_preview(path, target, progress=progress, templates_dir=templates_dir)
        drop_older(target)  # the clip of the script before its last edit
        return target.name

    return work


#: bump when an answer of ``RangeCache`` changes shape or meaning (old files are ignored)
RANGE_VERSION = 2  # 2: the guiding pace; a slow voice's range estimated


class RangeCache:
    """Feasible lengths per practice file (and its digest), engine, voice and rate:
    measuring speaks every phrase (seconds on a cold phrase cache), so each answer is kept,
    in memory and as a small JSON file in the cache folder (``ranges/``, beside the phrase
    cache), so a second ask for the same voice and pace is answered at once, after a
    restart too.

    The page waits on a measurement as on any job (``measure_work``: its progress and
    time left in the job's state). A measurement under way stops when its ``stop`` is set
    (its job cancelled: the page switched engine, voice, pace or practice, or was left):
    its speech workers are stopped (even while they start), ``get`` raises
    ``RangeCancelled``, and the phrases spoken so far stay in the phrase cache."""

    def __init__(self, templates_dir: Path | None = None) -> None:
        self.templates_dir = templates_dir
        self._answers: dict[tuple[Any, ...], dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._key_locks: dict[tuple[Any, ...], threading.Lock] = {}
        self._running: dict[tuple[Any, ...], threading.Event] = {}  # key -> its cancel flag

    @staticmethod
    def _key(path: Path, engine: str, voice: str | None, rate: float) -> tuple[Any, ...]:
        # keyed by the template's digest: a file saved again unchanged keeps its answer
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        return (str(path), digest, engine, voice or "", round(rate, 3))

    def known(
        self, path: Path, engine: str, voice: str | None, rate: float
    ) -> dict[str, Any] | None:
        """The answer when it is kept (in memory or on disk), else None: nothing measured."""
        key = self._key(path, engine, voice, rate)
        with self._lock:
            if key in self._answers:
                return self._answers[key]
        answer = self._read(self._stored(key[1:]))
        if answer is not None:
            with self._lock:
                self._answers[key] = answer
        return answer

    def get(
        self,
        path: Path,
        engine: str,
        voice: str | None,
        rate: float,
        progress: Progress | None = None,
        stop: threading.Event | None = None,
    ) -> dict[str, Any]:
        """The answer, measured when it is not kept: ``progress`` hears the phrases
        spoken; ``stop`` ends the measuring with ``RangeCancelled``."""
        key = self._key(path, engine, voice, rate)
        with self._lock:
            if key in self._answers:
                return self._answers[key]
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:  # two pages asking at once measure once
            if key not in self._answers:
                stored = self._stored(key[1:])
                answer = self._read(stored)
                if answer is None:
                    cancelled = stop or threading.Event()
                    with self._lock:
                        self._running[key] = cancelled
                    try:
                        answer = self._measure(path, engine, voice, rate, cancelled, progress)
                    finally:
                        with self._lock:
                            self._running.pop(key, None)
                    self._write(stored, answer)
                with self._lock:
                    self._answers[key] = answer
        return self._answers[key]

    def measuring(self) -> int:
        """How many measurements are under way."""
        with self._lock:
            return len(self._running)

    @staticmethod
    def _stored(key: tuple[Any, ...]) -> Path:
        from kindvoice.speech.cache import default_root

        name = hashlib.sha256(json.dumps([RANGE_VERSION, *key]).encode()).hexdigest()[:32]
        return default_root().parent / "ranges" / f"{name}.json"

    @staticmethod
    def _read(path: Path) -> dict[str, Any] | None:
        try:
            answer = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return answer if isinstance(answer, dict) else None

    @staticmethod
    def _write(path: Path, answer: dict[str, Any]) -> None:
        from kindvoice.files import write_atomic

        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, json.dumps(answer))
        except OSError as exc:  # the answer stays in memory; the page works on
            log.warning("cannot keep the range in %s: %s", path, exc)

    def _measure(
        self,
        path: Path,
        engine: str,
        voice: str | None,
        rate: float,
        cancelled: threading.Event | None = None,
        progress: Progress | None = None,
    ) -> dict[str, Any]:
        """The range this voice can fill at each slider step
        (``lengths.ranges.feasible_lengths``: the speech measured once, or estimated for a
        slow voice on a cold cache) and the slider's bounds."""
        from kindvoice.errors import SpeechStopped
        from kindvoice.lengths import Voicing
        from kindvoice.lengths.ranges import feasible_lengths
        from kindvoice.settings import VoiceSettings
        from kindvoice.template.parse import load_template

        script = load_template(path)
        minutes = script.meta.minutes
        voicing = Voicing(VoiceSettings(engine=engine, voice=voice, rate=rate))
        steps = slider_steps(minutes.min, minutes.max)
        try:  # the speech workers stop within a quarter second of a cancel
            found = feasible_lengths(script, voicing, steps, cancelled, progress)
        except SpeechStopped:
            raise RangeCancelled("Nobody waits for this measurement any more.") from None
        fitting = found.fitting
        low, high = found.span
        if fitting:  # the lengths it is written for that this voice can meet
            bounds = {"min": fitting[0][0], "max": fitting[-1][0], "step": SLIDER_STEP_MIN}
        else:  # none fits this voice: offer what it can fill
            high_min = None if high is None else high / SAMPLE_RATE / 60.0
            bounds = slider_bounds(low / SAMPLE_RATE / 60.0, high_min, minutes.min, minutes.max)
        return {
            "low_s": _seconds(low),
            "high_s": None if high is None else _seconds(high),
            "voice": found.voice,
            **bounds,
        }


def measure_work(
    ranges: RangeCache, path: Path, engine: str, voice: str | None, rate: float
) -> Callable[[Progress], str]:
    """A job that measures the Build slider's range into ``ranges`` (the page then asks
    for the answer again, kept); the job's cancel flag stops it."""

    def work(progress: Progress) -> str:
        from kindvoice.speech.synth import AMBIENT_STOP

        ranges.get(path, engine, voice, rate, progress, AMBIENT_STOP.get())
        return ""

    return work


def slider_steps(low: float, high: float) -> list[float]:
    """The lengths the slider can land on between the template's ``low`` and ``high``."""
    step = SLIDER_STEP_MIN
    first = math.ceil(low / step - 1e-9)
    last = math.floor(high / step + 1e-9)
    return sorted({low, high, *(n * step for n in range(first, last + 1))})


def slider_bounds(
    low_min: float, high_min: float | None, template_min: float, template_max: float
) -> dict[str, float]:
    """The slider's ends (minutes, on ``SLIDER_STEP_MIN`` steps): the lengths the
    template is written for, narrowed to what this voice can fill."""
    step = SLIDER_STEP_MIN
    feasible_lo = math.ceil(low_min / step - 1e-9) * step
    feasible_hi = None if high_min is None else math.floor(high_min / step + 1e-9) * step
    lo = max(feasible_lo, template_min)
    hi = template_max if feasible_hi is None else min(feasible_hi, template_max)
    if lo > hi:  # the voice cannot fill the template's own range: offer what it can
        lo = feasible_lo
        hi = max(lo, feasible_hi if feasible_hi is not None else template_max)
    return {"min": lo, "max": hi, "step": step}
