// The Trainer end to end on a tiny network (8x8 grey blobs, width 4, batch 2): steps run and the loss
// is finite, resuming from a checkpoint continues exactly, bad checkpoints are refused without partial
// state, a non-finite loss stops training with a NonFiniteError while the last good checkpoint stays,
// and previews use the EMA weights. The loss itself is checked against float64 in trainer-loss.test.ts.
import { describe, expect, test } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { Trainer } from '../../src/train/trainer.ts';
import { SampleRun } from '../../src/sample/sample-run.ts';
import { TINY } from './tiny.ts';
import { BlobsDataset } from '../../src/data/synthetic.ts';
import { CheckpointError, NonFiniteError } from '../../src/gpu/errors.ts';

const ctx = useGpu();

const data = (seed = 3) => new BlobsDataset({ size: 8, channels: 1, length: 5, seed });

async function flats(t: Trainer) {
  return { model: await t.readFlat('model'), ema: await t.readFlat('ema'), m: await t.readFlat('adam_m'), v: await t.readFlat('adam_v') };
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

describe('Trainer', () => {
  test('N steps + checkpoint + resume + N steps equals 2N steps (bitwise)', async () => {
    const { gpu } = ctx;
    const N = 3;
    // Plan one network first so that every trainer below uses cached kernel-variant choices: the
    // first network planned in a process (the one whose planning ran the autotune timings) differs
    // from later ones in the last bits of one gradient (see the report; a separate issue).
    (await Trainer.create(gpu, data(), TINY)).destroy();
    const straight = await Trainer.create(gpu, data(), TINY);
    const logs: number[] = [];
    await straight.run(2 * N, { onLog: (r) => void logs.push(r.loss) });
    expect(logs.length).toBeGreaterThan(0);
    expect(logs.every(Number.isFinite)).toBe(true);
    const want = await flats(straight);
    straight.destroy();

    const first = await Trainer.create(gpu, data(), TINY);
    await first.run(N);
    const bytes = await first.checkpoint();
    // Perturb the first trainer's future: resuming must not depend on anything outside the file.
    await first.run(2);
    first.destroy();

    const resumed = await Trainer.fromCheckpoint(gpu, data(), bytes, 'mem');
    expect(resumed.currentStep).toBe(N);
    await resumed.run(N);
    const got = await flats(resumed);
    expect(resumed.currentStep).toBe(2 * N);
    resumed.destroy();
    for (const k of ['model', 'ema', 'm', 'v'] as const) expect(maxDiff(got[k], want[k]), k).toBe(0);
    // and training moved the weights at all (the test could not pass with a frozen network)
    const fresh = await Trainer.create(gpu, data(), TINY);
    expect(maxDiff(await fresh.readFlat('model'), want.model)).toBeGreaterThan(1e-4);
    fresh.destroy();
  });

  test('truncated, corrupted and mismatched checkpoints are refused, leaving the trainer untouched', async () => {
    const { gpu } = ctx;
    const a = await Trainer.create(gpu, data(), TINY);
    await a.run(2);
    const good = await a.checkpoint();
    a.destroy();

    const b = await Trainer.create(gpu, data(), TINY);
    await b.run(1);
    const before = await b.readFlat('model');
    const truncated = good.slice(0, good.length - 100);
    await expect(b.restore(truncated, 'truncated.safetensors')).rejects.toThrow(CheckpointError);
    const corrupted = good.slice();
    corrupted[10] = 0x7b; // inside the JSON header
    corrupted[11] = 0x7b;
    await expect(b.restore(corrupted, 'corrupted.safetensors')).rejects.toThrow(CheckpointError);
    // a NaN in a tensor's data
    const withNan = good.slice();
    const view = new DataView(withNan.buffer);
    const headerLen = Number(view.getBigUint64(0, true));
    view.setFloat32(8 + headerLen + 4 * 17, NaN, true);
    await expect(b.restore(withNan, 'nan.safetensors')).rejects.toThrow(/non-finite/);
    expect(maxDiff(await b.readFlat('model'), before)).toBe(0);
    expect(b.currentStep).toBe(1);
    b.destroy();

    // another configuration: wider network
    const c = await Trainer.create(gpu, data(), { ...TINY, modelOverrides: { ...TINY.modelOverrides, baseChannels: 6 } });
    await expect(c.restore(good, 'other.safetensors')).rejects.toThrow(/different configuration.*baseChannels/s);
    c.destroy();
    // another data set
    await expect(Trainer.fromCheckpoint(gpu, new BlobsDataset({ size: 8, channels: 1, length: 6 }), good, 'x')).rejects.toThrow(/trained on/);
  });

  test('a non-finite loss stops training with NonFiniteError naming the step; the last good checkpoint is kept', async () => {
    const { gpu } = ctx;
    const t = await Trainer.create(gpu, data(), { ...TINY, lr: 1e30, warmupSteps: 0, clipNorm: 0, logEvery: 1 });
    const saved: { step: number; bytes: Uint8Array }[] = [];
    let err: unknown;
    try {
      await t.run(40, { checkpointEvery: 1, onCheckpoint: (bytes, step) => void saved.push({ step, bytes }) });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NonFiniteError);
    expect(saved.length).toBeGreaterThan(0);
    const msg = (err as Error).message;
    expect(msg).toMatch(/step \d+/);
    const failedAt = Number(/step (\d+)/.exec(msg)![1]);
    expect(saved.every((s) => s.step < failedAt)).toBe(true);
    if (saved.length) expect(msg).toContain(`last good checkpoint (step ${saved[saved.length - 1]!.step}) is kept`);
    await expect(t.step()).rejects.toThrow(NonFiniteError);
    await expect(t.checkpoint()).rejects.toThrow(NonFiniteError);
    t.destroy();
    // every checkpoint that was written is a valid, finite state
    for (const s of saved) {
      const r = await Trainer.fromCheckpoint(gpu, data(), s.bytes, `step-${s.step}`);
      expect(r.currentStep).toBe(s.step);
      r.destroy();
    }
  });

  test.each(['blur', 'mask', 'identity'] as const)('every loss trains with the %s corruption (finite loss, weights move)', async (corruption) => {
    const { gpu } = ctx;
    for (const loss of ['soft', 'x0', 'dsm'] as const) {
      const t = await Trainer.create(gpu, data(), { ...TINY, corruption, loss, weighting: loss === 'x0' ? 'inverse-variance' : 'uniform', warmupSteps: 0 });
      const w0 = await t.readFlat('model');
      const r = await t.step({ readLoss: true });
      expect(Number.isFinite(r.loss), `${corruption}/${loss}`).toBe(true);
      expect(r.loss!, `${corruption}/${loss}`).toBeGreaterThan(0);
      expect(maxDiff(await t.readFlat('model'), w0), `${corruption}/${loss}`).toBeGreaterThan(0);
      expect(t.options.corruption.name).toBe(corruption);
      t.destroy();
    }
  });

  test('previews sample with the EMA weights (not the raw ones), have the data shape and repeat', async () => {
    const { gpu } = ctx;
    // A fast EMA, so that after 3 steps the EMA and the raw weights are far apart.
    const t = await Trainer.create(gpu, data(), { ...TINY, emaDecay: 0.5 });
    await t.run(3);
    const s = await t.sample();
    expect(s.shape).toEqual([2, 1, 8, 8]);
    expect(s.images.every(Number.isFinite)).toBe(true);
    const again = await t.sample();
    expect(maxDiff(again.images, s.images)).toBe(0);
    const [ema, raw] = [await t.readFlat('ema'), await t.readFlat('model')];
    expect(maxDiff(ema, raw)).toBeGreaterThan(1e-4);
    const o = t.options;
    const sampleWith = async (weights: Float32Array) => {
      const run = await SampleRun.create(gpu, { config: o.model, weights, corruption: t.corruption, noise: t.noise, priorBank: t.prior, count: o.sampleCount, steps: o.sampleSteps, sampler: o.sampler, langevinStepsPerLevel: 5 });
      const images = (await run.run(o.seed)).images;
      run.destroy();
      return images;
    };
    // The preview is exactly a sampling run with the EMA weights, and not one with the raw weights.
    expect(maxDiff(await sampleWith(ema), s.images)).toBe(0);
    expect(maxDiff(await sampleWith(raw), s.images)).toBeGreaterThan(1e-4);
    t.destroy();
  });
});
