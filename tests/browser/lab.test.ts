// The score-matching lab page (demos/lab/) in headless Chromium, driven like a user: DSM on the two
// moons with a tiny model trains on the page, the curves J_ESM(q_sigma) and J_DSM + C coincide (their
// difference is the evaluation set's constant at every step), the true / target / learned fields
// and the Langevin samples are drawn; another objective starts a fresh run; a bad mixture is
// reported. The demo index links to the lab. Screenshots go to tests/artifacts/lab/.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Page } from 'puppeteer-core';
import { openPage } from '../../scripts/chromium.mjs';
import { canvasStats } from './canvas-stats.ts';

const root = resolve(import.meta.dirname, '../..');
const artifacts = join(root, 'tests/artifacts/lab');

let session: Awaited<ReturnType<typeof openPage>>;
let page: Page;

beforeAll(async () => {
  rmSync(artifacts, { recursive: true, force: true });
  mkdirSync(artifacts, { recursive: true });
  session = await openPage({ root, path: '/demos/lab/index.html' });
  page = session.page;
  await page.setViewport({ width: 1280, height: 1100 });
  await page.waitForFunction(() => window.lab && window.lab.state !== 'starting', { timeout: 60_000 });
}, 120_000);

afterAll(async () => {
  await session?.close();
});

async function setFields(p: Page, selects: Record<string, string>, inputs: Record<string, number | string>): Promise<void> {
  for (const [id, v] of Object.entries(selects)) await p.select(`#${id}`, v);
  await p.evaluate((values) => {
    for (const [id, v] of Object.entries(values)) {
      const e = document.getElementById(id) as HTMLInputElement;
      e.value = String(v);
      e.dispatchEvent(new Event('change', { bubbles: true }));
    }
  }, inputs);
}


const TINY = { width: 16, depth: 1, batch: 64, lr: 0.01, steps: 40, every: 10, 'eval-points': 512, chains: 128, seed: 1 };

describe('the score-matching lab page in headless Chromium', () => {
  test('finds the WebGPU adapter', async () => {
    const s = await page.evaluate(() => ({ state: window.lab.state, adapter: window.lab.adapter, errors: window.lab.errors }));
    expect(s.errors).toEqual([]);
    expect(s.state).toBe('idle');
    expect(s.adapter).toBeTruthy();
  });

  test('trains DSM on the moons: J_ESM(q_sigma) and J_DSM + C coincide, the fields are drawn', async () => {
    await setFields(page, { density: 'moons', objective: 'dsm', activation: 'softplus' }, { ...TINY, sigma: 0.5 });
    await page.click('#start');
    await page.waitForFunction(() => (window.lab.state === 'paused' && window.lab.step >= 40) || window.lab.errors.length > 0, { timeout: 300_000, polling: 250 });
    const d = await page.evaluate(() => ({ errors: window.lab.errors, curve: window.lab.curve(), constants: window.lab.constants, rows: window.lab.chartRows(), fields: window.lab.fields }));
    expect(d.errors).toEqual([]);
    expect(d.curve.map((p) => p.step)).toEqual([0, 10, 20, 30, 40]);
    expect(d.rows).toBe(5);
    expect(d.fields).toBeGreaterThanOrEqual(5);
    // On the fixed evaluation points the difference is the set's own constant plus theta-dependent
    // Monte Carlo terms (small with 512 points); the objective itself falls by more.
    for (const p of d.curve) expect(Math.abs(p.esmSmoothed - p.dsm - d.constants!.evalSet.cDsm)).toBeLessThan(0.5);
    expect(Math.abs(d.constants!.evalSet.cDsm - d.constants!.cDsm), 'the evaluation set estimates the analytic constant').toBeLessThan(1);
    expect(d.curve[0]!.esmSmoothed - d.curve[4]!.esmSmoothed).toBeGreaterThan(0.3);
    expect(await page.$eval('#target-figure', (e) => (e as HTMLElement).hidden)).toBe(false);
    const truth = await canvasStats(page, 'truth');
    const learned = await canvasStats(page, 'learned');
    expect(truth.width).toBe(288);
    expect(truth.std, 'density and arrows, not one flat colour').toBeGreaterThan(10);
    expect(learned.pixels, 'the learned field is not the true one').not.toEqual(truth.pixels);
    await page.screenshot({ path: join(artifacts, 'dsm-moons.png'), fullPage: true });
  });

  test('Langevin samples from the learned model are drawn over the density', async () => {
    const before = await canvasStats(page, 'samples');
    await page.click('#sample');
    await page.waitForFunction(() => window.lab.samples >= 1 || window.lab.errors.length > 0, { timeout: 120_000, polling: 250 });
    expect(await page.evaluate(() => window.lab.errors)).toEqual([]);
    const after = await canvasStats(page, 'samples');
    expect(after.pixels).not.toEqual(before.pixels);
    expect(after.mean).toBeGreaterThan(before.mean); // green dots on the dimmed density
  });

  test('another objective starts a fresh run (ISM: no target panel)', async () => {
    await setFields(page, { objective: 'ism' }, { steps: 20 });
    await page.click('#start');
    await page.waitForFunction(() => (window.lab.state === 'paused' && window.lab.settings?.objective === 'ism' && window.lab.step >= 20) || window.lab.errors.length > 0, { timeout: 300_000, polling: 250 });
    const d = await page.evaluate(() => ({ errors: window.lab.errors, curve: window.lab.curve(), constants: window.lab.constants }));
    expect(d.errors).toEqual([]);
    expect(d.curve.map((p) => p.step)).toEqual([0, 10, 20]);
    for (const p of d.curve) expect(Math.abs(p.esm - p.ism - d.constants!.evalSet.cIsm)).toBeLessThan(0.05 * d.constants!.cIsm);
    expect(await page.$eval('#target-figure', (e) => (e as HTMLElement).hidden)).toBe(true);
    await page.screenshot({ path: join(artifacts, 'ism-moons.png'), fullPage: true });
  });

  test('a bad mixture is reported on the page', async () => {
    await setFields(page, { density: 'custom' }, { mixture: '{"components": [{"mean": [0, 0], "cov": [[1, 2], [2, 1]]}]}' });
    await page.click('#start');
    await page.waitForFunction(() => window.lab.errors.length > 0, { timeout: 60_000 });
    const shown = await page.$eval('#error', (e) => ({ hidden: (e as HTMLElement).hidden, text: e.textContent }));
    expect(shown.hidden).toBe(false);
    expect(shown.text).toMatch(/not positive definite/);
    expect(await page.evaluate(() => window.lab.state)).toBe('error');
  });

  test('the demo index links to the lab', () => {
    expect(readFileSync(join(root, 'demos/index.html'), 'utf8')).toContain('href="./lab/"');
  });
});
