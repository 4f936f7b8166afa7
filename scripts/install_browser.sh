#!/usr/bin/env bash
# Install Debian's chromium for the browser tests (tests/web, marker "browser") when it is
# missing. Safe to run again: it does nothing when /usr/bin/chromium is there. Runs as root
# (or through sudo) with no terminal: apt-get never asks a question.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  echo "chromium: $(/usr/bin/chromium --version 2>/dev/null || echo present)"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo -n"  # never prompt: fail at once when sudo would need a password
fi
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null
$SUDO env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core </dev/null
/usr/bin/chromium --version
