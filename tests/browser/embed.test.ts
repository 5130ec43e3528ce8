// The embedding example (demos/embed/) in headless Chromium: a checkpoint trained here in Node (tiny
// network, lavapipe) is fetched by the page, which samples it on its own WebGPU device (SwiftShader)
// and draws the grid into a canvas. The page's samples must match Node's for the same seed (same
// Philox streams; only transcendental rounding differs between the two adapters), and a bad
// checkpoint must be reported on the page.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openPage } from '../../scripts/chromium.mjs';
import { useGpu } from '../helpers/gpu.ts';
import { BlobsDataset } from '../../src/data/synthetic.ts';
import { Trainer } from '../../src/train/trainer.ts';
import { SampleRun } from '../../src/sample/sample-run.ts';
import { decodeCheckpointFile, stateForLayout } from '../../src/train/checkpoint-state.ts';
import { corruptionFromJSON } from '../../src/train/options.ts';
import { UNetGraph } from '../../src/nn/unet-graph.ts';
import { Schedule } from '../../src/diffusion/schedule.ts';

const root = resolve(import.meta.dirname, '../..');
const artifacts = join(root, 'tests/artifacts/embed');
const node = useGpu();
const SEED = 11;
const COUNT = 4;
const STEPS = 6;

let session: Awaited<ReturnType<typeof openPage>>;
let checkpoint: Uint8Array;

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  const data = new BlobsDataset({ size: 8, channels: 3, length: 32, seed: 2 });
  const trainer = await Trainer.create(node.gpu, data, {
    model: 'mnist',
    modelOverrides: { baseChannels: 4, channelMults: [1, 2], groups: 2, timeFeatures: 8, timeEmbedDim: 8 },
    batch: 4,
    lr: 5e-3,
    warmupSteps: 1,
    emaDecay: 0.5, // so that a few steps move the EMA weights the page samples with
    priorBank: 8,
    seed: 4,
  });
  await trainer.run(12);
  checkpoint = await trainer.checkpoint();
  trainer.destroy();
  writeFileSync(join(artifacts, 'tiny.safetensors'), checkpoint);
  writeFileSync(join(artifacts, 'broken.safetensors'), checkpoint.subarray(0, 100));
  session = await openPage({ root, path: '/demos/embed/index.html' });
}, 120_000);

afterAll(async () => {
  await session?.close();
});

async function nodeSamples(seed: number): Promise<Float32Array> {
  const ckpt = decodeCheckpointFile(checkpoint, 'tiny');
  const o = ckpt.fields.options;
  const state = stateForLayout(ckpt, new UNetGraph(o.model, { batch: 1, training: false }).graph.params);
  const run = await SampleRun.create(node.gpu, {
    config: o.model,
    weights: state.flat.ema,
    corruption: corruptionFromJSON(o.corruption),
    noise: Schedule.fromJSON(o.noise),
    priorBank: state.priorBank,
    count: COUNT,
    steps: STEPS,
  });
  try {
    return (await run.run(seed)).images;
  } finally {
    run.destroy();
  }
}

describe('embedding example', () => {
  test('samples a checkpoint on the page device into a canvas, matching Node for the same seed', async () => {
    const { page } = session;
    await page.goto(`http://127.0.0.1:${session.port}/demos/embed/index.html?checkpoint=/tests/artifacts/embed/tiny.safetensors&seed=${SEED}&count=${COUNT}&steps=${STEPS}`);
    await page.waitForFunction(() => window.embedDone !== undefined, { timeout: 30_000 });
    const drawn = await page.evaluate(() => window.embedDone!);
    expect(drawn.shape).toEqual([COUNT, 3, 8, 8]);
    const want = await nodeSamples(SEED);
    // Node and Chromium share weights, prior bank and Philox streams; Box-Muller's sin/cos/log
    // rounding differs by up to ~1e-3 per normal (tests/browser/sampler.test.ts); measured here 8e-5.
    let maxDiff = 0;
    for (let i = 0; i < want.length; i++) maxDiff = Math.max(maxDiff, Math.abs(drawn.images[i]! - want[i]!));
    expect(maxDiff).toBeLessThan(2e-3);
    // ...while another seed is far off (the tolerance tells samples apart).
    const other = await nodeSamples(SEED + 1);
    let otherDiff = 0;
    for (let i = 0; i < other.length; i++) otherDiff = Math.max(otherDiff, Math.abs(drawn.images[i]! - other[i]!));
    expect(otherDiff).toBeGreaterThan(0.1);
    const stats = await page.evaluate(() => {
      const c = document.getElementById('samples') as HTMLCanvasElement;
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      const values = new Set<number>();
      for (let i = 0; i < d.length; i += 4) values.add((d[i]! << 16) | (d[i + 1]! << 8) | d[i + 2]!);
      return { width: c.width, height: c.height, colours: values.size, status: document.getElementById('status')!.textContent };
    });
    expect(stats.width).toBe(2 * 8 + 3);
    expect(stats.colours, 'the canvas holds a picture, not a flat fill').toBeGreaterThan(20);
    expect(stats.status).toMatch(/tiny\.safetensors: step 12/);
    await page.screenshot({ path: join(artifacts, 'embed.png') });
  });

  test('a damaged checkpoint is reported on the page', async () => {
    const { page } = session;
    await page.goto(`http://127.0.0.1:${session.port}/demos/embed/index.html?checkpoint=/tests/artifacts/embed/broken.safetensors`);
    await page.waitForFunction(() => window.embedDone !== undefined, { timeout: 30_000 });
    const err = await page.evaluate(() => window.embedDone!.then(() => '', (e: Error) => String(e.message)));
    expect(err).toMatch(/broken\.safetensors/);
    expect(await page.$eval('#status', (e) => e.className)).toBe('error');
  });
});
