#!/usr/bin/env bash
# The tensor-core conv core's GPU checks (issue #22) in one call on a lent GPU machine, packed and
# carried as scripts/gpu-checks.sh's are (here: `bash scripts/gpu-checks.sh pack`; there, from the
# checkout root with .gpu and .gl carried: `bash scripts/gpu-mma.sh`). Step 1: the adapter's limits,
# every tile against float64, each 5³ stage's forward, dx and dw and each 2³/2 down- and
# up-convolution timed as fp32 GEMM and the tensor-core core (bench/mma.ts); step 2 (`full`): the V-Net at 128×128×64,
# inference and a training step, in fp32 and mixed. `check`: step 1 with one stage timed (64
# channels), under a minute. Logs land in $OUT/stepN.log.
set -u
tsx='node node_modules/tsx/dist/cli.mjs'
steps=("$tsx bench/mma.ts --quick")
[ "${1:-}" = check ] && steps=("$tsx bench/mma.ts --quick --stages 3")
if [ "${1:-}" = full ]; then
  steps+=("$tsx bench/run.ts --full --quick --sections vnet --only 'inference|training' --out /tmp/bench && $tsx bench/run.ts --full --quick --precision mixed --sections vnet --only 'inference|training' --out /tmp/bench")
fi
exec bash .gpu/on-device.sh "${steps[@]}"
