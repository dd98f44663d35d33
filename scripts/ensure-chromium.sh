#!/bin/sh
# Install Debian's headless-capable Chromium for the browser tests (idempotent).
# Playwright's own browser download is not used: tests launch /usr/bin/chromium.
set -eu
if [ -x /usr/bin/chromium ]; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-chromium: apt-get not found; install Chromium at /usr/bin/chromium by hand" >&2
    exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    echo "ensure-chromium: not root and no sudo; run: apt-get install -y chromium chromium-driver" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# Amiri: a small font that shows Arabic well in the screenshots (DejaVu is the fallback).
$SUDO apt-get install -y -qq chromium chromium-driver fonts-hosny-amiri
test -x /usr/bin/chromium
