// `tsx scripts/quiet.ts <command> [args…]`: runs a command with Dawn's native diagnostics filtered
// out of its stderr (src/cli/quiet.ts), as `npm test` does for vitest; VOXGPU_VERBOSE=1 keeps them.
import { spawnSync } from 'node:child_process';
import { isVerbose, runFiltered } from '../src/cli/quiet.js';

const [command, ...args] = process.argv.slice(2);
if (!command) {
  process.stderr.write('usage: tsx scripts/quiet.ts <command> [args…]\n');
  process.exit(2);
}
if (isVerbose()) process.exit(spawnSync(command, args, { stdio: 'inherit' }).status ?? 1);
runFiltered(command, args);
