"""The passage ``kindvoice voices preview`` speaks: one short template per language."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def sample_template(language: str = "en") -> Path:
    """The sample passage for ``language`` (falls back to English)."""
    folder = Path(str(resources.files("kindvoice.speech.samples")))
    for name in (language, language.split("-")[0], "en"):
        path = folder / f"{name}.md"
        if path.is_file():
            return path
    raise FileNotFoundError(folder / "en.md")
