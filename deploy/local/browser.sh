#!/usr/bin/env bash
# The browser the browser tests drive: Debian's chromium (never a downloaded one), run
# headless by Playwright (tests/e2e/browser.py).
source "$(dirname "$0")/lib.sh"
apt_install chromium fonts-dejavu-core
say "chromium ready: $(command -v chromium)"
