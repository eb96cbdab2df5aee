// What a WGSL kernel expects, read from the shader itself with wgsl_reflect: per entry point, the
// bindings by name, the uniform parameter struct's layout, the override constants and the workgroup
// size. Ops dispatch by these names, so a kernel and its op cannot silently disagree.
import { WgslReflect } from 'wgsl_reflect/wgsl_reflect.module.js';
import { kernelSources, reflectSources } from '../generated/kernels.js';
import { evaluateExpression } from './wgsl-const.js';

export interface UniformMember {
  name: string;
  offset: number;
  /** Number of 4-byte scalars the member occupies (vec4<u32> = 4, array<vec4<u32>, 2> = 8). */
  scalars: number;
  scalar: 'u32' | 'i32' | 'f32';
}

export interface BindingInfo {
  binding: number;
  group: number;
  kind: 'storage' | 'uniform';
  access: string;
}

export interface EntryInfo {
  kernel: string;
  entry: string;
  bindings: Map<string, BindingInfo>;
  /** The uniform struct of the entry (at most one), packed from a params object. */
  uniform?: { name: string; size: number; members: UniformMember[] };
  overrides: Map<string, number>;
  /** Workgroup size expressions: numbers or override names. */
  workgroupExpr: string[];
}

interface ReflectType {
  name: string;
  size: number;
  format?: ReflectType;
  members?: { name: string; offset: number; size: number; type: ReflectType }[];
}

const cache = new Map<string, Map<string, EntryInfo>>();

function scalarOf(t: ReflectType, kernel: string, member: string): UniformMember['scalar'] {
  let cur: ReflectType | undefined = t;
  while (cur && !['u32', 'i32', 'f32'].includes(cur.name)) cur = cur.format;
  if (!cur) throw new Error(`kernel ${kernel}: uniform member '${member}' has unsupported type ${t.name}`);
  return cur.name as UniformMember['scalar'];
}

/** A struct's members, those of a nested struct in its place (filled by their own names: a pass's struct can start with a shared one). */
function flatMembers(t: ReflectType, offset: number, kernel: string): UniformMember[] {
  return (t.members ?? []).flatMap((m) =>
    m.type.members
      ? flatMembers(m.type, offset + m.offset, kernel)
      : [{ name: m.name, offset: offset + m.offset, scalars: m.size / 4, scalar: scalarOf(m.type, kernel, m.name) }],
  );
}

function parseOverrideDefault(source: string, name: string): number {
  const m = new RegExp(`override\\s+${name}\\s*(?::\\s*\\w+)?\\s*=\\s*([-0-9.eE]+)`).exec(source);
  return m ? Number(m[1]) : NaN;
}

function workgroupExpr(source: string, entry: string): string[] {
  const m = new RegExp(`@workgroup_size\\(([^)]*)\\)[^{]*?fn\\s+${entry}\\s*\\(`).exec(source);
  if (!m) throw new Error(`kernel entry ${entry}: no @workgroup_size found`);
  const parts = m[1]!
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  while (parts.length < 3) parts.push('1');
  return parts;
}

/** Adds kernels to the ones dispatches can name (the bench's own, bench/kernels/); a name already taken throws. */
export function registerKernels(sources: Record<string, string>): void {
  for (const [name, code] of Object.entries(sources)) {
    if (name in kernelSources && kernelSources[name] !== code) throw new Error(`registerKernels: a kernel named '${name}' exists already`);
    kernelSources[name] = code;
  }
}

/**
 * The WGSL reflection reads for a kernel: its own, or its reflect source, which is WGSL or the name
 * of a sibling kernel with the same interface (a generated variant without the WGSL extensions
 * wgsl_reflect cannot parse).
 */
function reflectedSource(kernel: string): string | undefined {
  const reflected = reflectSources[kernel];
  return reflected === undefined ? kernelSources[kernel] : (kernelSources[reflected] ?? reflected);
}

function reflectKernel(kernel: string): Map<string, EntryInfo> {
  if (kernelSources[kernel] === undefined)
    throw new Error(`kernel '${kernel}' not found in kernels/ (have: ${Object.keys(kernelSources).join(', ')})`);
  const source = reflectedSource(kernel)!;
  const reflect = new WgslReflect(source);
  const overrides = new Map<string, number>();
  for (const o of reflect.overrides) overrides.set(o.name, parseOverrideDefault(source, o.name));
  const entries = new Map<string, EntryInfo>();
  for (const e of reflect.entry.compute) {
    const bindings = new Map<string, BindingInfo>();
    let uniform: EntryInfo['uniform'];
    for (const r of e.resources) {
      const kind = r.resourceType === 0 ? 'uniform' : 'storage';
      bindings.set(r.name, { binding: r.binding, group: r.group, kind, access: r.access });
      if (kind === 'uniform') {
        const t = r.type as unknown as ReflectType;
        const members = flatMembers(t, 0, kernel);
        uniform = { name: r.name, size: t.size, members };
      }
    }
    entries.set(e.name, { kernel, entry: e.name, bindings, uniform, overrides, workgroupExpr: workgroupExpr(source, e.name) });
  }
  return entries;
}

export function entryInfo(kernel: string, entry: string): EntryInfo {
  let entries = cache.get(kernel);
  if (!entries) cache.set(kernel, (entries = reflectKernel(kernel)));
  const info = entries.get(entry);
  if (!info) throw new Error(`kernel ${kernel} has no compute entry point '${entry}' (has: ${[...entries.keys()].join(', ')})`);
  return info;
}

export function entryNames(kernel: string): string[] {
  if (!cache.has(kernel)) cache.set(kernel, reflectKernel(kernel));
  return [...cache.get(kernel)!.keys()];
}

/** Resolves the workgroup size with the given override constants. */
export function workgroupSize(info: EntryInfo, constants: Record<string, number>): [number, number, number] {
  return info.workgroupExpr.map((x) => {
    const n = Number(x);
    if (!Number.isNaN(n)) return n;
    const v = constants[x] ?? info.overrides.get(x);
    if (v === undefined || Number.isNaN(v)) throw new Error(`kernel ${info.kernel}.${info.entry}: workgroup size '${x}' has no value`);
    return v;
  }) as [number, number, number];
}

/** Invocations per workgroup of an entry point with the given override constants (else the WGSL's defaults). */
export function invocationsPerWorkgroup(kernel: string, entry: string, constants: Record<string, number> = {}): number {
  const [x, y, z] = workgroupSize(entryInfo(kernel, entry), constants);
  return x * y * z;
}

/** A number the WGSL states once: a module-scope `const`, or an override's default. */
export function kernelConstant(kernel: string, name: string): number {
  const source = reflectedSource(kernel) ?? '';
  const m = new RegExp(`^const\\s+${name}\\s*(?::\\s*\\w+)?\\s*=\\s*([-0-9.eE]+)`, 'm').exec(source);
  const v = m ? Number(m[1]) : parseOverrideDefault(source, name);
  if (Number.isNaN(v)) throw new Error(`kernel ${kernel} has no numeric const or override '${name}'`);
  return v;
}

/** How many scalars a member of an entry's uniform struct holds (`classes: array<vec4<u32>, 64>` → 256). */
export function uniformCapacity(kernel: string, entry: string, member: string): number {
  const m = entryInfo(kernel, entry).uniform?.members.find((u) => u.name === member);
  if (!m) throw new Error(`kernel ${kernel}.${entry} has no uniform member '${member}'`);
  return m.scalars;
}

/** A kernel's workgroup arrays: element type (vecN of a scalar, or a scalar), scalars per element, and length (an expression). */
function workgroupDecls(kernel: string): { name: string; scalar: string; lanes: number; length: string }[] {
  const source = kernelSources[kernel] ?? '';
  return [...source.matchAll(/^var<workgroup>\s+(\w+)\s*:\s*array<(\w+)(?:<(\w+)>)?,\s*([^>]+)>;/gm)].map((m) => {
    const vec = m[2]!.startsWith('vec');
    return { name: m[1]!, scalar: vec ? m[3]! : m[2]!, lanes: vec ? Number(m[2]!.slice(3)) : 1, length: m[4]!.trim() };
  });
}

/**
 * Scalars in each of a kernel's workgroup arrays (`var<workgroup> As: array<vec4<f32>, 528>` → As:
 * 2112); a length the WGSL gives as an expression of its consts and overrides is evaluated with
 * `constants` as the overrides (else their defaults).
 */
export function workgroupArrays(kernel: string, constants: Record<string, number> = {}): Record<string, number> {
  const source = kernelSources[kernel] ?? '';
  const arrays: Record<string, number> = {};
  for (const a of workgroupDecls(kernel)) {
    const length = evaluateExpression(kernel, source, a.length, constants);
    arrays[a.name] = length * a.lanes;
  }
  return arrays;
}

/** Bytes of workgroup memory a kernel takes with these override constants (f16 2 bytes a scalar, 32-bit types 4). */
export function workgroupBytes(kernel: string, constants: Record<string, number> = {}): number {
  const scalars = workgroupArrays(kernel, constants);
  return workgroupDecls(kernel).reduce((n, a) => n + scalars[a.name]! * (a.scalar === 'f16' ? 2 : 4), 0);
}

/** Packs a params object into the entry's uniform struct, checking names against the shader. */
export function packUniform(info: EntryInfo, op: string, params: Record<string, number | readonly number[]>): ArrayBuffer {
  const u = info.uniform!;
  // Rounded up to 16 bytes: GL's std140 blocks are read in vec4 units, and llvmpipe reading past
  // an 8-byte buffer corrupts the heap.
  const buf = new ArrayBuffer(Math.ceil(u.size / 16) * 16);
  const views = { u32: new Uint32Array(buf), i32: new Int32Array(buf), f32: new Float32Array(buf) };
  const known = new Set(u.members.map((m) => m.name));
  for (const key of Object.keys(params)) {
    if (!known.has(key))
      throw new Error(`${op}: kernel ${info.kernel}.${info.entry} has no parameter '${key}' (has: ${[...known].join(', ')})`);
  }
  for (const m of u.members) {
    const v = params[m.name];
    if (v === undefined) {
      if (m.name.startsWith('_')) continue; // padding
      throw new Error(`${op}: kernel ${info.kernel}.${info.entry} needs parameter '${m.name}'`);
    }
    const values = typeof v === 'number' ? [v] : v;
    if (values.length > m.scalars) {
      throw new Error(`${op}: parameter '${m.name}' of ${info.kernel}.${info.entry} holds ${m.scalars} values, got ${values.length}`);
    }
    views[m.scalar].set(values, m.offset / 4);
  }
  return buf;
}

/** WGSL extensions and the device features they need. */
const extensionFeatures: Record<string, GPUFeatureName> = {
  f16: 'shader-f16',
  subgroups: 'subgroups',
  chromium_experimental_subgroup_matrix: 'chromium-experimental-subgroup-matrix' as GPUFeatureName,
};

/** The device features a kernel's `enable` directives need. */
export function requiredFeatures(kernel: string): GPUFeatureName[] {
  const source = kernelSources[kernel] ?? '';
  return [...source.matchAll(/^enable\s+([\w\s,]+);/gm)].flatMap((m) =>
    m[1]!.split(',').map((e) => extensionFeatures[e.trim()] ?? (e.trim() as GPUFeatureName)),
  );
}
