// A model trained in PyTorch comes back: python/train.py (a few steps on MNIST, tiny model) writes a
// checkpoint that the engine decodes, resumes and samples in Node and in Chromium (the embedding
// example). train.py follows the engine's recipe step for step (same data order, t draws, Philox
// noise, AdamW with clipping and warmup, EMA), so its checkpoint is compared with the engine's own
// after the same steps; and under torchrun with two processes (DDP, gloo on the CPU) the global batch
// is split, so the result is the one-process run's.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openPage } from '../../scripts/chromium.mjs';
import { useGpu } from '../helpers/gpu.ts';
import { loadMnist } from '../../src/node/datasets.ts';
import type { MnistDataset } from '../../src/data/mnist.ts';
import { Trainer } from '../../src/train/trainer.ts';
import { firstDifference } from '../../src/train/training-state.ts';
import { SampleRun } from '../../src/sample/sample-run.ts';
import { UNetGraph } from '../../src/nn/unet-graph.ts';
import { Schedule } from '../../src/diffusion/schedule.ts';
import { decodeCheckpointFile, stateForLayout, FLAT_COPIES, type DecodedCheckpoint, type TrainingState } from '../../src/train/checkpoint-state.ts';
import { corruptionFromJSON } from '../../src/train/options.ts';
import { checkTorch, maxDiff, PYTHON, ROOT, runTorch, useTmp } from './helpers.ts';

const ctx = useGpu();
const tmp = useTmp();
const STEPS = 3;
const MODEL = '{"baseChannels":4,"channelMults":[1,2],"groups":2,"timeFeatures":8,"timeEmbedDim":8}';
// lr 2e-3 with 2 warmup steps, seed 3, batch 4; previews off (the tests sample themselves)
const FLAGS = ['--model', MODEL, '--batch', '4', '--steps', String(STEPS), '--warmup', '2', '--seed', '3', '--log-every', '1', '--checkpoint-every', '0',
  '--sample-count', '2', '--sample-steps', '4', '--no-previews'];
const artifacts = join(ROOT, 'tests/artifacts/interop');
let mnist: MnistDataset;
let torchBytes: Uint8Array;
let torchCkpt: DecodedCheckpoint;
let trainSeconds = 0;

function trainPy(out: string, launcher: string[] = []): void {
  const cmd = launcher.length ? launcher : [PYTHON];
  execFileSync(cmd[0]!, [...cmd.slice(1), join(ROOT, 'python/train.py'), ...FLAGS, '--out', out], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

beforeAll(async () => {
  checkTorch();
  mnist = loadMnist();
  const t0 = performance.now();
  trainPy(join(tmp.dir, 'one'));
  trainSeconds = (performance.now() - t0) / 1000;
  torchBytes = new Uint8Array(readFileSync(join(tmp.dir, 'one', 'checkpoint.safetensors')));
  torchCkpt = decodeCheckpointFile(torchBytes, 'train.py checkpoint');
});

const state = (c: DecodedCheckpoint): TrainingState => stateForLayout(c, new UNetGraph(c.fields.options.model, { batch: 1, training: false }).graph.params);

function copyDiffs(a: TrainingState, b: TrainingState): Record<string, number> {
  return Object.fromEntries(FLAT_COPIES.map((k) => [k, maxDiff(a.flat[k], b.flat[k]).abs]));
}

describe('a checkpoint written by PyTorch (python/train.py)', () => {
  test('equals the engine\'s after the same steps: the same fields, weights within float32 tolerance', async () => {
    console.log(`train.py: ${STEPS} steps (tiny model, MNIST, batch 4) in ${trainSeconds.toFixed(1)} s including start-up and loading MNIST`);
    const o = torchCkpt.fields.options;
    const trainer = await Trainer.create(ctx.gpu, mnist, o);
    try {
      expect(firstDifference(trainer.options, o), 'the engine resolves the stored options to themselves').toBeNull();
      await trainer.run(STEPS);
      const engine = decodeCheckpointFile(await trainer.checkpoint(), 'engine');
      // `variants` (the kernel variants the engine ran) is the engine's own record; PyTorch has none.
      const { lastLoss: a, variants: _engineVariants, ...fa } = engine.fields;
      const { lastLoss: b, ...fb } = torchCkpt.fields;
      expect(fb).toEqual(fa); // step, data set, host RNG, data stream, GPU RNG key, Adam step, options
      expect(Math.abs(b! - a!) / a!).toBeLessThan(1e-5);
      const d = copyDiffs(state(torchCkpt), state(engine));
      expect(maxDiff(state(torchCkpt).priorBank, state(engine).priorBank).abs).toBeLessThan(1e-6);
      console.log(`train.py vs engine after ${STEPS} steps: max |diff| ${Object.entries(d).map(([k, v]) => `${k} ${v.toExponential(2)}`).join(', ')}`);
      // Each AdamW step moves a weight by about lr_t; float differences in tiny gradients could flip
      // such a move (bounded by 2 lr = 4e-3). Measured ~1e-7: the runs are the same run.
      expect(d.model).toBeLessThan(1e-5);
      expect(d.ema).toBeLessThan(1e-5);
      expect(d.adam_m).toBeLessThan(1e-6);
      expect(d.adam_v).toBeLessThan(1e-8);
    } finally {
      trainer.destroy();
    }
  });

  test('resumes in the engine and continues as the engine\'s own run would', async () => {
    const resumed = await Trainer.fromCheckpoint(ctx.gpu, mnist, torchBytes, 'train.py checkpoint');
    const straight = await Trainer.create(ctx.gpu, mnist, torchCkpt.fields.options);
    try {
      expect(resumed.currentStep).toBe(STEPS);
      await resumed.run(2);
      await straight.run(STEPS + 2);
      const d = copyDiffs(state(decodeCheckpointFile(await resumed.checkpoint())), state(decodeCheckpointFile(await straight.checkpoint())));
      console.log(`resumed (train.py ${STEPS} + engine 2) vs engine ${STEPS + 2} steps: max |diff| model ${d.model!.toExponential(2)}`);
      expect(d.model).toBeLessThan(1e-5);
      expect(resumed.loss).not.toBeNull();
      expect(Number.isFinite(resumed.loss!)).toBe(true);
    } finally {
      resumed.destroy();
      straight.destroy();
    }
  });

  test('samples in Node as PyTorch samples it (same seed, same images)', async () => {
    const o = torchCkpt.fields.options;
    const run = await SampleRun.create(ctx.gpu, {
      config: o.model, weights: state(torchCkpt).flat.ema, corruption: corruptionFromJSON(o.corruption), noise: Schedule.fromJSON(o.noise),
      priorBank: state(torchCkpt).priorBank, count: 2, steps: 4, sampler: 'momentum',
    });
    try {
      const node = (await run.run(7)).images;
      const ckptPath = join(tmp.dir, 'one', 'checkpoint.safetensors');
      const torch = runTorch(tmp.dir, 'sample', { checkpoint: ckptPath, count: 2, steps: 4, kind: 'momentum', seed: 7 });
      const d = maxDiff(torch.get('result')!, node);
      console.log(`Node vs PyTorch sampling of the train.py checkpoint: max |diff| ${d.abs.toExponential(2)} (values up to ${d.scale.toFixed(2)})`);
      expect(node.every(Number.isFinite)).toBe(true);
      expect(d.abs).toBeLessThan(2e-5);
    } finally {
      run.destroy();
    }
  });

  test('softdiff_torch.load() then save() writes a file the engine decodes: the EMA weights, fresh Adam', () => {
    const path = join(tmp.dir, 'resaved.safetensors');
    runTorch(tmp.dir, 'resave', { checkpoint: join(tmp.dir, 'one', 'checkpoint.safetensors'), path });
    const back = decodeCheckpointFile(new Uint8Array(readFileSync(path)), 'resaved');
    const a = state(back);
    const b = state(torchCkpt);
    expect(maxDiff(a.flat.model, b.flat.ema).abs).toBe(0);
    expect(maxDiff(a.flat.ema, b.flat.ema).abs).toBe(0);
    expect(a.flat.adam_m.every((v) => v === 0) && a.flat.adam_v.every((v) => v === 0)).toBe(true);
    expect(maxDiff(a.priorBank, b.priorBank).abs).toBe(0);
    expect({ ...back.fields, adamStep: torchCkpt.fields.adamStep }).toEqual(torchCkpt.fields);
    expect(back.fields.adamStep).toBe(0);
  });

  describe('in Chromium', () => {
    let session: Awaited<ReturnType<typeof openPage>>;
    beforeAll(async () => {
      mkdirSync(artifacts, { recursive: true });
      copyFileSync(join(tmp.dir, 'one', 'checkpoint.safetensors'), join(artifacts, 'torch.safetensors'));
      session = await openPage({ root: ROOT, path: '/demos/embed/index.html' });
    }, 120_000);
    afterAll(async () => {
      await session?.close();
    });

    test('the embedding example samples it on the page device, matching Node', async () => {
      const { page, port } = session;
      const seed = 5;
      await page.goto(`http://127.0.0.1:${port}/demos/embed/index.html?checkpoint=/tests/artifacts/interop/torch.safetensors&seed=${seed}&count=2&steps=4`);
      await page.waitForFunction(() => window.embedDone !== undefined, { timeout: 60_000 });
      const drawn = await page.evaluate(() => window.embedDone!);
      const o = torchCkpt.fields.options;
      expect(drawn.shape).toEqual([2, 1, 32, 32]);
      const run = await SampleRun.create(ctx.gpu, {
        config: o.model, weights: state(torchCkpt).flat.ema, corruption: corruptionFromJSON(o.corruption), noise: Schedule.fromJSON(o.noise),
        priorBank: state(torchCkpt).priorBank, count: 2, steps: 4, sampler: 'momentum',
      });
      try {
        const node = (await run.run(seed)).images;
        const d = maxDiff(drawn.images, node);
        console.log(`Chromium vs Node sampling of the train.py checkpoint: max |diff| ${d.abs.toExponential(2)}`);
        // Box-Muller's transcendental rounding differs between the adapters (tests/browser/embed.test.ts)
        expect(d.abs).toBeLessThan(2e-3);
      } finally {
        run.destroy();
      }
      expect(await page.$eval('#status', (e) => e.textContent)).toMatch(/torch\.safetensors: step 3/);
    });
  });

  test('torchrun with two processes (DDP, gloo) computes the one-process run', () => {
    // torch 1.13's torchrun breaks on Python 3.11 with its default --redirects/--tee 0 (an IntFlag
    // change); giving them explicitly avoids that (docs/pytorch.md).
    const t0 = performance.now();
    trainPy(join(tmp.dir, 'two'), [PYTHON, '-m', 'torch.distributed.run', '--nproc_per_node=2', '--redirects', '2', '--tee', '2']);
    const seconds = (performance.now() - t0) / 1000;
    const two = decodeCheckpointFile(new Uint8Array(readFileSync(join(tmp.dir, 'two', 'checkpoint.safetensors'))), 'ddp');
    const { lastLoss: a, ...fa } = torchCkpt.fields;
    const { lastLoss: b, ...fb } = two.fields;
    expect(fb).toEqual(fa);
    expect(Math.abs(b! - a!) / a!).toBeLessThan(1e-5);
    const d = copyDiffs(state(two), state(torchCkpt));
    console.log(`DDP 2 processes vs 1 (${STEPS} steps, ${seconds.toFixed(1)} s): max |diff| ${Object.entries(d).map(([k, v]) => `${k} ${v.toExponential(2)}`).join(', ')}`);
    expect(d.model).toBeLessThan(1e-5);
    expect(d.adam_m).toBeLessThan(1e-6);
  });
});
