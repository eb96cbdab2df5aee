/** The training progress bar: iteration, loss, iterations per second and ETA (cli-progress). */
import cliProgress from 'cli-progress';
import { terminalStderr } from './quiet.js';

export interface TrainingProgress {
  /** `loss`: the latest one read, where this iteration read it (fit's lossEvery). */
  update(iteration: number, loss: number | undefined): void;
  stop(): void;
}

export function trainingProgress(label: string, total: number, start = 0): TrainingProgress {
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} |{bar}| {value}/{total} it | loss {loss} | {speed} it/s | ETA {eta_formatted}`,
      hideCursor: true,
      noTTYOutput: true,
      notTTYSchedule: 5000,
      stream: terminalStderr(),
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, start, { loss: '-', speed: '-' });
  const began = performance.now();
  return {
    update(iteration, loss) {
      const seconds = (performance.now() - began) / 1000;
      const speed = ((iteration - start) / seconds).toFixed(2);
      bar.update(iteration, loss === undefined ? { speed } : { loss: loss.toFixed(4), speed });
    },
    stop: () => bar.stop(),
  };
}

/** A progress bar over steps that are not iterations (the layers of a model): count and ETA. */
export function stepProgress(label: string, total: number, unit: string): { update(done: number): void; stop(): void } {
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} |{bar}| {value}/{total} ${unit} | ETA {eta_formatted}`,
      hideCursor: true,
      noTTYOutput: true,
      notTTYSchedule: 5000,
      stream: terminalStderr(),
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return { update: (done) => bar.update(done), stop: () => bar.stop() };
}
