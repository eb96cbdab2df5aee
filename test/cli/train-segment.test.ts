import { describe, it, expect } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readVolume, writeVolume } from '../../src/io/node.js';
import { syntheticCase } from '../../src/data/synthetic.js';
import type { Vec3 } from '../../src/io/volume.js';
import { tempDir } from '../helpers/volumes.js';
import { voxgpu } from '../helpers/cli.js';

/** Two synthetic cases written as NIfTI scan/label pairs, 18×17×16 voxels of 1×1×1.5 mm. */
async function dataset(): Promise<string> {
  const dir = tempDir();
  const shape: Vec3 = [18, 17, 16];
  for (const id of [0, 1]) {
    const c = syntheticCase(id, [16, 17, 18]);
    const grid = { shape, spacing: [1, 1, 1.5] as Vec3, origin: [0, 0, 0] as Vec3, direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] as [number, number, number, number, number, number, number, number, number] };
    await writeVolume(join(dir, `case${id}.nii.gz`), { ...grid, data: c.image });
    await writeVolume(join(dir, `case${id}_seg.nii.gz`), { ...grid, data: c.label });
  }
  return dir;
}

describe('voxgpu train and segment', () => {
  // Five CLI processes, three of them on the GPU, kept light (one iteration, then one more on resume;
  // tuning measured once): about 30 s on an idle 2-core llvmpipe host. The limit only catches a hang,
  // so it is far above that: a host busy with other work may take several times as long.
  it('trains from a folder, resumes, and segments a scan onto its own grid', { timeout: 900_000 }, async () => {
    const data = await dataset();
    const ckpt = join(tempDir(), 'vnet.safetensors');
    const common = ['--data', data, '-o', ckpt, '--size', '16,16,16', '--base-channels', '4', '--batch', '1', '--checkpoint-every', '1'];
    const trained = await voxgpu('train', ...common, '--iterations', '1', '--optimizer', 'adam');
    // Only the tool's own output: none of Dawn's, Mesa's or the Vulkan loader's native diagnostics.
    expect(trained.stderr).not.toMatch(/error|Warning|artificially reduced|XDG_RUNTIME_DIR|vkCreateInstance/);
    expect(trained.code).toBe(0);
    expect(trained.stdout).toMatch(/^2 cases from /m);
    expect(trained.stdout).toMatch(/^autotune: [1-9]\d* op shapes measured in [\d.]+ s, 0 cached$/m);
    expect(existsSync(ckpt)).toBe(true);

    const again = await voxgpu('train', ...common, '--iterations', '1');
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`${ckpt} already exists (use --force to replace it)`);
    // Augmented on the GPU by default above; resumed here on the CPU reference path, with mirroring.
    const resumed = await voxgpu('train', ...common, '--iterations', '2', '--optimizer', 'adam', '--resume', '--augment', 'cpu', '--mirror');
    expect(resumed.code).toBe(0);
    // The winners were saved (in the test's cache file): nothing is measured again.
    expect(resumed.stdout).toMatch(/^autotune: 0 op shapes measured in [\d.]+ s, [1-9]\d* cached$/m);

    const scan = join(data, 'case0.nii.gz');
    const mask = join(tempDir(), 'mask.nii.gz');
    const seg = await voxgpu('segment', '--model', ckpt, scan, '-o', mask);
    expect(seg.code).toBe(0);
    expect(seg.stdout).toMatch(/wrote .*mask\.nii\.gz: \d+ foreground voxels \([\d.]+ mL\)/);
    const [s, m] = [await readVolume(scan), await readVolume(mask)];
    expect(m.shape).toEqual(s.shape);
    expect(m.spacing).toEqual(s.spacing);
    expect([...new Set(m.data)].every((v) => v === 0 || v === 1)).toBe(true);
    const mirroredMask = join(tempDir(), 'mirrored.nii.gz');
    const mirrored = await voxgpu('segment', '--model', ckpt, scan, '-o', mirroredMask, '--mirror');
    expect(mirrored.code).toBe(0);
    expect((await readVolume(mirroredMask)).shape).toEqual(s.shape);

    const overwrite = await voxgpu('segment', '--model', ckpt, scan, '-o', scan, '--force');
    expect(overwrite.code).toBe(1);
    expect(overwrite.stderr).toContain(`refusing to overwrite input file ${scan}`);
  });

  it('rejects bad arguments with a message and a non-zero exit', async () => {
    const r = await voxgpu('train', '--data', '/nonexistent', '-o', join(tempDir(), 'x.safetensors'), '--iterations', '0');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--iterations must be a positive integer, got 0');
    const where = await voxgpu('train', '--data', '/nonexistent', '-o', join(tempDir(), 'x.safetensors'), '--augment', 'tpu');
    expect(where.code).toBe(1);
    expect(where.stderr).toContain('--augment must be gpu or cpu, got tpu');
  });
});
