#!/usr/bin/env bash
# The GPU checks in one call on a lent GPU machine (../shared/gpu/ has the recipe: that machine has
# no Node and no Vulkan loader).
#   here:  npm ci && npm run build && bash scripts/gpu-checks.sh pack
#   there: bash scripts/gpu-checks.sh          (from the checkout root, with .gpu and .gl carried)
# Runs the core, ops, nn, optim and tuning tests on the GPU, `bench --full` in fp32 and in mixed
# precision (tensor cores, where the adapter has them), the tensor-core core's checks and stage
# timings (bench/mma.ts, also alone: scripts/gpu-mma.sh), the augmentation bench, the fp32-against-mixed
# gradient comparison, the example in both precisions, and brainchop's mindgrab and 104-class atlas
# at 256³ against TF.js' WebGPU backend (when .models/ is carried, see scripts/brainchop-models.sh);
# each step's log (with the bench tables)
# lands in $OUT, the benches' JSON in /tmp/bench (a call brings back 8 files at most).
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
# brainchop's models come from the carried .models/ (not packed: they are not ours to ship).
brainchop="if [ -d \"\$SRC/.models\" ]; then $tsx bench/run.ts --sections brainchop --models \"\$SRC/.models\" --model mindgrab,model21_104class --warmup-size 256 --max-tile-mib 2048 --tfjs-cpu-size 0 --tfjs-webgpu-size 128,256 --out /tmp/bench; else echo 'no .models/ carried: brainchop bench skipped'; fi"
example="$tsx examples/train.ts --seed 1 2>&1 | grep -iE 'dice|adapter|autotune:.*measured' | tail -n 8"
onnx="$tsx bench/run.ts --full --sections onnx --onnx-graphs monai_unet_128,paper_vnet_128 --no-ort --out /tmp/bench && $tsx bench/run.ts --full --sections onnx --onnx-graphs monai_unet_128 --no-ort --precision mixed --out /tmp/bench"
# Eight steps: a call brings back 8 files at most. The ONNX tests that run ONNX Runtime are left out
# (the pack drops it); the imported graphs' GPU figures come from the onnx bench step.
exec bash .gpu/on-device.sh \
  "$vitest test/core test/ops test/nn test/optim test/tuning test/models --exclude 'test/models/onnx/**' 2>&1 | grep -E 'FAIL|Tests:|×'" \
  "$tsx bench/run.ts --full --quick --out /tmp/bench" \
  "$tsx bench/run.ts --full --quick --precision mixed --sections ops,tune,vnet --only 'conv3d 5|inference|training' --out /tmp/bench" \
  "$tsx bench/mma.ts --quick" \
  "$tsx bench/run.ts --full --quick --sections augment --out /tmp/bench; $tsx bench/precision.ts --size 64,64,64" \
  "$example; VOXGPU_PRECISION=mixed $example" \
  "$onnx" \
  "$brainchop"
