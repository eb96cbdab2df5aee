#!/usr/bin/env bash
# Chromium for the real-browser tests (test/browser) on a fresh Debian machine: Debian's package ships
# SwiftShader, so headless WebGPU works without a GPU. Idempotent: does nothing when a Chromium is there.
set -euo pipefail

for c in "${CHROMIUM_PATH:-}" /usr/bin/chromium /usr/bin/chromium-browser; do
  if [ -n "$c" ] && [ -x "$c" ]; then exit 0; fi
done

if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup-browser: no Chromium found and no apt-get to install it; install Chromium and set CHROMIUM_PATH" >&2
  exit 1
fi
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "setup-browser: no Chromium found; run 'apt-get install chromium' as root" >&2
    exit 1
  fi
  sudo_cmd=(sudo)
fi
echo "setup-browser: installing chromium"
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends chromium fonts-liberation
