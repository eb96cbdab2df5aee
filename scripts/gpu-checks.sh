#!/usr/bin/env bash
# The GPU checks on a lent GPU machine, in two calls of at most 540 s each: a session's device time (15
# minutes in all, the machine's start included) holds the first and part of the second, so the first
# is what the open issues wait for (../shared/gpu/ has the recipe: that machine has no Node and no
# Vulkan loader).
#   here:  npm ci && npm run build && bash scripts/gpu-checks.sh pack
#   there: bash scripts/gpu-checks.sh [first|second]   (from the checkout root, .gpu, .gl, .models carried)
# `first` (the default) measures what the open issues wait for, most wanted first: the tensor-core
# conv's checks and stage timings (bench/mma.ts, also alone: scripts/gpu-mma.sh), the V-Net's 5³ convs,
# inference and step in fp32 and in mixed precision, brainchop's mindgrab and 104-class atlas at 256³
# against TF.js' WebGPU backend (when .models/ is carried, see scripts/brainchop-models.sh), and the
# imported ONNX graphs. `second`: the GPU test suite, the example in both precisions over two seeds
# each, and the V-Net's gradients in fp32 against mixed precision (bench/precision.ts). Each step has its own time limit (the limits of a call add up to at most 540 s, under a call's
# 600), so a slow step costs its limit and no more, and what it printed still comes back. Each step's
# log (with the bench tables) lands in $OUT, the benches' JSON in /tmp/bench (a call brings back 8 files
# at most).
set -u
if [ "${1:-}" = pack ]; then
  # Packs from a hard-linked copy without the packages the GPU run does not use (the linter, the
  # ONNX reference, the protobuf code generator): they would push the call past its 64 MiB, and the
  # checkout's own node_modules stays whole for whatever else runs meanwhile. TF.js stays as the
  # brainchop bench loads it: each package's Node bundle alone (8 MB of its 290 MB).
  set -e
  shared=$(cd ../shared/gpu && pwd)
  stage=$(mktemp -d)
  for f in package.json tsconfig.json vitest.config.ts src bench examples kernels scripts dist test; do
    [ -e "$f" ] && cp -al "$(realpath "$f")" "$stage/$f"
  done
  cp -al "$(realpath node_modules)" "$stage/node_modules"
  (cd "$stage/node_modules" && rm -rf @biomejs onnxruntime-node @bufbuild/buf-linux-x64 @bufbuild/protoplugin &&
    find @tensorflow -type f ! -name package.json ! -path '*/dist/*.node.js' -delete)
  mkdir -p "$stage/.git/info" && [ -d .gpu ] && cp -al .gpu "$stage/.gpu"
  [ -d .gl ] && cp -al .gl "$stage/.gl"
  (cd "$stage" && bash "$shared/pack.sh")
  rm -rf .gpu .gl && mv "$stage/.gpu" "$stage/.gl" . && rm -rf "$stage"
  exit 0
fi
vitest='node node_modules/vitest/vitest.mjs run'
tsx='node node_modules/tsx/dist/cli.mjs'
# A step that outlives its limit is stopped (rc 124) and the next one starts.
limit() { echo "timeout -k 5 $1 bash -c $(printf %q "$2")"; }
# brainchop's models come from the carried .models/ (not packed: they are not ours to ship).
brainchop="if [ -d \"\$SRC/.models\" ]; then $tsx bench/run.ts --sections brainchop --models \"\$SRC/.models\" --model mindgrab,model21_104class --warmup-size 256 --max-tile-mib 2048 --tfjs-cpu-size 0 --tfjs-webgpu-size 128,256 --out /tmp/bench; else echo 'no .models/ carried: brainchop bench skipped'; fi"
vnet="$tsx bench/run.ts --full --quick --sections ops,tune,vnet --only 'conv3d 5|inference|training' --out /tmp/bench"
onnx="$tsx bench/run.ts --full --sections onnx --onnx-graphs monai_unet_128,paper_vnet_128 --no-ort --out /tmp/bench && $tsx bench/run.ts --full --sections onnx --onnx-graphs monai_unet_128 --no-ort --precision mixed --out /tmp/bench"
example() { echo "$tsx examples/train.ts --seed $1 2>&1 | grep -iE 'dice|adapter|autotune:.*measured' | tail -n 8"; }
if [ "${1:-first}" = second ]; then
  # The ONNX tests that run ONNX Runtime are left out (the pack drops it); the imported graphs' GPU
  # figures come from the onnx step of the first call.
  exec bash .gpu/on-device.sh \
    "$(limit 200 "$vitest test/core test/ops test/nn test/optim test/tuning test/models --exclude 'test/models/onnx/**' 2>&1 | grep -E 'FAIL|Tests:|×'")" \
    "$(limit 140 "$(example 1); $(example 2)")" \
    "$(limit 140 "VOXGPU_PRECISION=mixed $(example 1); VOXGPU_PRECISION=mixed $(example 2)")" \
    "$(limit 60 "$tsx bench/precision.ts --size 64,64,64")"
fi
exec bash .gpu/on-device.sh \
  "$(limit 100 "$tsx bench/mma.ts --quick")" \
  "$(limit 100 "$vnet")" \
  "$(limit 100 "$vnet --precision mixed")" \
  "$(limit 150 "$brainchop")" \
  "$(limit 90 "$onnx")"
