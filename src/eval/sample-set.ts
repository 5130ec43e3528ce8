// Sampling an evaluation set from trained weights in batches, with a fixed seed set: batch i of an
// evaluation with seed s runs the sampler (prior draw and sampler noise) with seed mixSeed(s, i), and
// every batch is a full `batch` images (the last one is cut to `count`). So sample j depends only on
// (seed, batch, j): two checkpoints or two samplers compared with the same --seed and --batch see the
// same prior draws, and a smaller count is a prefix of a larger one.
import type { Gpu } from '../gpu/gpu.ts';
import { ValueError } from '../gpu/errors.ts';
import { mixSeed } from '../data/host-rng.ts';
import { SampleRun, type SampleRunOptions } from '../sample/sample-run.ts';

export interface SampleSetOptions extends Omit<SampleRunOptions, 'count'> {
  /** Images wanted. */
  count: number;
  /** Images per sampler run. */
  batch: number;
  seed: number;
  /** After each network evaluation: (done, total) over the whole set. */
  onProgress?: (done: number, total: number) => void;
}

/** The seed of batch `i` of an evaluation with seed `seed`. */
export const batchSeed = (seed: number, i: number): number => mixSeed(seed, i);

/** `count` samples [count, C, H, W] (not clipped). */
export async function sampleSet(gpu: Gpu, o: SampleSetOptions): Promise<Float32Array> {
  if (!Number.isInteger(o.count) || o.count < 1) throw new ValueError(`The sample count must be a positive integer, got ${o.count}.`);
  if (!Number.isInteger(o.batch) || o.batch < 1) throw new ValueError(`The sampling batch must be a positive integer, got ${o.batch}.`);
  const { count, batch, seed, onProgress, ...runOptions } = o;
  const run = await SampleRun.create(gpu, { ...runOptions, count: batch });
  try {
    const per = run.shape[1] * run.shape[2] * run.shape[3];
    const out = new Float32Array(count * per);
    const batches = Math.ceil(count / batch);
    const total = batches * run.nfe;
    for (let i = 0; i < batches; i++) {
      const r = await run.run(batchSeed(seed, i), (done) => onProgress?.(i * run.nfe + done, total));
      const n = Math.min(batch, count - i * batch);
      out.set(r.images.subarray(0, n * per), i * batch * per);
    }
    return out;
  } finally {
    run.destroy();
  }
}
