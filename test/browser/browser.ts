// Shared plumbing of the real-browser tests: find (or install) Chromium, launch it headless with
// WebGPU on SwiftShader, and serve production builds of a page on 127.0.0.1 (WebGPU needs a secure
// context; localhost counts).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build, preview, type InlineConfig, type PreviewServer } from 'vite';
import { hangLimitMs } from '../helpers/hang-limit.js';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

const candidates = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome-stable', '/usr/bin/google-chrome'];

function installedChromium(): string | null {
  const env = process.env.CHROMIUM_PATH;
  if (env) return existsSync(env) ? env : null;
  return candidates.find((c) => existsSync(c)) ?? null;
}

let found: { path: string | null; reason: string } | undefined;

/**
 * The Chromium to drive. When none is installed, scripts/setup-browser.sh installs Debian's; only
 * when that fails too do the browser tests skip, with `reason` saying why.
 */
export function findChromium(): { path: string | null; reason: string } {
  if (found) return found;
  let path = installedChromium();
  let reason = '';
  if (!path) {
    const r = spawnSync('bash', [join(repoRoot, 'scripts/setup-browser.sh')], { stdio: 'inherit', timeout: hangLimitMs });
    path = installedChromium();
    if (!path)
      reason =
        `browser tests skipped: no Chromium (set CHROMIUM_PATH) and scripts/setup-browser.sh could not install one (exit ` +
        `${r.status ?? r.signal})`;
  }
  found = { path, reason };
  if (reason) console.warn(reason);
  return found;
}

/**
 * Headless Chromium with WebGPU. Without a GPU, Chromium picks SwiftShader (Vulkan on the CPU); the
 * flags pin it so that results and timings do not depend on the machine. `webgpu: false` leaves
 * WebGPU off (navigator.gpu exists but returns no adapter), for the "no WebGPU" message.
 */
export const webgpuArgs = [
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-vulkan=swiftshader',
  '--use-angle=swiftshader',
  '--use-webgpu-adapter=swiftshader',
  '--disable-vulkan-surface',
];

export async function launchChromium(options: { webgpu?: boolean } = {}): Promise<Browser> {
  const { path } = findChromium();
  if (!path) throw new Error('launchChromium: no Chromium');
  return chromium.launch({
    executablePath: path,
    headless: true,
    // Playwright gives every launch a fresh temporary profile; --no-sandbox because CI runs as root.
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      ...(options.webgpu === false ? [] : webgpuArgs),
    ],
  });
}

/**
 * A new tab whose waits (clicks, selectors, downloads) give up only on a hang: SwiftShader on a slow
 * or busy host takes several times as long as on the developers' (playwright's default is 30 s).
 * With its log (pageLog).
 */
export async function newPage(browser: Browser): Promise<{ page: Page; log: string[] }> {
  const page = await browser.newPage();
  page.setDefaultTimeout(hangLimitMs);
  return { page, log: pageLog(page) };
}

/** Collects the page's console errors and uncaught exceptions, so a failing test shows them. */
function pageLog(page: Page): string[] {
  const log: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') log.push(`console.${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => log.push(`pageerror: ${e.message}`));
  return log;
}

export interface Served {
  url: string;
  close(): Promise<void>;
}

/**
 * Production-builds a page (vite build) into a temporary folder and serves it with `vite preview` on a
 * free port: the tests exercise the bundle a user would ship, and a built page cannot reload itself
 * mid-test the way the dev server does when it discovers a dependency.
 */
export async function buildAndServe(config: InlineConfig): Promise<Served & { outDir: string }> {
  const outDir = mkdtempSync(join(tmpdir(), 'voxgpu-page-'));
  const common: InlineConfig = { ...config, logLevel: 'warn', build: { ...config.build, outDir, emptyOutDir: true } };
  await build(common);
  const server: PreviewServer = await preview({ ...common, preview: { host: '127.0.0.1', port: 0, strictPort: false } });
  const address = server.httpServer.address();
  if (!address || typeof address === 'string') throw new Error('buildAndServe: preview server has no port');
  return {
    url: `http://127.0.0.1:${address.port}/`,
    outDir,
    async close() {
      await server.close();
      rmSync(outDir, { recursive: true, force: true });
    },
  };
}

export const demoConfig: InlineConfig = { configFile: join(repoRoot, 'vite.config.ts') };

/** A new tab on the demo, once it has a WebGPU context and its first scan ('ready'), or its no-WebGPU message. */
export async function openDemo(
  browser: Browser,
  url: string,
  state: 'ready' | 'no-webgpu' = 'ready',
): Promise<{ page: Page; log: string[] }> {
  const { page, log } = await newPage(browser);
  await page.goto(url);
  await page.waitForSelector(`#app[data-state="${state}"]`, { state: 'attached' });
  return { page, log };
}

/** Clicks a button of the demo and waits until the task it starts has finished without error. */
export async function runTask(page: Page, button: string, log: string[]): Promise<void> {
  await page.click(button);
  await waitReady(page, log);
}

export async function waitReady(page: Page, log: string[]): Promise<void> {
  await page.waitForSelector('#app:is([data-state="ready"], [data-state="error"])', { state: 'attached' });
  if ((await page.getAttribute('#app', 'data-state')) === 'error') {
    throw new Error(`demo: ${await page.textContent('#status')} (page log: ${log.join(' | ') || 'empty'})`);
  }
}

export interface DemoSession {
  served: Served;
  browser: Browser;
  /** A scratch folder for files the test hands to the page; removed by close(). */
  dir: string;
  close(): Promise<void>;
}

/** The built demo, served, plus a Chromium with WebGPU and a scratch folder. */
export async function startDemoSession(): Promise<DemoSession> {
  const served = await buildAndServe(demoConfig);
  const browser = await launchChromium();
  const dir = mkdtempSync(join(tmpdir(), 'voxgpu-demo-'));
  return {
    served,
    browser,
    dir,
    async close() {
      await browser.close();
      await served.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
