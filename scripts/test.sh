#!/usr/bin/env bash
# Install everything (into .venv) and run the whole test suite: lint, types, layers, tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/install_browser.sh
.venv/bin/ruff check src tests scripts
.venv/bin/ruff format --check src tests scripts
.venv/bin/mypy
.venv/bin/lint-imports --no-cache --no-logo  # the layers in pyproject.toml [tool.importlinter]
# two test processes (KINDVOICE_TEST_WORKERS to change), one test file each at a time; the
# phrase cache is shared between them (tests/conftest.py)
.venv/bin/python -m pytest -n "${KINDVOICE_TEST_WORKERS:-2}" --dist loadfile "$@"
