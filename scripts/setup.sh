#!/usr/bin/env bash
# Create .venv beside the repository root and install kindvoice with the neural voice,
# the Dask client (for --executor dask://...) and the test tools. Safe to run again:
# it only adds what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[neural,cluster,dev]"
