"""Regenerate the README's practice table from the bundled templates.

    .venv/bin/python scripts/update_readme.py          # rewrite README.md in place
    .venv/bin/python scripts/update_readme.py --check  # exit 1 if README.md is stale

The table sits between the markers ``<!-- practices:start -->`` and
``<!-- practices:end -->``; tests/test_readme.py fails when it disagrees with the files.
"""

from __future__ import annotations

import sys
from pathlib import Path

from kindvoice.template.library import list_practices
from kindvoice.template.parse import load_template

README = Path(__file__).resolve().parents[1] / "README.md"
START, END = "<!-- practices:start -->", "<!-- practices:end -->"


KIND_ORDER = ("talk", "practice", "timer")
KIND_LABELS = {"talk": "talk", "practice": "practice", "timer": "timer"}


def practice_table() -> str:
    """One row a bundled track, talks first, then practices, then timers; the languages
    each exists in (its translations under meditations/<language>/)."""
    from kindvoice.template.library import languages_of

    rows = [
        "| kind | id | title | minutes (default) | languages | what it is |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    metas = [load_template(ref.path).meta for ref in list_practices() if ref.origin == "bundled"]
    for meta in sorted(metas, key=lambda m: (KIND_ORDER.index(m.kind), m.id)):
        m = meta.minutes
        span = f"{m.min:g}-{m.max:g} ({m.default:g})"
        languages = ", ".join(languages_of(meta.id))
        rows.append(
            f"| {KIND_LABELS[meta.kind]} | `{meta.id}` | {meta.title} | {span} | {languages}"
            f" | {meta.summary} |"
        )
    return "\n".join(rows)


def updated(text: str) -> str:
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    return f"{head}{START}\n{practice_table()}\n{END}{tail}"


def main() -> int:
    text = README.read_text(encoding="utf-8")
    if START not in text or END not in text:
        print(f"README.md lacks the {START} ... {END} markers", file=sys.stderr)
        return 1
    new = updated(text)
    if "--check" in sys.argv:
        if new != text:
            print(
                "README.md's practice table is stale: run scripts/update_readme.py", file=sys.stderr
            )
            return 1
        return 0
    README.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
