"""The README's practice table is generated from the templates and must match them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_readme_practice_table_matches_the_files() -> None:
    run = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "update_readme.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for md in sorted((ROOT / "meditations").glob("*.md")):
        if md.name != "TEMPLATE_FORMAT.md":
            assert f"| `{md.stem}` |" in readme
