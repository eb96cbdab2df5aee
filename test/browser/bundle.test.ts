// The library in a standard bundler: a production `vite build` of the demo and of the op harness
// must pull in no Node built-in and never the `webgpu` package (Dawn), and the kernels must travel
// inside the bundle (a browser has no file system to read kernels/*.wgsl from). Needs no browser.
import { readdirSync, readFileSync, rmSync, mkdtempSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type InlineConfig, type Plugin } from 'vite';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './browser.js';

/** Records every import of a Node built-in or of Dawn, with the module that asked for it. */
function forbiddenImports(found: string[]): Plugin {
  return {
    name: 'record-forbidden-imports',
    enforce: 'pre',
    resolveId(source, importer) {
      if (isBuiltin(source) || source === 'webgpu' || source.startsWith('webgpu/')) found.push(`${source} <- ${importer}`);
      return null;
    },
  };
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

async function bundle(config: InlineConfig): Promise<{ forbidden: string[]; js: string; files: string[] }> {
  const outDir = mkdtempSync(join(tmpdir(), 'voxgpu-bundle-'));
  const forbidden: string[] = [];
  try {
    await build({ ...config, logLevel: 'warn', plugins: [forbiddenImports(forbidden)], build: { outDir, emptyOutDir: true } });
    const files = filesUnder(outDir);
    const js = files
      .filter((f) => f.endsWith('.js'))
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
    return { forbidden, js, files: files.map((f) => f.slice(outDir.length + 1)) };
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

const pages: Record<string, InlineConfig> = {
  'the demo (vite.config.ts)': { configFile: join(repoRoot, 'vite.config.ts') },
  'the op harness': { configFile: false, root: fileURLToPath(new URL('./harness/', import.meta.url)), base: './' },
};

describe('vite build', () => {
  for (const [name, config] of Object.entries(pages)) {
    it(`bundles ${name} for the browser without Node built-ins or Dawn`, async () => {
      const { forbidden, js, files } = await bundle(config);
      expect(forbidden, 'imports reaching Node-only modules').toEqual([]);
      // What the output itself must not contain, whichever way a Node module got in.
      expect(js).not.toMatch(/["'`]node:[a-z]/);
      expect(js).not.toContain('__vite-browser-external');
      expect(js).not.toMatch(/\brequire\(\s*["'`]/);
      expect(js).not.toMatch(/(from|import\()\s*["'`]webgpu["'`]/);
      // Dawn is reached only through adapter.ts's variable import, which the bundler must leave alone.
      expect(files.some((f) => /adapter-node/.test(f))).toBe(false);
      // The kernels are inside the bundle: the WGSL of a core kernel is there as a string.
      expect(js).toMatch(/@compute\s*@workgroup_size/);
      expect(files.filter((f) => f.endsWith('.wgsl'))).toEqual([]);
    });
  }
});
