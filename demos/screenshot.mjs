#!/usr/bin/env node
// Train in the demo page (headless Chromium, through the page's own controls) and save a screenshot:
//   node demos/screenshot.mjs [--out=docs/demo.png] [--steps=1000] [--dataset=blobs] [--size=16]
//     [--channels=3] [--preset=tiny] [--corruption=blur] [--batch=16] [--lr=0.003] [--chrome-flag=...]
// Run it through npm (Node >= 22), e.g. `npx node demos/screenshot.mjs --steps=2000`.
import { resolve } from 'node:path';
import { openPage } from '../scripts/chromium.mjs';

const opts = { out: 'docs/demo.png', steps: '1000', dataset: 'blobs', size: '16', channels: '3', preset: 'tiny', corruption: 'blur', batch: '16', lr: '0.003', seed: '0' };
const extraArgs = [];
for (const a of process.argv.slice(2)) {
  const m = /^--([^=]+)=(.*)$/.exec(a);
  if (!m) continue;
  if (m[1] === 'chrome-flag') extraArgs.push(m[2]);
  else opts[m[1]] = m[2];
}
const root = resolve(import.meta.dirname, '..');
const s = await openPage({ root, path: '/demos/index.html', extraArgs });
const t0 = Date.now();
let rc = 0;
try {
  const { page } = s;
  await page.setViewport({ width: 1180, height: 820 });
  await page.waitForFunction(() => window.demo && window.demo.state === 'idle', { timeout: 60_000 });
  for (const id of ['dataset', 'size', 'channels', 'preset', 'corruption']) await page.select(`#${id}`, opts[id]);
  const steps = Number(opts.steps);
  const inputs = { batch: opts.batch, lr: opts.lr, warmup: 20, 'log-every': 5, 'sample-every': Math.max(50, Math.round(steps / 4)), 'sample-count': 16, 'sample-steps': 50, seed: opts.seed };
  await page.evaluate((values) => {
    for (const [id, v] of Object.entries(values)) {
      const e = document.getElementById(id);
      e.value = String(v);
      e.dispatchEvent(new Event('change', { bubbles: true }));
    }
  }, inputs);
  await page.click('#start');
  let last = -1;
  for (;;) {
    const st = await page.evaluate(() => ({ step: window.demo.step, errors: window.demo.errors }));
    if (st.errors.length) throw new Error(st.errors.join('\n'));
    if (st.step >= steps) break;
    if (st.step - last >= 100) {
      console.error(`step ${st.step} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
      last = st.step;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  await page.click('#pause');
  await page.waitForFunction(() => window.demo.state === 'paused', { timeout: 120_000 });
  const before = await page.evaluate(() => window.demo.samples);
  await page.click('#sample');
  await page.waitForFunction((n) => window.demo.samples > n, { timeout: 300_000 }, before);
  // Let the reverse-process animation reach the middle of the chain.
  await new Promise((r) => setTimeout(r, 1000));
  await page.screenshot({ path: resolve(root, opts.out) });
  console.error(`saved ${opts.out} after ${opts.steps} steps in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
} catch (e) {
  console.error(String(e?.message ?? e), s.errors.join('\n'));
  rc = 1;
} finally {
  await s.close();
}
process.exit(rc);
