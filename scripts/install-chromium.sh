#!/usr/bin/env bash
# Makes sure the headless browser the player test drives is here: Debian's `chromium`.
# Prints the browser's path. Installs it with apt-get when missing and run as root (as CI
# runs); exits 2 when it is missing and only root could install it, so the test can say so
# and skip; any other failure is an error.
set -euo pipefail

if ! command -v chromium >/dev/null; then
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
        echo "chromium is missing; as root: apt-get install chromium" >&2
        exit 2
    fi
    echo "installing chromium for the player test" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >&2
fi
command -v chromium
