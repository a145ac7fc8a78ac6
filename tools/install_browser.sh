#!/usr/bin/env bash
# The browser test's system dependency: Debian's chromium, from the machine's package
# manager (the test drives it with Playwright; no browser build is downloaded).
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium
