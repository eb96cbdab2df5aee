// GPU time of the work between start() and stop(), from timestamp queries written at the beginning
// and end of every compute pass (the context records all of a flush's dispatches in one pass), so
// the bench can report what the GPU spent apart from the host's dispatch and sync overhead. Only
// on devices with the `timestamp-query` feature; null where a window holds more passes than the
// query set has room for.

/** Compute passes one timing window can time. */
const maxPasses = 256;

export class GpuTimer {
  private readonly querySet: GPUQuerySet;
  private readonly resolved: GPUBuffer;
  private readonly readback: GPUBuffer;
  private passes = 0;
  private overflow = false;

  constructor(private readonly device: GPUDevice) {
    this.querySet = device.createQuerySet({ type: 'timestamp', count: 2 * maxPasses });
    this.resolved = device.createBuffer({ size: 16 * maxPasses, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
    this.readback = device.createBuffer({ size: 16 * maxPasses, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  }

  /** Starts a window: passes begun from now on are timed. */
  start(): void {
    this.passes = 0;
    this.overflow = false;
  }

  /** What a new compute pass writes its timestamps with (undefined past the query set's room). */
  passWrites(): GPUComputePassTimestampWrites | undefined {
    if (this.passes >= maxPasses) {
      this.overflow = true;
      return undefined;
    }
    const i = 2 * this.passes++;
    return { querySet: this.querySet, beginningOfPassWriteIndex: i, endOfPassWriteIndex: i + 1 };
  }

  /** GPU milliseconds of the window's passes (their sum), once `encoder`'s work is submitted: null if some went untimed. */
  async stop(submit: (encoder: GPUCommandEncoder) => void): Promise<number | null> {
    const n = this.passes;
    if (this.overflow) return null;
    if (n === 0) return 0;
    const encoder = this.device.createCommandEncoder();
    encoder.resolveQuerySet(this.querySet, 0, 2 * n, this.resolved, 0);
    encoder.copyBufferToBuffer(this.resolved, 0, this.readback, 0, 16 * n);
    submit(encoder);
    await this.readback.mapAsync(GPUMapMode.READ, 0, 16 * n);
    const t = new BigUint64Array(this.readback.getMappedRange(0, 16 * n).slice(0));
    this.readback.unmap();
    let ns = 0n;
    for (let i = 0; i < n; i++) ns += t[2 * i + 1]! - t[2 * i]!;
    return Number(ns) / 1e6;
  }
}
