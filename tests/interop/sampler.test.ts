// The four samplers in PyTorch against the engine's, step by step, from an engine checkpoint's EMA
// weights and prior bank, with the noise fed in from the engine's random numbers (its GPU Philox
// normals for every (seed, step, stream) the run uses, read back and handed to PyTorch). Then the same
// without feeding: PyTorch's own Philox port, so that the same seed gives the same samples in both.
import { beforeAll, describe, expect, test } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { useGpu } from '../helpers/gpu.ts';
import { SampleRun } from '../../src/sample/sample-run.ts';
import { randomNormal, RngState, RngStream } from '../../src/diffusion/rng.ts';
import { Schedule } from '../../src/diffusion/schedule.ts';
import type { SamplerKind } from '../../src/diffusion/samplers.ts';
import { UNetGraph } from '../../src/nn/unet-graph.ts';
import { decodeCheckpointFile, stateForLayout } from '../../src/train/checkpoint-state.ts';
import { corruptionFromJSON } from '../../src/train/options.ts';
import { checkTorch, engineCheckpoint, maxDiff, runTorch, useTmp, writeTensors } from './helpers.ts';

const ctx = useGpu();
const tmp = useTmp();
let ckptPath: string;
let ckpt: ReturnType<typeof decodeCheckpointFile>;
const SEED = 31;
const COUNT = 2;
const STEPS = 5;
const LANGEVIN_PER_LEVEL = 2;

beforeAll(async () => {
  checkTorch();
  const bytes = await engineCheckpoint(ctx.gpu);
  ckptPath = join(tmp.dir, 'engine.safetensors');
  writeFileSync(ckptPath, bytes);
  ckpt = decodeCheckpointFile(bytes, ckptPath);
});

/** The engine's run: x_t (after each update) and x0_hat of every step, and the result. */
async function engineRun(kind: SamplerKind) {
  const o = ckpt.fields.options;
  const state = stateForLayout(ckpt, new UNetGraph(o.model, { batch: 1, training: false }).graph.params);
  const run = await SampleRun.create(ctx.gpu, {
    config: o.model, weights: state.flat.ema, corruption: corruptionFromJSON(o.corruption), noise: Schedule.fromJSON(o.noise),
    priorBank: state.priorBank, count: COUNT, steps: STEPS, sampler: kind, langevinStepsPerLevel: LANGEVIN_PER_LEVEL,
  });
  const steps: { xt: Float32Array; x0hat: Float32Array }[] = [];
  try {
    const result = await run.run(SEED, undefined, { every: 1, onIntermediate: (s) => void steps.push({ xt: s.xt, x0hat: s.x0hat }) });
    return { steps, result: result.images, shape: result.shape, nfe: run.nfe };
  } finally {
    run.destroy();
  }
}

/** The engine's GPU normals for (SEED, step, stream), read back. */
async function engineNormals(shape: readonly number[], step: number, stream: number): Promise<Float32Array> {
  const gpu = ctx.gpu.scope('interop:noise');
  try {
    const out = gpu.tensor(shape, 'interop:noise');
    const state = new RngState(gpu, SEED, step);
    gpu.recorder('interop:noise').run([await randomNormal(gpu, out, state, { stream })]).submit();
    return await gpu.read(out);
  } finally {
    gpu.destroy();
  }
}

describe('samplers, PyTorch vs the engine, step by step', () => {
  for (const kind of ['momentum', 'probability-flow', 'naive', 'langevin'] as const) {
    test(kind, async () => {
      const engine = await engineRun(kind);
      const { shape, nfe } = engine;
      expect(engine.steps.length).toBe(nfe);
      // Every number the run draws: the prior's noise (stream 2, step 0) and each update's (stream 0).
      const fed: Record<string, { shape: readonly number[]; data: Float32Array }> = {
        [`${RngStream.priorNoise}.0`]: { shape, data: await engineNormals(shape, 0, RngStream.priorNoise) },
      };
      for (let s = 0; s < nfe; s++) fed[`${RngStream.samplerNoise}.${s}`] = { shape, data: await engineNormals(shape, s, RngStream.samplerNoise) };
      const noise = writeTensors(join(tmp.dir, `noise-${kind}.safetensors`), fed);
      const args = { checkpoint: ckptPath, count: COUNT, steps: STEPS, kind, seed: SEED, langevinSteps: LANGEVIN_PER_LEVEL };
      const torch = runTorch(tmp.dir, 'sample', { ...args, noise });
      let worst = { xt: 0, x0hat: 0, scale: 0 };
      const perStep: string[] = [];
      engine.steps.forEach((s, i) => {
        const xt = maxDiff(torch.get(`xt.${i + 1}`)!, s.xt);
        const x0 = maxDiff(torch.get(`x0hat.${i + 1}`)!, s.x0hat);
        worst = { xt: Math.max(worst.xt, xt.abs), x0hat: Math.max(worst.x0hat, x0.abs), scale: Math.max(worst.scale, xt.scale) };
        perStep.push(xt.abs.toExponential(1));
      });
      const result = maxDiff(torch.get('result')!, engine.result);
      // PyTorch's own Philox port instead of the fed numbers: the same seed, the same samples.
      const ownDiff = maxDiff(torch.get('own.result')!, engine.result);
      console.log(`${kind}: ${nfe} steps; max |x_t diff| per step [${perStep.join(', ')}]; worst x_t ${worst.xt.toExponential(2)}, x0hat ${worst.x0hat.toExponential(2)} ` +
        `(|x_t| up to ${worst.scale.toFixed(2)}); result ${result.abs.toExponential(2)}; with PyTorch's own Philox ${ownDiff.abs.toExponential(2)}`);
      // float32 network and DCTs on both sides: ~1e-7 per evaluation, carried by the updates (the
      // momentum sampler's factor rho < 1). Tolerance 1e-5 absolute on values of order 1.
      expect(worst.xt).toBeLessThan(1e-5);
      expect(worst.x0hat).toBeLessThan(1e-5);
      expect(result.abs).toBeLessThan(1e-5);
      // Own Philox: the integers are the engine's; Box-Muller in float64 here vs the adapter's float32
      // log/sin/cos (up to ~1e-6 per normal on lavapipe, 3e-3 allowed by WGSL).
      expect(ownDiff.abs).toBeLessThan(2e-5);
    });
  }

  test("PyTorch's Philox port gives the engine's normals", async () => {
    const shape = [3, 5, 7, 11];
    const engine = await engineNormals(shape, 9, 2);
    const torch = runTorch(tmp.dir, 'philox', { n: 3 * 5 * 7 * 11, seed: SEED, step: 9, stream: 2 });
    const d = maxDiff(torch.get('z')!, engine);
    console.log(`philox: ${engine.length} normals, max |torch - engine| ${d.abs.toExponential(2)} (|z| up to ${d.scale.toFixed(2)})`);
    expect(d.abs).toBeLessThan(3e-3); // WGSL's sin/cos accuracy bound (tests/browser/sampler.test.ts)
    const other = await engineNormals(shape, 10, 2); // a different step is a different draw
    expect(maxDiff(torch.get('z')!, other).abs).toBeGreaterThan(1);
  });
});
