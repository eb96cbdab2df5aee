/**
 * The one error type the readers throw for a bad file. The message always starts with the file name (or
 * "<buffer>" for bytes without one) so a user with a folder of 50 scans knows which one is broken.
 */
export class VolumeFormatError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
    this.name = 'VolumeFormatError';
  }
}

export const BUFFER_NAME = '<buffer>';

/** Runs a decoder step and re-throws any failure (our own or a library's) as a VolumeFormatError for `file`. */
export function withFileName<T>(file: string, step: () => T): T {
  try {
    return step();
  } catch (error) {
    if (error instanceof VolumeFormatError) throw error;
    throw new VolumeFormatError(file, error instanceof Error ? error.message : String(error));
  }
}
