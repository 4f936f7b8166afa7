"""How long a piece of work has left, from its own progress: the one place every wait of
the web page (a render's page, the Build slider's measuring, a preview, a voice sample, a
course) gets its "about 1 min left" from.

``TimeLeft`` follows a job's fraction done (0 to 1) as the work reports it, stage by
stage (speaking, then mixing: each has a pace of its own, and a render's stages weigh
differently for each voice, so one stage's pace says nothing of the next). Its pace is
the fraction done over the last ``WINDOW_S`` seconds (a moving average over time, not over
reports: work that reports in bursts, a block of mixing or a batch of cached phrases at
once, counts for what it did, however many reports it sent), so one slow phrase moves the
estimate a little, not all the way; between two reports the estimate counts down with the
clock. The first report of a stage that moves (often a
jump: the phrases already in the cache; after the speech workers' start) only sets the
starting point, and nothing is estimated before the stage has run ``MIN_ELAPSED_S`` past
it and moved at least ``MIN_GAIN`` further: until then the page says what is being done
and for how long so far. ``seconds`` is the time to the end of the current stage:
``final`` says whether that is the end of the work.

``left_words`` says a time left in the page's language (Flask-Babel), rounded as a person
would say it: no "about 47 s left" flicker from one poll to the next.
"""

from __future__ import annotations

import threading
import time
from collections import deque

from flask_babel import gettext

from kindvoice.web.i18n import N_

#: the pace is the progress over this many seconds (or the stage so far, when shorter)
WINDOW_S = 15.0
#: the stage must have run this long (s) and moved this much past its first report
MIN_ELAPSED_S = 2.0
MIN_GAIN = 0.02


class TimeLeft:
    """The time left of one piece of work; ``report`` each fraction, read ``seconds``.
    Safe to report from the worker thread while a request thread reads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stage = ""
        self._until = 1.0  # the fraction where the current stage ends
        #: (time s, fraction) of the stage's reports that move, over the last WINDOW_S
        self._seen: deque[tuple[float, float]] = deque()
        self._first: tuple[float, float] | None = None  # the stage's first that moved

    @property
    def final(self) -> bool:
        """Whether the current stage is the work's last (``seconds`` is then all left)."""
        return self._until >= 1.0

    def report(
        self, fraction: float, now: float | None = None, stage: str = "", until: float = 1.0
    ) -> None:
        """The work is ``fraction`` done at ``now`` (``time.monotonic()`` by default), in
        ``stage``, which ends at the fraction ``until``."""
        now = time.monotonic() if now is None else now
        with self._lock:
            if stage != self._stage:  # a new stage: a new pace
                self._stage, self._until = stage, until
                self._first = None
                self._seen.clear()
            if self._first is None:
                if fraction > 0.0:  # the stage has begun to move: starting costs are paid
                    self._first = (now, fraction)
                    self._seen.append(self._first)
                return
            if fraction <= self._seen[-1][1]:
                return  # no news: the countdown between reports goes on
            self._seen.append((now, fraction))
            # keep one report from before the window, so the pace spans all of it
            while len(self._seen) > 2 and self._seen[1][0] <= now - WINDOW_S:
                self._seen.popleft()

    def seconds(self, now: float | None = None) -> float | None:
        """Seconds to the end of the current stage (None: too early to say)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            if self._first is None or len(self._seen) < 2:
                return None
            first_t, first_f = self._first
            last_t, last_f = self._seen[-1]
            if now - first_t < MIN_ELAPSED_S or last_f - first_f < MIN_GAIN:
                return None
            then_t, then_f = self._seen[0]
            rate = (last_f - then_f) / max(last_t - then_t, 1e-6)
            return max(0.0, (self._until - last_f) / rate - (now - last_t))


#: how a time left is said: the work's, or its step's (few seconds, seconds, a minute, min)
_WORDS = {
    True: (
        N_("a few seconds left"),
        N_("about %(num)d seconds left"),
        N_("about a minute left"),
        N_("about %(num)d min left"),
    ),
    False: (
        N_("a few seconds left for this step"),
        N_("about %(num)d seconds left for this step"),
        N_("about a minute left for this step"),
        N_("about %(num)d min left for this step"),
    ),
}


def left_words(seconds: float | None, final: bool = True) -> str:
    """``seconds`` left as the page says it ("about 2 min left"; "... for this step" when
    it is not the work's last step); "" when unknown. (No plural forms: every count said
    is above one, or has words of its own.)"""
    if seconds is None:
        return ""
    few, some_seconds, a_minute, some_minutes = _WORDS[final]
    minutes = max(1, round(seconds / 60))
    if seconds < 10:
        return str(gettext(few))
    if seconds < 55:
        return str(gettext(some_seconds, num=max(10, int(5 * round(seconds / 5)))))
    if minutes == 1:
        return str(gettext(a_minute))
    return str(gettext(some_minutes, num=minutes))
