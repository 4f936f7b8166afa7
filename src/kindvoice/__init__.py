"""kindvoice: voice-guided self-compassion meditations, rendered offline to phone-ready audio."""

from __future__ import annotations

__version__ = "0.1.0"
