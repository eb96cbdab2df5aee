// Which kernels an op actually ran (entry, override constants, grid), seen by wrapping the context's
// dispatch for one untimed run. This is how the results name the kernel variant of every case
// without the ops having to report it.
import type { Context, Dispatch } from '../../src/device/context.js';

export interface KernelUse {
  /** kernel.entry */
  kernel: string;
  constants: Record<string, number>;
  /** Workgroups of the first such dispatch. */
  workgroups: number[];
  count: number;
}

export function recordDispatches<T>(ctx: Context, fn: () => T): { result: T; kernels: KernelUse[]; dispatches: number } {
  const uses = new Map<string, KernelUse>();
  let dispatches = 0;
  const original = ctx.dispatch;
  // An own property shadows the prototype method for this run only.
  ctx.dispatch = (d: Dispatch): void => {
    dispatches++;
    const constants = d.constants ?? {};
    const key = `${d.kernel}.${d.entry}|${JSON.stringify(constants)}`;
    const u = uses.get(key);
    if (u) u.count++;
    else {
      uses.set(key, { kernel: `${d.kernel}.${d.entry}`, constants: { ...constants }, workgroups: ctx.workgroupsOf(d), count: 1 });
    }
    original.call(ctx, d);
  };
  try {
    return { result: fn(), kernels: [...uses.values()], dispatches };
  } finally {
    delete (ctx as { dispatch?: unknown }).dispatch;
  }
}

/** "conv3d.forward{TM=8,WG=64}×2, map.map{FN=1}" */
export function formatKernels(kernels: readonly KernelUse[]): string {
  return kernels
    .map((k) => {
      const c = Object.entries(k.constants)
        .map(([n, v]) => `${n}=${v}`)
        .join(',');
      return `${k.kernel}${c ? `{${c}}` : ''}${k.count > 1 ? `×${k.count}` : ''}`;
    })
    .join(', ');
}
