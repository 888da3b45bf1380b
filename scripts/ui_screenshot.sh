#!/usr/bin/env bash
# Screenshots of recite in the Prefect UI (docs/screenshots/*.png), offline:
# a real `prefect server start` on a free port with a temporary PREFECT_HOME, `recite serve`,
# one adhoc run against a local site made from examples/seeds, then headless Chromium.
#   scripts/ui_screenshot.sh [--out DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        apt-get install -y chromium >/dev/null
    else
        echo "chromium is missing: sudo apt-get install -y chromium" >&2
        exit 1
    fi
fi
if [ -z "${VIRTUAL_ENV:-}" ] && [ -f .venv/bin/activate ]; then
    . .venv/bin/activate
fi
exec python scripts/ui_screenshot.py "$@"
