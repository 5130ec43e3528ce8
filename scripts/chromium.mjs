// Headless Chromium with WebGPU, driven by puppeteer-core (no browser download), against a Vite dev
// server on 127.0.0.1 (WebGPU needs a secure context). Shared by the browser tests and benchmarks.
import { existsSync } from 'node:fs';
import { createServer } from 'vite';
import puppeteer from 'puppeteer-core';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
];

/** CHROMIUM_PATH, else the usual system locations. */
export function chromiumPath(explicit) {
  const candidates = [explicit, process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
  const found = candidates.find((p) => p && existsSync(p));
  if (!found) throw new Error("No Chromium found: install Debian's chromium (npm run setup), or pass --chrome=PATH / set CHROMIUM_PATH.");
  return found;
}

/**
 * Start a Vite dev server rooted at `root` and open `path` in headless Chromium.
 * Returns { page, browser, server, errors, close() }. `protocolTimeout` (ms) bounds one page call
 * (puppeteer's default is 180 s; a benchmark that autotunes on SwiftShader needs longer).
 */
export async function openPage({ root, path, chrome, extraArgs = [], headless = true, protocolTimeout }) {
  const server = await createServer({
    root,
    configFile: false,
    logLevel: 'error',
    // No file watching or HMR: a test or benchmark page must not reload when a source file changes.
    server: { host: '127.0.0.1', port: 0, strictPort: false, watch: null, hmr: false },
    optimizeDeps: { noDiscovery: true, include: [] },
  });
  await server.listen();
  const addr = server.httpServer.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  let browser;
  try {
    browser = await puppeteer.launch({
      executablePath: chromiumPath(chrome),
      headless,
      ...(protocolTimeout ? { protocolTimeout } : {}),
      args: [...CHROMIUM_ARGS, ...extraArgs],
      env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' },
    });
  } catch (e) {
    await server.close();
    throw e;
  }
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto(`http://127.0.0.1:${port}${path}`);
  const close = async () => {
    await browser.close().catch(() => {});
    await server.close().catch(() => {});
  };
  return { page, browser, server, errors, port, close };
}
