"""How long a piece of work has left, from its own progress: the one place every wait of
the web page (a render's page, the Build slider's measuring, a preview, a voice sample, a
course) gets its "about 1 min left" from.

``TimeLeft`` follows a job's fraction done (0 to 1) as the work reports it. Its pace is a
rate (fraction per second) smoothed exponentially over time, so one slow phrase or a
burst of cached ones moves the estimate a little, not all the way; between two reports the
estimate counts down with the clock. The first report that moves (often a jump: the
phrases already in the cache; after the speech workers' start) only sets the starting
point, and nothing is estimated before the work has
run ``MIN_ELAPSED_S`` past it and moved at least ``MIN_GAIN`` further: until then the page
says what is being done and for how long so far.

``left_words`` says a time left in the page's language (Flask-Babel), rounded as a person
would say it: no "about 47 s left" flicker from one poll to the next.
"""

from __future__ import annotations

import math
import threading
import time

from flask_babel import gettext

#: how long the rate remembers, in seconds: a report's weight halves in about 0.7 of it
SMOOTHING_S = 10.0
#: the work must have run this long (s) and moved this much past its first report
MIN_ELAPSED_S = 2.0
MIN_GAIN = 0.02


class TimeLeft:
    """The time left of one piece of work; ``report`` each fraction, read ``seconds``.
    Safe to report from the worker thread while a request thread reads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._first: tuple[float, float] | None = None  # (time s, fraction) of report one
        self._last: tuple[float, float] | None = None
        self._rate: float | None = None  # fraction per second, smoothed

    def report(self, fraction: float, now: float | None = None) -> None:
        """The work is ``fraction`` done at ``now`` (``time.monotonic()`` by default)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            if self._first is None or self._last is None:
                if fraction > 0.0:  # the work has begun to move: starting costs are paid
                    self._first = self._last = (now, fraction)
                return
            last_t, last_f = self._last
            if fraction <= last_f or now <= last_t:
                return  # no news: the countdown between reports goes on
            rate = (fraction - last_f) / (now - last_t)
            if self._rate is None:  # the first real pace: the average since report one
                first_t, first_f = self._first
                self._rate = (fraction - first_f) / max(now - first_t, 1e-6)
            else:  # weighted by the time it covers: a long gap counts more than a blip
                weight = 1.0 - math.exp(-(now - last_t) / SMOOTHING_S)
                self._rate += weight * (rate - self._rate)
            self._last = (now, fraction)

    def seconds(self, now: float | None = None) -> float | None:
        """Seconds left (None: too early to say, or the work is not moving)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            if self._first is None or self._last is None or not self._rate:
                return None
            first_t, first_f = self._first
            last_t, last_f = self._last
            if now - first_t < MIN_ELAPSED_S or last_f - first_f < MIN_GAIN:
                return None
            return max(0.0, (1.0 - last_f) / self._rate - (now - last_t))


def left_words(seconds: float | None) -> str:
    """``seconds`` left as the page says it ("about 2 min left"); "" when unknown. (No
    plural forms: every count said is above one, or has words of its own.)"""
    if seconds is None:
        return ""
    if seconds < 10:
        return str(gettext("a few seconds left"))
    if seconds < 55:
        rounded = max(10, int(5 * round(seconds / 5)))
        return str(gettext("about %(num)d seconds left", num=rounded))
    minutes = max(1, round(seconds / 60))
    if minutes == 1:
        return str(gettext("about a minute left"))
    return str(gettext("about %(num)d min left", num=minutes))
