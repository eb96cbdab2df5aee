#!/usr/bin/env node
// The `voxgpu` command. The commands (program.ts) run in a child process whose stderr is cleared of
// Dawn's native diagnostics (quiet.ts; VOXGPU_VERBOSE=1 shows them); this process only waits for it,
// so it loads nothing else.
import { runWithQuietStderr } from './quiet.js';

if (!runWithQuietStderr()) (await import('./program.js')).main(process.argv);
