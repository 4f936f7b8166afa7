"""Time to a playing card preview on a cold library, with the default voice (issue 23 §2):
from the page asking for a card's preview until its audio URL answers with the clip.

    .venv/bin/python scripts/bench_preview.py [--practice ID ...] [--language L]
        [--job] [--whole]

Each practice is asked for in a fresh app (its own library, an empty phrase cache),
through Flask's test client, as the page asks: ``POST /api/previews/<id>``, then (for a
job) its state polled every 0.2 s, then ``GET`` of the URL. By default the clips shipped
with the package answer; ``--job`` hides them (an empty shipped folder), so the preview
job renders the opening on a cold cache (run it under ``flock /work/kokoro.lock nice -n
5``); ``--whole`` makes the job speak the whole practice first, as before the opening
render (for comparison; minutes of Kokoro). Prints wall seconds, and CPU seconds of this
process and of its speech workers.
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

log = logging.getLogger("bench_preview")

DEFAULT_PRACTICES = ["one-minute-break", "soothing-touch", "self-compassion-break"]


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def ask(client: Any, token: str, practice: str, language: str | None) -> tuple[str, bool]:
    """The page's preview tap: the clip's URL once it answers, and whether a job ran."""
    query = f"?language={language}" if language else ""
    headers = {"X-Kindvoice-Token": token}
    answer = client.post(f"/api/previews/{practice}{query}", headers=headers).get_json()
    job = "url" not in answer
    while "url" not in answer:
        if answer.get("status") == "failed":
            raise RuntimeError(answer.get("message"))
        time.sleep(0.2)
        answer = client.get(answer.get("poll") or f"/api/jobs/{answer['id']}").get_json()
    clip = client.get(answer["url"])
    if clip.status_code != 200 or clip.mimetype != "audio/mpeg":
        raise RuntimeError(f"{answer['url']} answered {clip.status_code}")
    return answer["url"], job


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--practice", action="append", help="practice ids (default: three)")
    parser.add_argument("--language", help="the cards' language (default: English)")
    parser.add_argument("--job", action="store_true", help="without the shipped clips")
    parser.add_argument("--whole", action="store_true", help="the job speaks the whole practice")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["KINDVOICE_CACHE_DIR"] = str(Path(tmp) / "cache")  # cold, before imports
        import dataclasses

        from kindvoice.web import create_app, shipped

        if args.job or args.whole:
            shipped.FOLDER = Path(tmp) / "nothing-shipped"
        if args.whole:  # the preview as it was: every phrase spoken to lay out the start
            made = shipped.preview_request
            shipped.preview_request = lambda *a, **k: dataclasses.replace(  # type: ignore[assignment]
                made(*a, **k), opening_only=False
            )
        for practice in args.practice or DEFAULT_PRACTICES:
            # a fresh library and an empty phrase cache for each: nothing is warm
            os.environ["KINDVOICE_CACHE_DIR"] = str(Path(tmp) / f"cache-{practice}")
            app = create_app(Path(tmp) / f"library-{practice}", workers=1)
            state = app.extensions["kindvoice"]
            wall, cpu = time.perf_counter(), _cpu()
            url, job = ask(app.test_client(), state.token, practice, args.language)
            wall, cpu = time.perf_counter() - wall, _cpu() - cpu
            state.jobs.shutdown()
            log.info(
                "%-28s %-5s %7.2f s wall %7.1f s CPU  %s %s",
                practice,
                args.language or "en",
                wall,
                cpu,
                "job" if job else "shipped",
                url,
            )


if __name__ == "__main__":
    main()
