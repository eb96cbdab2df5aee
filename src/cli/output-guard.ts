/**
 * Commands that write volumes call this first. An input is never overwritten, not even with --force (a typo
 * in `-o` must not destroy a scan); other existing files only with --force. Inputs are compared by device and
 * inode, so symlinks, hard links and `./a` vs `a` are all caught.
 */
import { stat } from 'node:fs/promises';

export async function checkOutputs(outputs: string[], inputs: string[], options: { force?: boolean } = {}): Promise<void> {
  const inputIds = new Map<string, string>();
  for (const input of inputs) {
    const s = await stat(input).catch(() => undefined);
    if (s) inputIds.set(`${s.dev}:${s.ino}`, input);
  }
  for (const output of outputs) {
    const s = await stat(output).catch(() => undefined);
    if (!s) continue;
    const input = inputIds.get(`${s.dev}:${s.ino}`);
    if (input !== undefined) throw new Error(`refusing to overwrite input file ${input} (writing ${output})`);
    if (!options.force) throw new Error(`${output} already exists (use --force to replace it)`);
  }
}
