// The demo app (demos/index.html) in headless Chromium on SwiftShader, driven like a user would:
// train the tiny preset on 16 px grey blobs for 40 steps in the worker, check that the loss falls and
// the sample grid is a picture, download the checkpoint, load the file back through the file picker
// and check that sampling-only mode draws the same samples for the same seed. Also: the page without
// WebGPU explains how to get it, a bad setting is reported instead of hanging, and rebuilding the model
// ten times returns the worker's GPU to its baseline. Screenshots go to tests/artifacts/demo/.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ElementHandle, Page } from 'puppeteer-core';
import { PNG } from 'pngjs';
import { openPage } from '../../scripts/chromium.mjs';
import { canvasStats } from './canvas-stats.ts';

const root = resolve(import.meta.dirname, '../..');
const artifacts = join(root, 'tests/artifacts/demo');
const downloads = join(artifacts, 'downloads');
const STEPS = 40;
const SEED = 5;

let session: Awaited<ReturnType<typeof openPage>>;
let page: Page;

beforeAll(async () => {
  rmSync(artifacts, { recursive: true, force: true });
  mkdirSync(downloads, { recursive: true });
  session = await openPage({ root, path: '/demos/index.html' });
  page = session.page;
  const cdp = await session.browser.target().createCDPSession();
  await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: downloads });
  await page.setViewport({ width: 1180, height: 900 });
  await page.waitForFunction(() => window.demo && window.demo.state !== 'starting', { timeout: 60_000 });
}, 120_000);

afterAll(async () => {
  await session?.close();
});

/** Set form fields the way a user does (each fires a change event). */
async function setFields(p: Page, selects: Record<string, string>, inputs: Record<string, number>): Promise<void> {
  for (const [id, v] of Object.entries(selects)) await p.select(`#${id}`, v);
  await p.evaluate((values) => {
    for (const [id, v] of Object.entries(values)) {
      const e = document.getElementById(id) as HTMLInputElement;
      e.value = String(v);
      e.dispatchEvent(new Event('change', { bubbles: true }));
    }
  }, inputs);
}

async function sampleOnce(p: Page, seed: number): Promise<number[]> {
  const before = await p.evaluate(() => window.demo.samples);
  await p.evaluate((s) => {
    const e = document.getElementById('seed') as HTMLInputElement;
    e.value = String(s);
    e.dispatchEvent(new Event('change', { bubbles: true }));
  }, seed);
  await p.click('#sample');
  await p.waitForFunction((n) => window.demo.samples > n || window.demo.errors.length > 0, { timeout: 120_000, polling: 200 }, before);
  const r = await p.evaluate(() => ({ errors: window.demo.errors, seed: window.demo.lastSamples!.seed, rgba: Array.from(window.demo.lastSamples!.grid.rgba) }));
  expect(r.errors).toEqual([]);
  expect(r.seed).toBe(seed);
  return r.rgba;
}


const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;

describe('demo app in headless Chromium', () => {
  test('finds the WebGPU adapter in its worker', async () => {
    const s = await page.evaluate(() => ({ state: window.demo.state, adapter: window.demo.adapter }));
    expect(s.state).toBe('idle');
    expect(s.adapter).toBeTruthy();
  });

  test(`trains the tiny preset for ${STEPS} steps: the loss falls, live samples are pictures`, async () => {
    await setFields(
      page,
      { dataset: 'blobs', size: '16', channels: '1', preset: 'tiny', corruption: 'blur' },
      { batch: 8, lr: 0.005, warmup: 2, 'log-every': 1, 'sample-every': 20, 'sample-count': 4, 'sample-steps': 8, seed: 3 },
    );
    await page.click('#start');
    await page.waitForFunction((n) => window.demo.step >= n || window.demo.errors.length > 0, { timeout: 240_000, polling: 250 }, STEPS);
    await page.click('#pause');
    await page.waitForFunction(() => window.demo.state === 'paused', { timeout: 60_000 });
    const d = await page.evaluate(() => ({ errors: window.demo.errors, losses: window.demo.losses(), samples: window.demo.samples, model: window.demo.model, last: window.demo.lastSamples && { step: window.demo.lastSamples.step, frames: window.demo.lastSamples.frames } }));
    expect(d.errors).toEqual([]);
    expect(d.model?.mode).toBe('train');
    expect(d.model?.imageShape).toEqual([1, 16, 16]);
    const losses = d.losses.map((p) => p.loss);
    expect(losses.length).toBeGreaterThanOrEqual(STEPS);
    expect(losses.every(Number.isFinite)).toBe(true);
    // Losses of single batches are noisy (t is drawn per sample); compare the first and last ten.
    const first = mean(losses.slice(0, 10));
    const last = mean(losses.slice(-10));
    expect(last, `first ten ${first}, last ten ${last}`).toBeLessThan(0.7 * first);
    // Previews every 20 steps arrived while training ran, each with an animation.
    expect(d.samples).toBeGreaterThanOrEqual(2);
    expect(d.last!.step).toBeGreaterThanOrEqual(20);
    expect(d.last!.frames).toBeGreaterThanOrEqual(4);
    const grid = await canvasStats(page, 'samples');
    expect(grid.width).toBe(2 * 16 + 3); // 2x2 grid of 16 px images, 1 px padding
    expect(grid.std, 'the sample canvas is not one flat colour').toBeGreaterThan(5);
    const anim = await canvasStats(page, 'animation');
    expect(anim.width).toBe(grid.width);
    expect(anim.std).toBeGreaterThan(1);
    await page.screenshot({ path: join(artifacts, 'after-training.png') });
  });

  test('a downloaded checkpoint, loaded back, samples the same pictures for the same seed', async () => {
    const trained = await sampleOnce(page, SEED);
    const other = await sampleOnce(page, SEED + 1);
    expect(other, 'another seed gives other samples').not.toEqual(trained);

    const trainedStep = await page.evaluate(() => window.demo.step);
    expect(trainedStep).toBeGreaterThanOrEqual(STEPS);
    await page.click('#save');
    await page.waitForFunction(() => window.demo.lastCheckpoint !== null, { timeout: 60_000 });
    const name = await page.evaluate(() => window.demo.lastCheckpoint!.name);
    const file = join(downloads, name);
    for (let i = 0; i < 100 && !existsSync(file); i++) await new Promise((r) => setTimeout(r, 100));
    expect(readdirSync(downloads)).toContain(name);
    const bytes = readFileSync(file);
    expect(bytes.length).toBe(await page.evaluate(() => window.demo.lastCheckpoint!.bytes.length));

    const input = (await page.$('#load')) as ElementHandle<HTMLInputElement>;
    await input.uploadFile(file);
    await page.waitForFunction(() => window.demo.model?.mode === 'sample' || window.demo.errors.length > 0, { timeout: 120_000 });
    const model = await page.evaluate(() => ({ model: window.demo.model, errors: window.demo.errors, start: (document.getElementById('start') as HTMLButtonElement).disabled }));
    expect(model.errors).toEqual([]);
    expect(model.model!.step).toBe(trainedStep);
    expect(model.start, 'Start is off in sampling-only mode').toBe(true);

    const loaded = await sampleOnce(page, SEED);
    expect(loaded.length).toBe(trained.length);
    let maxDiff = 0;
    for (let i = 0; i < loaded.length; i++) maxDiff = Math.max(maxDiff, Math.abs(loaded[i]! - trained[i]!));
    expect(maxDiff, 'same weights, prior bank, sampler and seed: same pixels').toBe(0);
    await page.screenshot({ path: join(artifacts, 'sampling-from-checkpoint.png') });
  });

  test('the MNIST and emoji files are served to the page and decode into data sets', async () => {
    // A string, not a function: vitest would rewrite a dynamic import inside a function for Node.
    const sets = (await page.evaluate(`(async () => {
      const { loadDataset } = await import('/demos/app/datasets.ts');
      const describe = (d) => {
        const img = d.get(d.length - 1);
        return { name: d.name, length: d.length, channels: d.channels, size: d.size, mean: img.reduce((a, b) => a + b, 0) / img.length };
      };
      return [describe(await loadDataset({ kind: 'mnist' })), describe(await loadDataset({ kind: 'emoji', size: 16 }))];
    })()`)) as { name: string; length: number; channels: number; size: number; mean: number }[];
    expect(sets[0]).toMatchObject({ name: 'mnist', length: 10_000, channels: 1, size: 32 });
    expect(sets[0]!.mean).toBeGreaterThan(0.02); // a digit: some ink on black
    expect(sets[0]!.mean).toBeLessThan(0.5);
    expect(sets[1]).toMatchObject({ name: 'emoji-16', channels: 3, size: 16 });
    expect(sets[1]!.length).toBeGreaterThan(1000);
    expect(sets[1]!.mean).toBeGreaterThan(0.05); // composited on white, not a transparent hole
    expect(sets[1]!.mean).toBeLessThan(0.98);
  });

  test("trains on the user's own images, chosen with the file picker (files that are not images are skipped)", async () => {
    const dir = join(artifacts, 'my-images');
    mkdirSync(dir, { recursive: true });
    const files: string[] = [];
    for (let k = 0; k < 3; k++) {
      const png = new PNG({ width: 24, height: 20 });
      for (let i = 0; i < 24 * 20; i++) png.data.set([(i * (k + 3)) % 256, 40 * k, 255 - ((i * 7) % 256), 255], i * 4);
      files.push(join(dir, `img${k}.png`));
      writeFileSync(files[k]!, PNG.sync.write(png));
    }
    files.push(join(dir, 'broken.png'));
    writeFileSync(files[3]!, 'not a png');
    const input = (await page.$('#images')) as ElementHandle<HTMLInputElement>;
    await input.uploadFile(...files);
    expect(await page.$eval('#dataset', (e) => (e as HTMLSelectElement).value)).toBe('images');
    await setFields(page, { size: '16', channels: '1', preset: 'tiny' }, { batch: 2, 'sample-every': 0 });
    await page.click('#start');
    await page.waitForFunction(() => (window.demo.model?.mode === 'train' && window.demo.step >= 2) || window.demo.errors.length > 0, { timeout: 120_000, polling: 200 });
    await page.click('#pause');
    await page.waitForFunction(() => window.demo.state === 'paused', { timeout: 60_000 });
    const d = await page.evaluate(() => ({ errors: window.demo.errors, model: window.demo.model }));
    expect(d.errors).toEqual([]);
    expect(d.model).toMatchObject({ dataset: 'dropped-images (3 images)', imageShape: [1, 16, 16] });
  });

  test('rebuilding the model 10 times leaks no GPU buffer, and releasing it returns the device to its baseline', async () => {
    // The worker's census counts every engine buffer created minus destroyed (src/gpu/census.ts).
    await page.evaluate(() => window.demo.release());
    const base = await page.evaluate(() => window.demo.census());
    expect(base.session).toBe(false);
    const settings = { dataset: { kind: 'blobs', size: 16, channels: 1 }, preset: 'tiny', corruption: 'blur', batch: 4, lr: 0.005, logEvery: 1, sampleEvery: 0, sampleCount: 4, sampleSteps: 4, seed: 1 } as const;
    const live: { buffers: number; bytes: number }[] = [];
    for (let i = 0; i < 10; i++) {
      await page.evaluate((s) => window.demo.rebuild(s), settings);
      const c = await page.evaluate(() => window.demo.census());
      expect(c.session).toBe(true);
      live.push({ buffers: c.buffers, bytes: c.bytes });
    }
    expect(live[0]!.buffers, 'a model holds buffers').toBeGreaterThan(base.buffers);
    expect(live.slice(1), 'every rebuild holds what the first did: the old model was released').toEqual(live.slice(0, -1));
    await page.evaluate(() => window.demo.release());
    const end = await page.evaluate(() => window.demo.census());
    expect({ buffers: end.buffers, bytes: end.bytes }).toEqual({ buffers: base.buffers, bytes: base.bytes });
    expect(await page.evaluate(() => window.demo.errors)).toEqual([]);
  });

  test('a setting the network cannot take is reported on the page', async () => {
    // rgb64 has 4 levels: 20 px images cannot be halved three times.
    await setFields(page, { dataset: 'blobs', size: '20', channels: '3', preset: 'rgb64' }, {});
    await page.click('#start');
    await page.waitForFunction(() => window.demo.errors.length > 0, { timeout: 60_000 });
    const shown = await page.$eval('#error', (e) => ({ hidden: (e as HTMLElement).hidden, text: e.textContent }));
    expect(shown.hidden).toBe(false);
    expect(shown.text).toMatch(/imageSize/);
    expect(await page.evaluate(() => window.demo.errors)).toHaveLength(1);
    expect(await page.evaluate(() => window.demo.state)).not.toBe('running');
  });

  test('without WebGPU the page says so and how to enable it', async () => {
    const p = await session.browser.newPage();
    try {
      await p.evaluateOnNewDocument(() => {
        Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined });
      });
      await p.goto(page.url());
      await p.waitForFunction(() => window.demo?.state === 'no-webgpu', { timeout: 30_000 });
      const notice = await p.$eval('#no-webgpu', (e) => ({ hidden: (e as HTMLElement).hidden, text: e.textContent ?? '' }));
      expect(notice.hidden).toBe(false);
      expect(notice.text).toMatch(/enable-unsafe-webgpu/);
      expect(notice.text).toMatch(/secure context/);
      expect(await p.$eval('#start', (e) => (e as HTMLButtonElement).disabled)).toBe(true);
      await p.screenshot({ path: join(artifacts, 'no-webgpu.png') });
    } finally {
      await p.close();
    }
  });
});
