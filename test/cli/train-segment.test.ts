import { describe, it, expect } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readVolume, writeVolume } from '../../src/io/node.js';
import { syntheticCase } from '../../src/data/synthetic.js';
import { decodeSafetensors, type NamedArray } from '../../src/io/safetensors.js';
import type { Vec3 } from '../../src/image/volume.js';
import { expectGeometryClose, obliqueDirection, tempDir } from '../helpers/volumes.js';
import { voxgpu } from '../helpers/cli.js';
import { maxAbsDiff } from '../helpers.js';

/** Two synthetic cases written as NIfTI scan/label pairs, 18×17×16 voxels of 1×1×1.5 mm. */
async function dataset(): Promise<string> {
  const dir = tempDir();
  const shape: Vec3 = [18, 17, 16];
  for (const id of [0, 1]) {
    const c = syntheticCase(id, [16, 17, 18]);
    const grid = {
      shape,
      spacing: [1, 1, 1.5] as Vec3,
      origin: [0, 0, 0] as Vec3,
      direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] as [number, number, number, number, number, number, number, number, number],
    };
    await writeVolume(join(dir, `case${id}.nii.gz`), { ...grid, data: c.image });
    await writeVolume(join(dir, `case${id}_seg.nii.gz`), { ...grid, data: c.label });
  }
  return dir;
}

/** A checkpoint's model weights, by name (its optimizer state left out). */
function weights(path: string): Map<string, NamedArray> {
  return new Map([...decodeSafetensors(readFileSync(path)).tensors].filter(([name]) => !name.startsWith('optimizer.')));
}

/**
 * The numbers of autotune's summary line. How many op shapes its 30 s budget covers depends on the
 * host's speed (`left`: those the budget left at their defaults), so tests assert only sums of them.
 */
function autotuneSummary(stdout: string): { measured: number; cached: number; left: number } {
  const left = String.raw`(?:, (\d+) left at their defaults \(the [\d.]+ s budget was spent; a later call measures them\))?`;
  const m = new RegExp(String.raw`^autotune: (\d+) op shapes? measured in [\d.]+ s, (\d+) cached${left}$`, 'm').exec(stdout);
  if (!m) throw new Error(`no autotune summary line in:\n${stdout}`);
  return { measured: Number(m[1]), cached: Number(m[2]), left: Number(m[3] ?? 0) };
}

describe('voxgpu train and segment', () => {
  // Five CLI processes, three of them on the GPU, kept light (one iteration, then one more on resume;
  // tuning measured once): about 30 s on an idle 2-core llvmpipe host.
  it('trains from a folder, resumes, and segments a scan onto its own grid', async () => {
    const data = await dataset();
    const ckpt = join(tempDir(), 'vnet.safetensors');
    const common = ['--data', data, '-o', ckpt, '--size', '16,16,16', '--base-channels', '4', '--batch', '1', '--checkpoint-every', '1'];
    const trained = await voxgpu('train', ...common, '--iterations', '1', '--optimizer', 'adam');
    // Only the tool's own output: none of Dawn's, Mesa's or the Vulkan loader's native diagnostics.
    expect(trained.stderr).not.toMatch(/error|Warning|artificially reduced|XDG_RUNTIME_DIR|vkCreateInstance/);
    expect(trained.code).toBe(0);
    expect(trained.stdout).toMatch(/^2 cases from /m);
    const tuned = autotuneSummary(trained.stdout);
    expect(tuned.cached).toBe(0);
    expect(tuned.measured + tuned.left).toBeGreaterThan(0);
    expect(existsSync(ckpt)).toBe(true);
    const afterOne = weights(ckpt);

    const again = await voxgpu('train', ...common, '--iterations', '1');
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`${ckpt} already exists (use --force to replace it)`);
    // Augmented on the GPU by default above; resumed here on the CPU reference path, with mirroring.
    const resumed = await voxgpu(
      'train',
      ...common,
      '--iterations',
      '2',
      '--optimizer',
      'adam',
      '--resume',
      '--augment',
      'cpu',
      '--mirror',
    );
    expect(resumed.code).toBe(0);
    // The winners were saved (in the test's cache file): nothing is measured again, only what the
    // budget left (on a host too slow to measure every shape in 30 s) is measured now, or left again.
    const retuned = autotuneSummary(resumed.stdout);
    expect(retuned.cached).toBe(tuned.measured);
    expect(retuned.measured + retuned.left).toBe(tuned.left);
    // The resumed iteration trained: Adam moved every weight tensor.
    const afterTwo = weights(ckpt);
    expect([...afterTwo.keys()]).toEqual([...afterOne.keys()]);
    expect(
      [...afterOne].filter(([name, w]) => maxAbsDiff(w.data, afterTwo.get(name)!.data) === 0).map(([name]) => name),
      'weights the resumed iteration left unchanged',
    ).toEqual([]);

    // A scan placed in the world (an origin, an oblique direction): the mask must lie where it does.
    const scan = join(tempDir(), 'oblique.nii.gz');
    await writeVolume(scan, {
      ...(await readVolume(join(data, 'case0.nii.gz'))),
      origin: [-20.5, 13, 7.25],
      direction: obliqueDirection(),
    });
    const mask = join(tempDir(), 'mask.nii.gz');
    const seg = await voxgpu('segment', '--model', ckpt, scan, '-o', mask);
    expect(seg.code).toBe(0);
    expect(seg.stdout).toMatch(/wrote .*mask\.nii\.gz: \d+ foreground voxels \([\d.]+ mL\)/);
    const [s, m] = [await readVolume(scan), await readVolume(mask)];
    expect(m.shape).toEqual(s.shape);
    expect(m.spacing).toEqual(s.spacing);
    expectGeometryClose(m, s);
    expect([...new Set(m.data)].every((v) => v === 0 || v === 1)).toBe(true);
    const mirroredMask = join(tempDir(), 'mirrored.nii.gz');
    const mirrored = await voxgpu('segment', '--model', ckpt, scan, '-o', mirroredMask, '--mirror');
    expect(mirrored.code).toBe(0);
    const mm = await readVolume(mirroredMask);
    expect(mm.shape).toEqual(s.shape);
    expectGeometryClose(mm, s);

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
