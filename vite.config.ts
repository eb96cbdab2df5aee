// The browser demo (examples/browser): `vite` serves it, `vite build` bundles it into examples/out/browser.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const repo = fileURLToPath(new URL('./', import.meta.url));

/**
 * The library imports its WGSL from src/generated (git-ignored): make it fresh before Vite reads src,
 * and again whenever a kernel changes under the dev server (which then reloads the page).
 */
function generateKernels(): Plugin {
  const generate = (): void => {
    execFileSync(process.execPath, ['scripts/gen-kernels.mjs'], { cwd: repo, stdio: 'inherit' });
  };
  return {
    name: 'voxgpu-generate-kernels',
    buildStart: generate,
    configureServer(server) {
      server.watcher.add(join(repo, 'kernels'));
      server.watcher.on('change', (file) => {
        if (file.endsWith('.wgsl')) generate();
      });
    },
  };
}

export default defineConfig({
  root: fileURLToPath(new URL('./examples/browser/', import.meta.url)),
  // Relative asset URLs, so the built page works from any folder of any static host.
  base: './',
  plugins: [generateKernels()],
  // WebGPU needs a secure context: plain http is only allowed on localhost.
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1' },
  build: {
    outDir: fileURLToPath(new URL('./examples/out/browser/', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // The library records an optimizer's class name (constructor.name) in checkpoints and checks it on
    // load; minified names ("yi") would make Node checkpoints unloadable here and browser ones unreadable
    // elsewhere. Remove once checkpoints use a stable optimizer id.
    rolldownOptions: { output: { keepNames: true } },
  },
});
