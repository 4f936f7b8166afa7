"""The naive way to build a meditation track, as small generators do it (a baseline).

    python scripts/naive_baseline.py PRACTICE MINUTES OUT.mp3 [--engine pyttsx3]

It uses kindvoice only to find out what to say and when (the same timeline as a real
render, from the warm phrase cache), then builds the track the typical way: pydub
``+=`` segment after segment, the background looped with ``*`` and ``overlay``-ed on the
whole track, and ``export()`` through ffmpeg (the binary from imageio-ffmpeg). No
loudness work, no limiter, no tags. ``scripts/bench.py`` times it against ``build``.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import imageio_ffmpeg
import numpy as np

from kindvoice.audio import SAMPLE_RATE
from kindvoice.mix.mixer import to_segment
from kindvoice.pipeline import prepare
from kindvoice.settings import RenderRequest, VoiceSettings
from kindvoice.sound.beds import make_bed
from kindvoice.sound.bells import render_bell

with warnings.catch_warnings():
    warnings.simplefilter("ignore", RuntimeWarning)
    from pydub import AudioSegment


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("practice")
    parser.add_argument("minutes", type=float)
    parser.add_argument("output", type=Path)
    parser.add_argument("--engine", default="pyttsx3")
    args = parser.parse_args()

    request = RenderRequest(
        practice=args.practice,
        output=args.output,
        minutes=args.minutes,
        voice=VoiceSettings(engine=args.engine),
    )
    prepared = prepare(request)
    timeline = prepared.timeline

    # the track grows by += : silence up to each sound, then the sound
    track = AudioSegment.silent(duration=0, frame_rate=SAMPLE_RATE).set_channels(2)
    track = track.set_sample_width(2)
    cursor = 0
    for event in timeline.events:
        if event.kind == "cue":
            continue
        gap_ms = (event.start - cursor) * 1000 // SAMPLE_RATE
        if gap_ms > 0:
            track += AudioSegment.silent(duration=gap_ms, frame_rate=SAMPLE_RATE).set_channels(2)
        if event.kind == "speech":
            audio = prepared.phrases[event.key]
        else:
            audio = render_bell(event.key, event.strikes, 0.5)
        track += to_segment(np.asarray(audio) * 0.5, 2).set_sample_width(2)
        cursor = event.start + event.length
    end_ms = (timeline.total - cursor) * 1000 // SAMPLE_RATE
    track += AudioSegment.silent(duration=end_ms, frame_rate=SAMPLE_RATE).set_channels(2)

    # a one-minute background loop, repeated and overlaid 20 dB down
    loop = to_segment(make_bed("brown").render(60 * SAMPLE_RATE) * 0.1, 2).set_sample_width(2)
    repeats = int(len(track) / len(loop)) + 1
    track = track.overlay((loop * repeats)[: len(track)] - 20)

    AudioSegment.converter = imageio_ffmpeg.get_ffmpeg_exe()
    track.export(str(args.output), format="mp3", bitrate="128k")


if __name__ == "__main__":
    main()
