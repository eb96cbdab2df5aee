// Picks, per adapter, the fastest among an op's kernel variants by measuring them, and remembers the
// winner by (adapter, op, shape class): which register tile (channels per invocation, positions
// along W, workgroup size) suits a conv depends on the adapter and the shape, and only a measurement
// on the machine itself says which.
// Pure logic: the caller supplies the measure function (GPU timing in practice, plain numbers in
// tests) and the storage (a JSON file in Node: tuner-node.ts; none in a browser, where the winners
// live in memory for the page).
// Ops dispatch synchronously, so they never wait on tuning: they ask `choose()` (through tuned.ts)
// for the cached winner or their default, and `tune()` runs beforehand (autotune.ts), at a point
// where awaiting is fine.

/** A candidate kernel variant: a name unique among the candidates, plus whatever the op needs. */
export interface Variant {
  readonly name: string;
}

export interface TuneKey {
  /** Adapter identity: ctx.adapterId, the adapter's name and its backend (adapterId() in src/device/adapter-choice.ts). */
  adapter: string;
  /** The op or kernel being tuned, e.g. 'conv3d.convolve'. */
  op: string;
  /** A coarse shape bucket from shapeClass(), e.g. "cin16.cout16.voxels32768.w32.k5x5x5.stride1x1x1.dil1x1x1.t0". */
  shapeClass: string;
}

/** Where the cache lives between runs; load() returns null when nothing was saved yet. */
export interface TunerStorage {
  load(): Promise<string | null>;
  save(text: string): Promise<void>;
}

export interface CacheEntry {
  winner: string;
  /** Median time of the winner (ms). */
  ms: number;
  /** Every candidate's median (ms), null where it failed. */
  candidates: Record<string, number | null>;
  /** ISO date of the measurement. */
  measuredAt: string;
}

export interface Measurement {
  name: string;
  /** Median over the samples (ms); null when the candidate failed. */
  ms: number | null;
  error?: string;
}

export interface TuneResult {
  key: string;
  winner: string;
  /** True when the winner came from the cache and nothing was measured. */
  cached: boolean;
  measurements: Measurement[];
}

/** Time of one run of a variant, in ms (GPU work included: the function awaits completion). */
export type Measure<V extends Variant> = (variant: V) => number | Promise<number>;

export interface TunerOptions {
  storage?: TunerStorage;
  /** Timed calls per candidate; the median counts. Default 3. */
  samples?: number;
  /** Untimed calls per candidate first (pipeline compilation, pool warm-up). Default 1. */
  warmup?: number;
  /**
   * How much faster (a fraction) another candidate must be to win over the first, the op's default:
   * a known-good choice, kept where a difference is within timing noise. Default 0.
   */
  minGain?: number;
  /** Write the cache to storage after each new measurement. Default true when storage is given. */
  autoSave?: boolean;
  /** The clock, for tests. */
  now?: () => Date;
}

const cacheVersion = 1;

export function keyString(k: TuneKey): string {
  for (const [field, v] of Object.entries(k)) {
    if (typeof v !== 'string' || v === '' || v.includes('|'))
      throw new Error(`tuner: key field '${field}' must be a non-empty string without '|', got ${JSON.stringify(v)}`);
  }
  return `${k.adapter}|${k.op}|${k.shapeClass}`;
}

/**
 * Buckets each size up to a power of two, so shapes that would pick the same variant share one
 * measurement: { cin: 16, cout: 24, voxels: 30000 } → "cin16.cout32.voxels32768". Values that
 * change the kernel itself (kernel size, stride) go in `exact`, kept as they are:
 * shapeClass({ voxels: 4096 }, { k: 5 }) → "voxels4096.k5".
 */
export function shapeClass(sizes: Record<string, number>, exact: Record<string, number | string> = {}): string {
  const parts = Object.entries(sizes).map(([name, v]) => {
    if (!Number.isFinite(v) || v < 0) throw new Error(`tuner: shape class dimension '${name}' must be a non-negative number, got ${v}`);
    return `${name}${v <= 1 ? v : 2 ** Math.ceil(Math.log2(v))}`;
  });
  for (const [name, v] of Object.entries(exact)) parts.push(`${name}${v}`);
  return parts.join('.');
}

function medianOf(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Parses a saved cache; anything unreadable (corrupt file, other version) counts as empty. */
export function parseCache(text: string | null): Map<string, CacheEntry> {
  const out = new Map<string, CacheEntry>();
  if (!text) return out;
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return out;
  }
  const d = data as { version?: unknown; entries?: unknown };
  if (d?.version !== cacheVersion || typeof d.entries !== 'object' || d.entries === null) return out;
  for (const [key, e] of Object.entries(d.entries as Record<string, Partial<CacheEntry>>)) {
    if (typeof e?.winner === 'string' && typeof e.ms === 'number') {
      out.set(key, { winner: e.winner, ms: e.ms, candidates: e.candidates ?? {}, measuredAt: e.measuredAt ?? '' });
    }
  }
  return out;
}

export function serializeCache(entries: ReadonlyMap<string, CacheEntry>): string {
  const sorted = [...entries.keys()].sort();
  return `${JSON.stringify({ version: cacheVersion, entries: Object.fromEntries(sorted.map((k) => [k, entries.get(k)!])) }, null, 2)}\n`;
}

export class Tuner {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly inFlight = new Map<string, Promise<TuneResult>>();
  private readonly storage: TunerStorage | null;
  private readonly samples: number;
  private readonly warmup: number;
  private readonly minGain: number;
  private readonly autoSave: boolean;
  private readonly now: () => Date;
  /** Why the last automatic save failed (null after a good one). */
  lastSaveError: Error | null = null;
  /** Saves run one after another, so two tunes finishing together cannot interleave writes. */
  private saving: Promise<void> = Promise.resolve();

  constructor(options: TunerOptions = {}) {
    this.storage = options.storage ?? null;
    this.samples = options.samples ?? 3;
    this.warmup = options.warmup ?? 1;
    this.minGain = options.minGain ?? 0;
    this.autoSave = options.autoSave ?? this.storage !== null;
    this.now = options.now ?? (() => new Date());
    if (!Number.isInteger(this.samples) || this.samples < 1)
      throw new Error(`tuner: samples must be a positive integer, got ${options.samples}`);
    if (!Number.isInteger(this.warmup) || this.warmup < 0)
      throw new Error(`tuner: warmup must be a non-negative integer, got ${options.warmup}`);
    if (!(this.minGain >= 0 && this.minGain < 1)) throw new Error(`tuner: minGain must be a fraction in [0, 1), got ${options.minGain}`);
  }

  /** The cached winner's name, if this key was tuned. */
  lookup(key: TuneKey): string | undefined {
    return this.cache.get(keyString(key))?.winner;
  }

  /** The variant to dispatch now: the cached winner if it is still a candidate, else the first (the op's default). */
  choose<V extends Variant>(key: TuneKey, candidates: readonly V[]): V {
    if (candidates.length === 0) throw new Error(`tuner: no candidates for ${keyString(key)}`);
    const winner = this.lookup(key);
    return candidates.find((c) => c.name === winner) ?? candidates[0]!;
  }

  /**
   * Measures every candidate (after `warmup` untimed calls, the median of `samples`) and caches the
   * fastest; ties go to the earlier candidate, and the first keeps its place unless another beats it
   * by `minGain`. A cached winner that is still among the candidates
   * is returned without measuring. Candidates whose measure throws or returns a non-finite or
   * negative time are skipped; if all fail, this throws with their errors.
   */
  tune<V extends Variant>(key: TuneKey, candidates: readonly V[], measure: Measure<V>): Promise<TuneResult> {
    const k = keyString(key);
    const names = candidates.map((c) => c.name);
    if (candidates.length === 0) return Promise.reject(new Error(`tuner: no candidates for ${k}`));
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup !== undefined) return Promise.reject(new Error(`tuner: candidate name '${dup}' appears twice for ${k}`));
    const hit = this.cache.get(k);
    if (hit && names.includes(hit.winner)) return Promise.resolve({ key: k, winner: hit.winner, cached: true, measurements: [] });
    // Two callers tuning the same key at once share one measurement.
    let p = this.inFlight.get(k);
    if (!p) {
      p = this.measureAll(k, candidates, measure).finally(() => this.inFlight.delete(k));
      this.inFlight.set(k, p);
    }
    return p;
  }

  private async measureAll<V extends Variant>(k: string, candidates: readonly V[], measure: Measure<V>): Promise<TuneResult> {
    const measurements: Measurement[] = [];
    for (const c of candidates) {
      try {
        for (let i = 0; i < this.warmup; i++) await measure(c);
        const times: number[] = [];
        for (let i = 0; i < this.samples; i++) {
          const t = await measure(c);
          if (typeof t !== 'number' || !Number.isFinite(t) || t < 0) throw new Error(`measured ${t}, not a time in ms`);
          times.push(t);
        }
        measurements.push({ name: c.name, ms: medianOf(times) });
      } catch (e) {
        measurements.push({ name: c.name, ms: null, error: (e as Error)?.message ?? String(e) });
      }
    }
    let best: Measurement | null = null;
    for (const m of measurements) if (m.ms !== null && (best === null || m.ms < best.ms!)) best = m;
    const first = measurements[0]!;
    if (best && first.ms !== null && best.ms! > first.ms * (1 - this.minGain)) best = first;
    if (!best) {
      throw new Error(`tuner: every candidate failed for ${k}: ${measurements.map((m) => `${m.name}: ${m.error}`).join('; ')}`);
    }
    this.cache.set(k, {
      winner: best.name,
      ms: best.ms!,
      candidates: Object.fromEntries(measurements.map((m) => [m.name, m.ms])),
      measuredAt: this.now().toISOString(),
    });
    // A read-only disk must not cost the caller its result: the winner stays cached in memory.
    if (this.autoSave && this.storage) {
      await this.save().then(
        () => (this.lastSaveError = null),
        (e: unknown) => (this.lastSaveError = e instanceof Error ? e : new Error(String(e))),
      );
    }
    return { key: k, winner: best.name, cached: false, measurements };
  }

  /** Restores the saved cache (entries in memory win over saved ones with the same key). */
  async load(): Promise<void> {
    if (!this.storage) return;
    for (const [k, e] of parseCache(await this.storage.load())) if (!this.cache.has(k)) this.cache.set(k, e);
  }

  /**
   * Writes the cache, merged over what storage holds now, so that two processes tuning different
   * ops do not drop each other's winners.
   */
  save(): Promise<void> {
    const storage = this.storage;
    if (!storage) return Promise.resolve();
    const run = async () => {
      const merged = parseCache(await storage.load());
      for (const [k, e] of this.cache) merged.set(k, e);
      await storage.save(serializeCache(merged));
    };
    this.saving = this.saving.then(run, run);
    return this.saving;
  }

  /** Forgets every winner in memory (storage is untouched until the next save). */
  clear(): void {
    this.cache.clear();
  }

  entries(): ReadonlyMap<string, CacheEntry> {
    return this.cache;
  }
}

/** Storage in memory (tests, or a browser page that does not want to persist). */
export function memoryStorage(initial: string | null = null): TunerStorage & { text: string | null } {
  const s = {
    text: initial,
    load: async () => s.text,
    save: async (text: string) => {
      s.text = text;
    },
  };
  return s;
}
