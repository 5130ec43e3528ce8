// The one-call API on the committed tiny checkpoint (8x8 RGB, width-4 U-Net): a loaded model samples
// what the low-level assembly (decode, layout, SampleRun) samples, per seed; a trainer stops cleanly
// on an AbortSignal between steps, and its samples equal those of its own checkpoint; pictures, data
// inputs and every bad input give typed errors; destroy() returns the buffer census to its baseline.
import { beforeAll, describe, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import { useGpu } from '../helpers/gpu.ts';
import { fixturePath, FIXTURE_DATA, FIXTURE_OPTIONS } from '../fixtures/checkpoint-fixture.ts';
import { SoftDiffusion } from '../../src/api/soft-diffusion.ts';
import { samplesToRgba, samplesToImageData } from '../../src/api/pictures.ts';
import { trainingDataset } from '../../src/api/data.ts';
import { CheckpointError, EngineError, ValueError } from '../../src/gpu/errors.ts';
import { decodeCheckpointFile, stateForLayout } from '../../src/train/checkpoint-state.ts';
import { corruptionFromJSON } from '../../src/train/options.ts';
import { UNetGraph } from '../../src/nn/unet-graph.ts';
import { Schedule } from '../../src/diffusion/schedule.ts';
import { SampleRun } from '../../src/sample/sample-run.ts';
import { imageSetDataset } from '../../src/data/image-set.ts';
import type { RgbaImage } from '../../src/data/image.ts';

const ctx = useGpu();
const fixture = new Uint8Array(readFileSync(fixturePath(1)));

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

/** What the CLI, the demo and the embed page each assembled by hand before the API existed. */
async function byHand(seed: number, weights: 'ema' | 'model' = 'ema'): Promise<Float32Array> {
  const ckpt = decodeCheckpointFile(fixture, 'fixture');
  const o = ckpt.fields.options;
  const state = stateForLayout(ckpt, new UNetGraph(o.model, { batch: 1, training: false }).graph.params);
  const run = await SampleRun.create(ctx.gpu, {
    config: o.model,
    weights: state.flat[weights],
    corruption: corruptionFromJSON(o.corruption),
    noise: Schedule.fromJSON(o.noise),
    priorBank: state.priorBank,
    count: o.sampleCount,
    steps: o.sampleSteps,
    sampler: o.sampler,
  });
  try {
    return (await run.run(seed)).images;
  } finally {
    run.destroy();
  }
}

beforeAll(async () => {
  // The first network planned in a process runs the kernel autotune; plan one so that every plan
  // below uses the same cached variant choices (see tests/train/trainer.test.ts).
  (await SoftDiffusion.fromCheckpoint(ctx.gpu, fixture)).destroy();
});

describe('SoftDiffusion.fromCheckpoint', () => {
  test('samples what the low-level assembly samples; the same seed gives the same images', async () => {
    const model = await SoftDiffusion.fromCheckpoint(ctx.gpu, fixture, { name: 'fixture' });
    expect(model.info).toMatchObject({
      step: 6,
      dataset: { name: 'blobs', channels: 3, size: 8, length: 16 },
      imageShape: [3, 8, 8],
      corruption: 'blur',
      weights: 'ema',
      defaults: { count: 4, steps: 4, sampler: 'momentum', langevinSteps: 100 },
      format: { version: 1, writer: 'softdiff 0.1.0' },
    });
    expect(model.info.parameters).toBeGreaterThan(1000);
    const a = await model.sample({ seed: 3 });
    expect(a).toMatchObject({ shape: [4, 3, 8, 8], seed: 3, sampler: 'momentum', steps: 4, nfe: 4 });
    expect(a.images.every(Number.isFinite)).toBe(true);
    // Same device, same kernels, same weights: equal up to nothing (1e-6 leaves room for nothing real).
    expect(maxDiff(a.images, await byHand(3))).toBeLessThan(1e-6);
    expect(maxDiff(a.images, (await model.sample({ seed: 3 })).images)).toBe(0);
    // ...while another seed is far off (the tolerance tells samples apart).
    expect(maxDiff(a.images, (await model.sample({ seed: 4 })).images)).toBeGreaterThan(0.05);
    model.destroy();
  });

  test("weights: 'model' samples with the raw weights", async () => {
    const model = await SoftDiffusion.fromCheckpoint(ctx.gpu, fixture, { weights: 'model' });
    const raw = (await model.sample({ seed: 2 })).images;
    model.destroy();
    expect(maxDiff(raw, await byHand(2, 'model'))).toBeLessThan(1e-6);
    expect(maxDiff(raw, await byHand(2, 'ema'))).toBeGreaterThan(1e-4);
  });

  test('other counts, steps and samplers re-plan; plan() tells the network evaluations', async () => {
    const model = await SoftDiffusion.fromCheckpoint(ctx.gpu, fixture, { count: 2, steps: 3 });
    expect(model.info.defaults).toMatchObject({ count: 2, steps: 3 });
    expect(await model.plan({ sampler: 'langevin', steps: 2, langevinSteps: 3 })).toMatchObject({ nfe: 6, shape: [2, 3, 8, 8], sampler: 'langevin' });
    const progress: number[] = [];
    const s = await model.sample({ count: 3, sampler: 'naive', steps: 5, seed: 1, onProgress: (done) => void progress.push(done) });
    expect(s).toMatchObject({ shape: [3, 3, 8, 8], sampler: 'naive', steps: 5, nfe: 5 });
    expect(progress).toEqual([1, 2, 3, 4, 5]);
    const frames: number[] = [];
    await model.sample({ intermediates: { every: 1, onIntermediate: (i) => void frames.push(i.xt.length) } });
    expect(frames).toEqual([2 * 3 * 8 * 8, 2 * 3 * 8 * 8, 2 * 3 * 8 * 8]);
    // clip (x0hat clamped inside the sampler, checked against float64 in tests/diffusion/samplers.test.ts) re-plans
    // and changes the images; the same clip and seed give the same images again.
    const plain = (await model.sample({ seed: 5 })).images;
    const clipped = (await model.sample({ seed: 5, clip: [0.4, 0.6] })).images;
    expect(maxDiff(plain, clipped)).toBeGreaterThan(1e-3);
    expect(maxDiff(clipped, (await model.sample({ seed: 5, clip: [0.4, 0.6] })).images)).toBe(0);
    expect(maxDiff(plain, (await model.sample({ seed: 5 })).images)).toBe(0);
    model.destroy();
  });

  test('destroy() frees every buffer the model allocated; later calls fail with a typed error', async () => {
    const { gpu } = ctx;
    await gpu.done();
    const before = gpu.census.snapshot();
    const model = await SoftDiffusion.fromCheckpoint(gpu, fixture);
    await model.sample({ count: 3 });
    expect(gpu.census.snapshot().bytes).toBeGreaterThan(before.bytes);
    model.destroy();
    expect(gpu.census.snapshot()).toEqual(before);
    await expect(model.sample()).rejects.toThrow(EngineError);
    await expect(model.sample()).rejects.toThrow(/destroyed/);
  });

  test('bad checkpoints and bad options are typed errors that name the problem', async () => {
    const { gpu } = ctx;
    await gpu.done();
    const before = gpu.census.snapshot();
    await expect(SoftDiffusion.fromCheckpoint(gpu, fixture.subarray(0, 100), { name: 'cut.safetensors' })).rejects.toThrow(CheckpointError);
    await expect(SoftDiffusion.fromCheckpoint(gpu, fixture.subarray(0, 100), { name: 'cut.safetensors' })).rejects.toThrow(/cut\.safetensors/);
    await expect(SoftDiffusion.fromCheckpoint(gpu, 'bytes' as unknown as Uint8Array)).rejects.toThrow(CheckpointError);
    await expect(SoftDiffusion.fromCheckpoint(gpu, fixture, { weights: 'best' as 'ema' })).rejects.toThrow(ValueError);
    await expect(SoftDiffusion.fromCheckpoint(gpu, fixture, { count: 0 })).rejects.toThrow(/count must be an integer in \[1, 65535\], got 0/);
    expect(gpu.census.snapshot(), 'a refused checkpoint or option leaves nothing allocated').toEqual(before);
    const model = await SoftDiffusion.fromCheckpoint(gpu, fixture.buffer.slice(fixture.byteOffset, fixture.byteOffset + fixture.byteLength));
    await expect(model.sample({ count: 1.5 })).rejects.toThrow(ValueError);
    await expect(model.sample({ steps: 0 })).rejects.toThrow(/steps/);
    await expect(model.sample({ seed: -1 })).rejects.toThrow(/seed/);
    await expect(model.sample({ sampler: 'ddim' as 'naive' })).rejects.toThrow(/Unknown sampler "ddim"/);
    await expect(model.sample({ intermediates: { every: 0, onIntermediate: () => {} } })).rejects.toThrow(/intermediates\.every/);
    await expect(model.sample({ clip: [1, 0] })).rejects.toThrow(/clip must be \[lo, hi\] with finite lo < hi/);
    model.destroy();
  });
});

describe('pictures', () => {
  const images = Float32Array.from({ length: 2 * 3 * 2 * 2 }, (_, i) => (i % 5) / 4 - 0.1);
  const samples = { images, shape: [2, 3, 2, 2] as [number, number, number, number] };

  test('one image as RGBA: clipped, rounded, channel planes interleaved, opaque', () => {
    const p = samplesToRgba(samples, { index: 1 });
    expect([p.width, p.height, p.data.length]).toEqual([2, 2, 16]);
    const byte = (v: number) => Math.round(Math.min(1, Math.max(0, v)) * 255);
    for (let px = 0; px < 4; px++) {
      for (let c = 0; c < 3; c++) expect(p.data[px * 4 + c]).toBe(byte(images[12 + c * 4 + px]!));
      expect(p.data[px * 4 + 3]).toBe(255);
    }
  });

  test('a grid of the batch; ImageData is refused outside a browser with a typed error', () => {
    const g = samplesToRgba(samples, { padding: 1, columns: 2 });
    expect([g.width, g.height]).toEqual([2 * 2 + 3, 2 + 2]);
    expect(Array.from(g.data.subarray(0, 4))).toEqual([255, 255, 255, 255]); // the white padding
    expect(() => samplesToImageData(samples)).toThrow(ValueError);
  });
});

describe('SoftDiffusion.train', () => {
  test('steps; run stops between steps on abort; previews and checkpoints; samples equal those of its checkpoint', async () => {
    const { gpu } = ctx;
    await gpu.done();
    const before = gpu.census.snapshot();
    const trainer = await SoftDiffusion.train(gpu, FIXTURE_DATA, FIXTURE_OPTIONS);
    expect(trainer.options.batch).toBe(4);
    expect(trainer.parameters).toBeGreaterThan(1000);
    expect(await trainer.step()).toEqual({ step: 1 });
    const stop = new AbortController();
    const seen: number[] = [];
    const r = await trainer.run(10, {
      signal: stop.signal,
      onStep: (s) => {
        seen.push(s.step);
        if (s.step === 3) stop.abort();
      },
    });
    expect(r).toMatchObject({ steps: 2, step: 3, aborted: true });
    expect(seen).toEqual([2, 3]);
    expect(await trainer.run(5, { signal: stop.signal })).toMatchObject({ steps: 0, step: 3, aborted: true });

    const logs: number[] = [];
    const previews: number[] = [];
    const checkpoints: number[] = [];
    const done = await trainer.run(3, {
      onLog: (l) => void logs.push(l.step),
      sampleEvery: 2,
      onSample: (s) => void previews.push(s.step, s.shape[0]),
      checkpointEvery: 5,
      onCheckpoint: (bytes, step) => void checkpoints.push(step, bytes.length),
    });
    expect(done).toMatchObject({ steps: 3, step: 6, aborted: false });
    expect(Number.isFinite(done.loss)).toBe(true);
    expect(logs).toEqual([4, 5, 6]); // logEvery 2, the checkpoint at 5 (saved states are verified), the last step
    expect(previews).toEqual([4, 4, 6, 4]); // sampleEvery 2 with sampleCount 4, and the last step
    expect(checkpoints[0]).toBe(5);
    expect(checkpoints[2]).toBe(6);

    const bytes = await trainer.checkpoint();
    const fromTrainer = await trainer.sample({ seed: 9, count: 3 });
    const model = await SoftDiffusion.fromCheckpoint(gpu, bytes, { count: 3 });
    expect(model.info.step).toBe(6);
    expect(maxDiff(fromTrainer.images, (await model.sample({ seed: 9 })).images)).toBeLessThan(1e-6);
    model.destroy();

    // Resuming from the bytes continues at the same step with the stored options.
    const resumed = await SoftDiffusion.train(gpu, FIXTURE_DATA, { resume: bytes, resumeName: 'mem' });
    expect(resumed.currentStep).toBe(6);
    expect(resumed.options).toEqual(trainer.options);
    expect(maxDiff(fromTrainer.images, (await resumed.sample({ seed: 9, count: 3 })).images)).toBeLessThan(1e-6);
    resumed.destroy();
    trainer.destroy();
    expect(gpu.census.snapshot(), 'trainers, their samplers and the model leave nothing behind').toEqual(before);
  });

  test('a sample() issued while run() is going is served between two steps', async () => {
    const trainer = await SoftDiffusion.train(ctx.gpu, FIXTURE_DATA, FIXTURE_OPTIONS);
    let atSample = -1;
    const running = trainer.run(6, {
      onStep: (s) => {
        if (s.step === 2) void trainer.sample({ count: 1 }).then(() => (atSample = trainer.currentStep));
      },
    });
    await running;
    expect(atSample).toBeGreaterThanOrEqual(2);
    expect(atSample).toBeLessThan(6);
    trainer.destroy();
  });

  test('training data: image lists become the same pixels as an image set; bad data is a ValueError', async () => {
    const img = (w: number, h: number, k: number): RgbaImage => ({ width: w, height: h, data: Uint8Array.from({ length: w * h * 4 }, (_, i) => (i * k + 17) % 256) });
    const images = [img(12, 10, 3), img(8, 8, 7)];
    const ds = trainingDataset({ images, size: 8, name: 'mine' });
    const want = imageSetDataset('mine', images, 8, 3);
    expect([ds.name, ds.length, ds.channels, ds.size]).toEqual(['mine', 2, 3, 8]);
    expect(maxDiff(ds.get(1), want.get(1))).toBe(0);
    expect(trainingDataset({ synthetic: 'stripes', size: 8, channels: 1, length: 3 })).toMatchObject({ name: 'stripes', length: 3, channels: 1 });
    expect(() => trainingDataset({ images: [], size: 8 })).toThrow(/empty/);
    expect(() => trainingDataset({ images: [images[0]!, { width: 2, height: 2, data: new Uint8Array(3) }], size: 8 })).toThrow(/Training image 1 is not RGBA/);
    expect(() => trainingDataset({ images, size: 4 })).toThrow(/size must be an integer in \[8, 256\]/);
    expect(() => trainingDataset({ synthetic: 'noise' as 'blobs' })).toThrow(ValueError);
    expect(() => trainingDataset(42 as never)).toThrow(ValueError);
    expect(() => trainingDataset({} as never)).toThrow(/neither a data set/);
    expect(() => trainingDataset({ name: 'x', get: () => new Float32Array(1), size: 8, channels: 1, length: 1.5 })).toThrow(/'x' is not a data set/);
    const trainer = await SoftDiffusion.train(ctx.gpu, { images, size: 8, channels: 1 }, { ...FIXTURE_OPTIONS, batch: 2, priorBank: 2 });
    expect(trainer.dataset.length).toBe(2);
    expect((await trainer.step({ readLoss: true })).loss).toBeGreaterThan(0);
    trainer.destroy();
  });
});
