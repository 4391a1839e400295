#!/usr/bin/env bash
# Installs headless Chromium (Debian's `chromium` package) for the page test
# (tests/integration/page.rs). Idempotent: returns at once when `chromium` is on PATH.
# Needs root for apt-get (CI runs as root). IDC_SKIP_BROWSER=1 skips the install and
# the browser checks explicitly; the page test then says so.
set -euo pipefail

if [ "${IDC_SKIP_BROWSER:-}" = "1" ]; then
  echo "IDC_SKIP_BROWSER=1: not installing chromium; the page test checks the HTML alone (browser checks SKIPPED)"
  exit 0
fi
if command -v chromium >/dev/null 2>&1; then
  echo "chromium present: $(chromium --version 2>/dev/null || command -v chromium)"
  exit 0
fi
fail() {
  echo "cannot install chromium for the page test: $*" >&2
  echo "install Debian's chromium package by hand (apt-get install chromium), or set IDC_SKIP_BROWSER=1 to skip the browser checks" >&2
  exit 1
}
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=sudo
  else
    fail "apt-get needs root and this is uid $(id -u) without passwordless sudo"
  fi
else
  SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || fail "apt-get update failed"
$SUDO apt-get install -y -qq chromium >/dev/null || fail "apt-get install chromium failed"
command -v chromium >/dev/null 2>&1 || fail "chromium is still not on PATH after the install"
echo "chromium installed: $(chromium --version 2>/dev/null)"
