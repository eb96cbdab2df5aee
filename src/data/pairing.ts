/**
 * Which file is whose label, by name (no file system access: the caller lists the folders).
 *
 * Conventions recognised: PROMISE12's `Case00.mhd` + `Case00_segmentation.mhd`, the common `x.nii.gz` +
 * `x_seg.nii.gz`, and an `images/` folder beside a `labels/` folder whose files share names (or carry one of
 * those suffixes). Only volume files count (.nii, .nii.gz, .mha, .mhd), so .raw data files are ignored.
 */
import { VOLUME_EXTENSIONS } from '../io/index.js';

export interface CaseFiles {
  /** The image's name without extension, e.g. "Case00". */
  id: string;
  image: string;
  label: string;
}

export interface Pairing {
  cases: CaseFiles[];
  /** Volume files left without a partner (images without labels are typically test cases). */
  unpaired: string[];
}

const LABEL_SUFFIXES = ['_segmentation', '_seg'];

/** The name without its volume extension, or undefined for files that are not volumes. */
function stemOf(name: string): string | undefined {
  const lower = name.toLowerCase();
  // Longest first, so "x.nii.gz" loses ".nii.gz" and not ".gz".
  const extension = [...VOLUME_EXTENSIONS].sort((a, b) => b.length - a.length).find((e) => lower.endsWith(e));
  return extension ? name.slice(0, name.length - extension.length) : undefined;
}

function stripLabelSuffix(stem: string): string | undefined {
  const suffix = LABEL_SUFFIXES.find((s) => stem.endsWith(s));
  return suffix ? stem.slice(0, stem.length - suffix.length) : undefined;
}

/** Images and labels side by side in one folder. */
export function pairCaseFiles(names: string[]): Pairing {
  const labels = new Map<string, string>();
  const images: [string, string][] = [];
  for (const name of names) {
    const stem = stemOf(name);
    if (stem === undefined) continue;
    const owner = stripLabelSuffix(stem);
    if (owner !== undefined) labels.set(owner, name);
    else images.push([stem, name]);
  }
  return match(images, labels);
}

/** An images folder and a labels folder: a label belongs to the image with its name, with or without a suffix. */
export function pairFolders(imageNames: string[], labelNames: string[]): Pairing {
  const labels = new Map<string, string>();
  for (const name of labelNames) {
    const stem = stemOf(name);
    if (stem !== undefined) labels.set(stripLabelSuffix(stem) ?? stem, name);
  }
  const images = imageNames.flatMap((name) => {
    const stem = stemOf(name);
    return stem === undefined ? [] : [[stem, name] as [string, string]];
  });
  return match(images, labels);
}

function match(images: [string, string][], labels: Map<string, string>): Pairing {
  const cases: CaseFiles[] = [];
  const unpaired: string[] = [];
  for (const [id, image] of images) {
    const label = labels.get(id);
    if (label === undefined) unpaired.push(image);
    else {
      cases.push({ id, image, label });
      labels.delete(id);
    }
  }
  unpaired.push(...labels.values());
  cases.sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }));
  return { cases, unpaired };
}
