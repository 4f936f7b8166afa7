#!/usr/bin/env bash
# Install everything (into .venv) and render a 10-minute self-compassion break with the
# neural voice: self-compassion-break.mp3 in the repository root.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/kindvoice build self-compassion-break --minutes 10 --engine piper \
  -o self-compassion-break.mp3 "$@"
