"""How fast the Build page's length slider answers, per bundled practice and language, with
the default voice on a cold phrase cache (issue 23 §2: under 2 s each).

    .venv/bin/python scripts/bench_slider.py [--language L ...]

Each practice is asked for in a fresh app (its own library and an empty cache folder),
through Flask's test client, as the page asks: ``GET /api/range`` with the practice, its
language, the default engine and the Build page's pace. Prints the
wall and CPU seconds of each answer, the range, and the slowest; nothing is spoken when
the voice's lengths can be estimated from the text (Kokoro).
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import tempfile
import time
from pathlib import Path

log = logging.getLogger("bench_slider")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--language", action="append", help="languages (default: all five)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["KINDVOICE_CACHE_DIR"] = str(Path(tmp) / "cache")  # cold, before imports
        from kindvoice.languages import LANGUAGES
        from kindvoice.settings import default_engine
        from kindvoice.template.library import list_practices
        from kindvoice.web import create_app

        engine = default_engine()  # the page sends the engine field, the default chosen
        worst = (0.0, "")
        for language in args.language or list(LANGUAGES):
            for ref in list_practices(language=language):
                app = create_app(Path(tmp) / f"library-{language}-{ref.id}")
                client = app.test_client()
                page = client.get(f"/build?practice={ref.id}&language={language}").text
                found = re.search(r'name="rate"[^>]*value="([0-9.]+)"', page)
                rate = found.group(1) if found else "1"  # the Build page's pace, as sent
                query = f"/api/range?practice={ref.id}&language={language}"
                query += f"&engine={engine}&rate={rate}"
                wall, cpu = time.perf_counter(), time.process_time()
                reply = client.get(query)
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                answer = reply.get_json()
                log.info(
                    "%-5s %-30s %5.2f s wall %5.2f s CPU  %s",
                    language,
                    ref.id,
                    wall,
                    cpu,
                    f"{answer.get('min')}-{answer.get('max')} min"
                    if reply.status_code == 200
                    else answer,
                )
                app.extensions["kindvoice"].jobs.shutdown()
                worst = max(worst, (wall, f"{language} {ref.id}"))
        log.info("slowest: %.2f s (%s)", *worst)


if __name__ == "__main__":
    main()
