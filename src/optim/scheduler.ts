// What fit() steps once per iteration. `iteration` counts the steps taken; a resumed run sets it to the
// checkpoint's iteration before training.
export interface LRScheduler {
  iteration: number;
  /** Call once per iteration, after optimizer.step(). */
  step(): void;
}
