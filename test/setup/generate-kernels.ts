import { execFileSync } from 'node:child_process';

// Tests import src/ directly, so the bundled kernel sources must be fresh before any file loads.
export default function setup(): void {
  execFileSync(process.execPath, ['scripts/gen-kernels.mjs'], { stdio: 'inherit' });
}
