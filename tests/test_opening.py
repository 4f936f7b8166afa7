"""An opening render (``RenderRequest.opening_only``, a card preview) with the default Kokoro
voice speaks only the phrases its first seconds play, on a cold phrase cache, and is still
exactly as long as asked, with speech where the timeline puts it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from mutagen.mp3 import MP3

from kindvoice.audio import SAMPLE_RATE
from kindvoice.pipeline import render
from kindvoice.settings import ExportSettings, RenderRequest
from kindvoice.template.library import bundled_dir
from kindvoice.template.parse import load_template

from kv_testing import decode, spoken_phrases

pytestmark = pytest.mark.slow

SECONDS = 12.0


def test_an_opening_speaks_only_what_it_plays(
    own_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KINDVOICE_ENGINE", raising=False)  # the default voice: Kokoro
    path = bundled_dir() / "self-compassion-break.md"
    script = load_template(path)
    out = tmp_path / "opening.mp3"
    request = RenderRequest(
        practice=str(path),
        output=out,
        length_ms=script.meta.minutes.min * 60_000.0,
        limit_seconds=SECONDS,
        opening_only=True,
        export=ExportSettings(mono=True, bitrate_kbps=32),
        workers=1,
    )
    result = render(request)
    stop = round(SECONDS * SAMPLE_RATE)
    assert result.total_samples == stop
    assert MP3(out).info.length == pytest.approx(SECONDS, abs=0.05)

    timeline = result.prepared.timeline
    opening = [e for e in timeline.speech if e.start < stop]
    later = {e.text for e in timeline.speech if e.start >= stop}
    assert opening and later  # the session goes on past the opening
    spoken = spoken_phrases(own_cache)
    # those, and nothing after: each kept plain and shaped to its level (Kokoro shapes)
    assert len(spoken) == 2 * len({e.text for e in opening})
    assert len(spoken) < len(script.phrases()) / 3

    audio = decode(out, channels=1)
    first = opening[0]  # the first phrase sounds where the timeline places it
    rms_before = float(np.sqrt(np.mean(audio[first.start - SAMPLE_RATE : first.start] ** 2)))
    end = min(first.end, stop)
    rms_during = float(np.sqrt(np.mean(audio[first.start : end] ** 2)))
    assert rms_during > 4 * rms_before
