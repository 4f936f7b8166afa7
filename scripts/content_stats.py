"""Print what a listener hears in practice scripts at their minimum, default and maximum
lengths: spoken words, words a minute, speech time, the longest stretch without speech.

    python scripts/content_stats.py [TEMPLATE_OR_ID ...] [--engine kokoro] [--minutes 7]

With no template, every bundled practice. Phrases go through the phrase cache, so a
second run is fast; the figures come from the timeline (nothing is mixed or encoded).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from kindvoice.errors import KindvoiceError
from kindvoice.pipeline import prepare
from kindvoice.settings import RenderRequest, VoiceSettings
from kindvoice.stats import speech_stats
from kindvoice.template.library import bundled_dir, resolve_practice
from kindvoice.template.parse import load_template


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("templates", nargs="*", help="template files or practice ids")
    parser.add_argument("--engine", default=None, help="speech engine (default: the default)")
    parser.add_argument("--voice", default=None)
    parser.add_argument("--minutes", type=float, action="append", help="lengths to check")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    names = args.templates or [
        str(p) for p in sorted(bundled_dir().glob("*.md")) if p.stem != "TEMPLATE_FORMAT"
    ]
    voice = (
        VoiceSettings(voice=args.voice)
        if args.engine is None
        else VoiceSettings(engine=args.engine, voice=args.voice)
    )
    print(f"{'practice':32} {'min':>5} {'words':>6} {'w/min':>6} {'speech':>7} {'silence':>8}")
    for name in names:
        try:
            path = resolve_practice(name, None)
            meta = load_template(path).meta
            lengths = args.minutes or sorted(
                {meta.minutes.min, meta.minutes.default, meta.minutes.max}
            )
            for minutes in lengths:
                prepared = prepare(RenderRequest(name, Path("unused.mp3"), minutes, voice=voice))
                s = speech_stats(prepared)
                print(
                    f"{meta.id:32} {minutes:5g} {s.words:6d} {s.words_per_minute:6.1f}"
                    f" {s.speech_s / 60:6.1f}m {s.longest_silence_s / 60:7.1f}m"
                )
        except KindvoiceError as exc:
            print(f"{name}: {exc.message}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
