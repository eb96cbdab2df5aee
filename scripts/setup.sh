#!/usr/bin/env bash
# One set-up for every entry point (npm test, npm run example, CI) on a fresh Debian machine with
# only Node: Mesa's EGL/GL stack for the llvmpipe WebGPU adapter, then the npm dependencies.
# Idempotent: installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# Dawn's OpenGL backend dlopens the unversioned libEGL.so, which only libegl-dev ships.
mesa=(libegl1 libegl-dev libegl-mesa0 libgles2 libgl1-mesa-dri)
missing=()
for p in "${mesa[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}"
fi

# npm ci when node_modules is absent or older than the lockfile. onnxruntime-node (a test reference)
# would otherwise download CUDA binaries from a host outside the npm registry: its CPU build is in
# the package, so that step is skipped, the way its install script documents.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
fi
node scripts/gen-kernels.mjs
