"""Format v2 with the real espeak engine: plan and validate from the command line, and
pronounce: the engine hears the respelling while the transcript keeps the written word."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from kindvoice.export.tags import transcript
from kindvoice.lengths import voice_spec
from kindvoice.pipeline import prepare
from kindvoice.settings import RenderRequest
from kindvoice.speech.synth import synthesize_phrases

from kv_testing import kindvoice

SMALL = """\
---
title: Small v2
minutes: {min: 2, default: 4, max: 9}
pronounce: {metta: "met tah"}
---
## Arriving
[bell]
Welcome to this metta practice.
[pause 2s~20s]

[under 3m]
Let the body settle all at once.
[/under]

[from 6m]
There is time today. Notice the feet, then the hands.
[pause 5s~30s]
[/from]
## Phrases
[repeat 1~8]
[rotate]
May I be kind to myself.
[or]
May I be safe.
[or]
May I be at ease.
[/rotate]
[pause 3s~40s]
[/repeat]
[silence 10s~]
[bell]
"""


def small(tmp_path: Path) -> Path:
    path = tmp_path / "small.md"
    path.write_text(SMALL, encoding="utf-8")
    return path


def test_plan_lists_gated_blocks_in_and_out(tmp_path: Path) -> None:
    path = small(tmp_path)
    short = kindvoice("plan", str(path), "--engine", "pyttsx3", "--minutes", "2.5")
    assert short.code == 0, short.stderr
    assert "line 11: [under 3m] in" in short.stdout
    assert "line 15: [from 6m] out" in short.stdout
    assert "rotate, 3 alternatives in turn" in short.stdout
    assert "Total   2:30.000" in short.stdout
    long = kindvoice("plan", str(path), "--engine", "pyttsx3", "--minutes", "7")
    assert long.code == 0, long.stderr
    assert "line 11: [under 3m] out" in long.stdout
    assert "line 15: [from 6m] in" in long.stdout
    assert "Total   7:00.000" in long.stdout


def test_validate_tries_every_minute_and_names_the_gate(tmp_path: Path) -> None:
    path = small(tmp_path)
    run = kindvoice("validate", str(path), "--engine", "pyttsx3")
    assert run.code == 0, run.stderr
    assert "ok (small, 2 sections)" in run.stdout
    # a [from 5m] block with five and a half fixed minutes: 5 min alone becomes impossible
    holed = tmp_path / "holed.md"
    holed.write_text(
        "---\ntitle: Holed\nminutes: {min: 2, default: 3, max: 8}\n---\nHello.\n"
        "[silence 5s~]\n[from 5m]\n[pause 5m30s]\nStill here.\n[/from]\nGoodbye.\n",
        encoding="utf-8",
    )
    run = kindvoice("validate", str(holed), "--engine", "pyttsx3")
    assert run.code == 3
    problems = [line for line in run.stderr.splitlines() if line.startswith(str(holed))]
    assert len(problems) == 1, run.stderr
    assert problems[0].startswith(f"{holed}:7:1: minutes 5 cannot be met with the [from 5m]")
    assert "5:00 asked" in problems[0]


def test_pronounce_reaches_the_engine_but_not_the_transcript(tmp_path: Path) -> None:
    path = small(tmp_path)
    request = RenderRequest(practice=str(path), output=tmp_path / "x.mp3", length_ms=240_000)
    request = dataclasses.replace(
        request, voice=dataclasses.replace(request.voice, engine="pyttsx3")
    )
    prepared = prepare(request)
    words = transcript(prepared.timeline)
    assert "Welcome to this metta practice." in words
    assert "met tah" not in words
    # the audio under the written line is what the engine makes of the respelling
    spec = voice_spec(request.voice, prepared.script.meta)  # the render's own choice
    said = synthesize_phrases(
        spec, ["Welcome to this met tah practice.", "Welcome to this metta practice."], None
    )
    heard = prepared.phrases["Welcome to this metta practice."]
    assert np.array_equal(heard, said["Welcome to this met tah practice."])
    assert not np.array_equal(heard, said["Welcome to this metta practice."])
    # and each round of the repeat says the next alternative
    rounds = [line for line in words.splitlines() if line.startswith("May I")]
    cycle = ["May I be kind to myself.", "May I be safe.", "May I be at ease."]
    assert len(rounds) == next(iter(prepared.plan.repeat_counts.values()))
    assert rounds == [cycle[n % 3] for n in range(len(rounds))]
    assert prepared.timeline.total == 4 * 60 * 48_000
