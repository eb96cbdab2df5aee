/**
 * The `voxgpu` command line (started by main.ts). Every subcommand lives in its own module and exports a factory returning a
 * commander Command; adding one means one import and one entry in SUBCOMMANDS.
 */
import { createRequire } from 'node:module';
import { Command } from 'commander';
import { convertCommand } from './convert.js';
import { evaluateCommand } from './evaluate.js';
import { exportCommand } from './export.js';
import { infoCommand } from './info.js';
import { segmentCommand } from './segment.js';
import { trainCommand } from './train.js';

const SUBCOMMANDS: (() => Command)[] = [infoCommand, evaluateCommand, convertCommand, segmentCommand, trainCommand, exportCommand];

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

export function main(argv: string[]): void {
  const program = new Command('voxgpu')
    .description('Volumetric segmentation (V-Net) on WebGPU: train, segment, inspect, convert and evaluate medical volumes.')
    .version(version)
    .showHelpAfterError('(run with --help for usage)');
  for (const make of SUBCOMMANDS) program.addCommand(make());
  program.parseAsync(argv).catch((error: unknown) => {
    // Expected failures (unreadable file, bad volume, refused overwrite) get one clear line, not a stack trace.
    process.stderr.write(`voxgpu: error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
