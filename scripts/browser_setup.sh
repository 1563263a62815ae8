#!/usr/bin/env bash
# Headless Chromium + ChromeDriver for tests/test_browser.py, from Debian's packages (never a downloaded
# browser build). Idempotent: does nothing when both binaries are already there. Needs root (or sudo).
set -euo pipefail

CHROMIUM=/usr/bin/chromium
CHROMEDRIVER=/usr/bin/chromedriver

if [[ -x "$CHROMIUM" && -x "$CHROMEDRIVER" ]]; then
    exit 0
fi

SUDO=()
if [[ "$(id -u)" -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo -n)
    else
        echo "browser_setup: $CHROMIUM or $CHROMEDRIVER is missing and we are not root;" \
             "install them with: apt-get install -y chromium chromium-driver" >&2
        exit 1
    fi
fi

echo "browser_setup: installing Debian packages chromium and chromium-driver" >&2
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! { "${SUDO[@]}" apt-get update -qq \
       && "${SUDO[@]}" apt-get install -y -qq --no-install-recommends chromium chromium-driver; } >"$log" 2>&1; then
    cat "$log" >&2
    echo "browser_setup: apt-get failed" >&2
    exit 1
fi

for binary in "$CHROMIUM" "$CHROMEDRIVER"; do
    if [[ ! -x "$binary" ]]; then
        echo "browser_setup: $binary still missing after apt-get install" >&2
        exit 1
    fi
done
echo "browser_setup: $("$CHROMIUM" --version 2>/dev/null | head -n1); $("$CHROMEDRIVER" --version 2>/dev/null | head -n1)" >&2
