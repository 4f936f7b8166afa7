#!/usr/bin/env bash
# The web page's catalogues (src/kindvoice/web/locales, Flask-Babel): extract the page's
# words from its Python, templates and scripts into messages.pot, merge them into each
# language's messages.po (a new word arrives empty: translate it, the tests refuse an
# empty one), and compile the .mo files the package ships (committed: a clean clone and
# the wheel need no build step).
# Usage: bash scripts/i18n.sh [extract|compile]   (no argument: both)
set -euo pipefail
cd "$(dirname "$0")/.."
BABEL=.venv/bin/pybabel
LOCALES=src/kindvoice/web/locales
LANGS="es pt_BR fr it"  # web/i18n.py PAGE_LANGUAGES, in gettext's spelling
if [ "${1:-all}" != compile ]; then
  # keywords: gettext's, N_ (mark now, translate where shown), tr (the scripts' words)
  "$BABEL" -q extract -F scripts/babel.cfg -k N_ -k tr -k lazy_gettext \
    --add-location=file --sort-output --no-wrap --project=kindvoice --version=0.1 \
    --copyright-holder="kindvoice contributors" --msgid-bugs-address="" \
    -o "$LOCALES/messages.pot" src/kindvoice/web
  for lang in $LANGS; do
    "$BABEL" -q update --init-missing --no-wrap --ignore-obsolete --no-fuzzy-matching \
      -i "$LOCALES/messages.pot" -d "$LOCALES" -l "$lang"
  done
fi
if [ "${1:-all}" != extract ]; then
  "$BABEL" compile --statistics -d "$LOCALES"
fi
