// How busy the machine was with *other* work while we measured. On a 2-core llvmpipe machine any
// other process steals directly from the "GPU", so every figure is stored with this number.
// Foreign load = (CPU time the whole system spent busy − CPU time this process used) / wall time,
// in cores. Linux only (/proc/stat); elsewhere it reads as unknown.
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';

interface Mark {
  wallMs: number;
  systemBusyMs: number | null;
  selfMs: number;
}

function systemBusyMs(): number | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    // cpu user nice system idle iowait irq softirq steal ...  (in USER_HZ ticks, 100 per second)
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    const busy = f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + (f[7] ?? 0);
    return busy * 10;
  } catch {
    return null;
  }
}

export function mark(): Mark {
  const u = process.cpuUsage();
  return { wallMs: performance.now(), systemBusyMs: systemBusyMs(), selfMs: (u.user + u.system) / 1000 };
}

/** Average number of cores other processes kept busy since `from` (null where unknown). */
export function foreignLoad(from: Mark, to: Mark = mark()): number | null {
  if (from.systemBusyMs === null || to.systemBusyMs === null) return null;
  const wall = to.wallMs - from.wallMs;
  if (wall < 200) return null; // /proc/stat ticks are 10 ms: too coarse for short spans
  const foreign = to.systemBusyMs - from.systemBusyMs - (to.selfMs - from.selfMs);
  return Math.max(0, foreign / wall);
}

export function machine(): { cores: number; cpu: string; loadavg: number[] } {
  const c = cpus();
  return { cores: c.length, cpu: c[0]?.model ?? 'unknown', loadavg: loadavg().map((x) => Math.round(x * 100) / 100) };
}
