#!/usr/bin/env bash
# Install everything (into .venv) and render the self-compassion break at its default
# length with the default voice (Kokoro, "heart"): self-compassion-break.mp3 in the
# repository root. The first render speaks every phrase (a few minutes on a laptop);
# the phrase cache makes the next ones take seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/kindvoice build self-compassion-break -o self-compassion-break.mp3 "$@"
