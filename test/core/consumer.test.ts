// The built package as a consumer sees it: `tsc -p tsconfig.json` builds dist/, and a package
// outside the repository that depends on `voxgpu` (a symlink in its node_modules, as `npm install
// file:...` makes) type-checks against the exported types and runs an op and a gradient in Node.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init } from '../../src/index.js';
import { hangLimitMs } from '../helpers/hang-limit.js';

const repo = resolve(import.meta.dirname, '../..');
const tsc = join(repo, 'node_modules', 'typescript', 'bin', 'tsc');
let dir: string;

function run(args: string[], cwd: string): { code: number; out: string } {
  try {
    const out = execFileSync(process.execPath, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: hangLimitMs });
    return { code: 0, out };
  } catch (e) {
    const err = e as { status: number | null; stdout?: string; stderr?: string };
    return { code: err.status ?? -1, out: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'voxgpu-consumer-'));
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies: { voxgpu: `file:${repo}` } }, null, 2),
  );
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(repo, join(dir, 'node_modules', 'voxgpu'), 'dir');
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        types: [],
      },
      files: ['main.ts'],
    }),
  );
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('the built package, from a consumer', () => {
  it("package.json exports dist/index.js with its types as '.'", () => {
    const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { name: string; type: string; exports?: unknown };
    expect(pkg.name).toBe('voxgpu');
    expect(pkg.type).toBe('module');
    expect(pkg.exports).toMatchObject({ '.': { types: './dist/index.d.ts', import: './dist/index.js' } });
  });

  // A machine given the built project without the dev dependencies (a lent GPU machine: see
  // scripts/gpu-checks.sh) has no compiler to run.
  const noTsc = !existsSync(tsc);

  it.skipIf(noTsc)('tsc -p tsconfig.json builds dist/', () => {
    const r = run([tsc, '-p', 'tsconfig.json'], repo);
    expect(r.out).toBe('');
    expect(r.code).toBe(0);
  });

  it.skipIf(noTsc)("type-checks `import { init, tensor, add } from 'voxgpu'` and rejects misuse", () => {
    writeFileSync(
      join(dir, 'main.ts'),
      `import { init, tensor, add, sum, type Tensor, type Description } from 'voxgpu';
const ctx = await init();
const d: Description = ctx.describe();
const a: Tensor = tensor([1, 2, 3], [3], { requiresGrad: true });
const loss: Tensor = sum(add(a, 2));
loss.backward();
const g: Float32Array = await a.grad!.toArray();
console.log(d.adapter, g.length);
`,
    );
    const ok = run([tsc, '-p', 'tsconfig.json'], dir);
    expect(ok.out).toBe('');
    expect(ok.code).toBe(0);

    writeFileSync(
      join(dir, 'main.ts'),
      `import { tensor, add } from 'voxgpu';\nconst n: number = add(tensor([1]), 'two');\nconsole.log(n);\n`,
    );
    const bad = run([tsc, '-p', 'tsconfig.json'], dir);
    expect(bad.code).not.toBe(0);
    expect(bad.out).toMatch(/main\.ts\(2,7\): error TS2322/);
    expect(bad.out).toMatch(/main\.ts\(2,36\): error TS2345: Argument of type 'string'/);
  });

  it('runs an op and a gradient end to end in a plain node process', async () => {
    writeFileSync(
      join(dir, 'main.mjs'),
      `import { init, tensor, add, mul, sum } from 'voxgpu';
const ctx = await init();
const a = tensor([1, 2, 3], [3], { requiresGrad: true });
const b = tensor([10, 20, 30], [3]);
const y = add(a, b);
sum(mul(y, y)).backward();
const grad = Array.from(await a.grad.toArray());
console.log(JSON.stringify({ adapter: ctx.describe().adapter, y: Array.from(await y.toArray()), grad }));
`,
    );
    const r = run(['main.mjs'], dir);
    expect(r.code, r.out).toBe(0);
    const line = r.out.split('\n').find((l) => l.startsWith('{'));
    expect(line, r.out).toBeDefined();
    const result = JSON.parse(line!) as { adapter: string; y: number[]; grad: number[] };
    expect(result.y).toEqual([11, 22, 33]);
    expect(result.grad).toEqual([22, 44, 66]);
    // The same adapter this process gets from init().
    expect(result.adapter).toBe((await init()).describe().adapter);
  });

  // src/index.ts points file helpers to 'voxgpu/node' (src/node.ts): package.json must export it as
  // "./node": { "types": "./dist/node.d.ts", "import": "./dist/node.js" }.
  it("'voxgpu/node' resolves to the Node entry with the file helpers", () => {
    writeFileSync(
      join(dir, 'node-entry.mjs'),
      `const m = await import('voxgpu/node');\nconsole.log(JSON.stringify([typeof m.readVolume, typeof m.saveCheckpoint, typeof ` +
        `m.add]));\n`,
    );
    const r = run(['node-entry.mjs'], dir);
    expect(r.out.trim(), r.out).toBe('["function","function","function"]');
    expect(r.code).toBe(0);
  });
});
