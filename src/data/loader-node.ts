/** Node-only: finds and loads the image/label pairs of a dataset folder for loader.ts. */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { readVolume } from '../io/node.js';
import { pairCaseFiles, pairFolders, type CaseFiles, type Pairing } from './pairing.js';
import { prepareCase, type PrepareOptions, type PreparedCase } from './loader.js';

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
}

/**
 * The cases in `dir`: an `images/` + `labels/` pair of folders if present, else image/label files side by side.
 * Paths in the result are full paths. Throws when nothing pairs up.
 */
export async function findCases(dir: string): Promise<Pairing> {
  let pairing: Pairing;
  if ((await isDirectory(join(dir, 'images'))) && (await isDirectory(join(dir, 'labels')))) {
    const [images, labels] = await Promise.all([readdir(join(dir, 'images')), readdir(join(dir, 'labels'))]);
    const found = pairFolders(images, labels);
    pairing = {
      cases: found.cases.map((c) => ({ id: c.id, image: join(dir, 'images', c.image), label: join(dir, 'labels', c.label) })),
      unpaired: found.unpaired,
    };
  } else {
    const found = pairCaseFiles(await readdir(dir));
    const full = (c: CaseFiles) => ({ id: c.id, image: join(dir, c.image), label: join(dir, c.label) });
    pairing = { cases: found.cases.map(full), unpaired: found.unpaired };
  }
  if (pairing.cases.length === 0) {
    throw new Error(
      `${dir}: no image/label pairs found (expected Case00.mhd + Case00_segmentation.mhd, x.nii.gz + x_seg.nii.gz, or images/ + ` +
        `labels/ folders)`,
    );
  }
  return pairing;
}

/** Reads and prepares every case of `dir`, one case at a time so only prepared (small) volumes accumulate. */
export async function loadCases(dir: string, options: PrepareOptions = {}): Promise<PreparedCase[]> {
  const { cases } = await findCases(dir);
  const prepared: PreparedCase[] = [];
  for (const c of cases) {
    const [image, label] = await Promise.all([readVolume(c.image), readVolume(c.label)]);
    prepared.push(prepareCase(c.id, image, label, options));
  }
  return prepared;
}
