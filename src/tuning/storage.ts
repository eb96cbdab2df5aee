// Where init() keeps the tuner's winners: a JSON file in Node (tuner-node.ts), memory in a browser.
import type { TunerStorage } from './tuner.js';

/** true: the default file (Node); a string: that file; false: memory only. */
export type TuningCache = boolean | string;

export async function tuningStorage(option: TuningCache | undefined, browser: boolean): Promise<TunerStorage | undefined> {
  if (option === false || browser) return undefined;
  // A variable specifier keeps bundlers from pulling Node-only code into a browser build.
  const nodeModule = './tuner-node.js';
  const { defaultTuningCachePath, fileStorage } = (await import(/* @vite-ignore */ nodeModule)) as typeof import('./tuner-node.js');
  return fileStorage(typeof option === 'string' ? option : defaultTuningCachePath());
}
