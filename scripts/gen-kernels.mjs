// Bundles kernels/**/*.wgsl into src/generated/kernels.ts (named by path: kernels/conv/gemm.wgsl is
// 'conv/gemm') so the library reads no files at run time (a browser build has no file system), and
// the bench's own kernels, bench/kernels/*.wgsl, into bench/generated/kernels.ts (the bench
// registers them; the library does not ship them). Files under a parts/ folder are not kernels: a
// kernel's line `// @include parts/x.wgsl` is replaced by that file (WGSL has no includes), and
// `// @reflect parts/x.wgsl` names the source wgsl_reflect reads instead of the whole kernel (for
// WGSL extensions its parser does not know). Rewrites an output only when a kernel changed.
// Kernels that WGSL cannot parametrise (separate values per accumulator, intrinsics per adapter) are
// generated: `// @variants NAME a b ...` lines make one kernel per combination of their values, named
// `<file>-<a>-<c>...` in the order of those lines, with `${NAME}` replaced everywhere (include paths
// too); `// @for i 0 LIMIT` ... `// @end` repeats its lines for i = 0 .. LIMIT − 1 (LIMIT a number or
// a variant), replacing `${i}`; `// @reflect-as NAME=value` reflects the kernel as its variant with
// that value instead (by name: the `reflectSources` entry is that kernel's name); `// @skip A=a B=b`
// leaves out the combinations with all those values (variants no tile uses). Generated kernels
// keep no comment-only lines (the template has them; there are many variants to ship).
import { readdirSync, readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const directive = /^\/\/ @(include|reflect) (\S+)\s*$/;
const variantLine = /^\/\/ @variants (\w+) (.+)$/;
const reflectAs = /^\/\/ @reflect-as (\w+)=(\S+)\s*$/;
const forLine = /^\s*\/\/ @for (\w+) (\d+) (\w+)\s*$/;
const skipLine = /^\/\/ @skip (.+)$/;
const endLine = /^\s*\/\/ @end\s*$/;

const substitute = (text, values) => text.replace(/\$\{(\w+)\}/g, (m, name) => (name in values ? values[name] : m));

/** Unrolls the `@for` blocks of `lines` (nested ones included), given the variant's values. */
function unroll(lines, values) {
  const out = [];
  for (let i = 0; i < lines.length; i++) {
    const m = forLine.exec(lines[i]);
    if (!m) {
      out.push(lines[i]);
      continue;
    }
    let depth = 1;
    let j = i + 1;
    for (; depth > 0; j++) {
      if (j >= lines.length) throw new Error(`gen-kernels: @for ${m[1]} has no @end`);
      if (forLine.test(lines[j])) depth++;
      else if (endLine.test(lines[j])) depth--;
    }
    const limit = Number(m[3] in values ? values[m[3]] : m[3]);
    if (!Number.isInteger(limit)) throw new Error(`gen-kernels: @for ${m[1]} has no limit '${m[3]}'`);
    const body = lines.slice(i + 1, j - 1);
    for (let v = Number(m[2]); v < limit; v++)
      out.push(
        ...unroll(
          body.map((l) => substitute(l, { ...values, [m[1]]: String(v) })),
          values,
        ),
      );
    i = j - 1;
  }
  return out;
}

/** Every combination of a template's `@variants` values, in the order of its lines, less its `@skip`s. */
function combinations(source) {
  let combos = [{}];
  const skips = [];
  for (const line of source.split('\n')) {
    const m = variantLine.exec(line);
    if (m) combos = combos.flatMap((c) => words(m[2]).map((v) => ({ ...c, [m[1]]: v })));
    const skip = skipLine.exec(line);
    if (skip) skips.push(words(skip[1]).map((pair) => pair.split('=')));
  }
  return combos.filter((c) => !skips.some((pairs) => pairs.every(([name, value]) => c[name] === value)));
}

const words = (text) => text.trim().split(/\s+/);

/** A template expanded for one combination of its variants: includes, substitutions, unrolled loops, directives dropped. */
function generate(file, values) {
  const lines = substitute(expand(file, values), values).split('\n');
  return unroll(lines, values)
    .filter((l) => !/^\s*\/\//.test(l) && l.trim() !== '')
    .join('\n');
}

/** The file with its includes expanded, its @reflect lines dropped. */
function expand(file, values = {}) {
  return substitute(readFileSync(file, 'utf8'), values)
    .split('\n')
    .filter((line) => directive.exec(line)?.[1] !== 'reflect')
    .map((line) => {
      const m = directive.exec(line);
      return m ? expand(join(dirname(file), m[2]), values).replace(/\n$/, '') : line;
    })
    .join('\n');
}

function reflectSource(file) {
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = directive.exec(line);
    if (m?.[1] === 'reflect') return expand(join(dirname(file), m[2]));
  }
  return null;
}

const table = (name, pairs) =>
  `export const ${name}: Record<string, string> = ` +
  `{\n${pairs.map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)},`).join('\n')}\n};\n`;

/** Writes `outFile` exporting `exportName` (every kernel of `kernelDir` by name) and, if given, `reflectName`. */
function bundle(kernelDir, outFile, exportName, reflectName, from) {
  if (!existsSync(kernelDir)) return; // bench/ is not in the published package
  const names = readdirSync(kernelDir, { recursive: true })
    .map((f) => f.split('\\').join('/'))
    .filter((f) => f.endsWith('.wgsl') && !f.split('/').includes('parts'))
    .sort();
  const kernels = [];
  const reflected = [];
  for (const f of names) {
    const file = join(kernelDir, f);
    const source = readFileSync(file, 'utf8');
    if (!variantLine.test(source.split('\n').find((l) => variantLine.test(l)) ?? '')) {
      kernels.push([f.slice(0, -5), expand(file)]);
      const r = reflectSource(file);
      if (r !== null) reflected.push([f.slice(0, -5), r]);
      continue;
    }
    const as = source
      .split('\n')
      .map((l) => reflectAs.exec(l))
      .find(Boolean);
    for (const values of combinations(source)) {
      const name = [f.slice(0, -5), ...Object.values(values)].join('-');
      kernels.push([name, generate(file, values)]);
      if (as && values[as[1]] !== as[2])
        reflected.push([name, [f.slice(0, -5), ...Object.values({ ...values, [as[1]]: as[2] })].join('-')]);
    }
  }
  let text = `// Generated by scripts/gen-kernels.mjs from ${from}. Do not edit.\n${table(exportName, kernels)}`;
  if (reflectName)
    text +=
      `/** What wgsl_reflect reads where that is not the whole kernel: WGSL, or the name of a kernel to read instead. ` +
      `*/\n${table(reflectName, reflected)}`;
  mkdirSync(dirname(outFile), { recursive: true });
  if (!existsSync(outFile) || readFileSync(outFile, 'utf8') !== text) writeFileSync(outFile, text);
}

bundle(join(root, 'kernels'), join(root, 'src', 'generated', 'kernels.ts'), 'kernelSources', 'reflectSources', 'kernels/**/*.wgsl');
bundle(join(root, 'bench', 'kernels'), join(root, 'bench', 'generated', 'kernels.ts'), 'benchKernelSources', null, 'bench/kernels/*.wgsl');
