// Sampling an evaluation set from trained weights in batches, with a fixed seed set: batch i of an
// evaluation with seed s runs the sampler (prior draw and sampler noise) with seed mixSeed(s, i), and
// every batch is a full `batch` images (the last one is cut to `count`). So sample j depends only on
// (weights, sampler, steps, seed, batch, j): two checkpoints or two samplers compared with the same
// --seed and --batch see the same prior draws, and a smaller count is a prefix of a larger one.
import type { Gpu } from '../gpu/gpu.ts';
import { ValueError } from '../gpu/errors.ts';
import { mixSeed } from '../base/host-rng.ts';
import { SampleRun, type SampleRunOptions } from '../sample/sample-run.ts';

/** The seed of batch `i` of an evaluation with seed `seed`. */
export const batchSeed = (seed: number, i: number): number => mixSeed(seed, i);

/** A sampling run planned once for `batch` images, reused for every evaluation (the trainer's --eval-every). */
export class EvalSampler {
  private constructor(
    private readonly run: SampleRun,
    readonly batch: number,
  ) {}

  static async create(gpu: Gpu, o: Omit<SampleRunOptions, 'count'> & { batch: number }): Promise<EvalSampler> {
    if (!Number.isInteger(o.batch) || o.batch < 1) throw new ValueError(`The sampling batch must be a positive integer, got ${o.batch}.`);
    const { batch, ...runOptions } = o;
    return new EvalSampler(await SampleRun.create(gpu, { ...runOptions, count: batch }), batch);
  }

  /** Network evaluations per batch. */
  get nfe(): number {
    return this.run.nfe;
  }

  /** Replace the weights (host array in the network's flat layout). */
  setWeights(flat: Float32Array): void {
    this.run.setWeights(flat);
  }

  /** `count` samples [count, C, H, W] (not clipped); onProgress(done, total) after each network evaluation. */
  async sample(count: number, seed: number, onProgress?: (done: number, total: number) => void): Promise<Float32Array> {
    if (!Number.isInteger(count) || count < 1) throw new ValueError(`The sample count must be a positive integer, got ${count}.`);
    const [b, c, h, w] = this.run.shape;
    const per = c * h * w;
    const out = new Float32Array(count * per);
    const batches = Math.ceil(count / b);
    const total = batches * this.run.nfe;
    for (let i = 0; i < batches; i++) {
      const r = await this.run.run(batchSeed(seed, i), (done) => onProgress?.(i * this.run.nfe + done, total));
      const n = Math.min(b, count - i * b);
      out.set(r.images.subarray(0, n * per), i * b * per);
    }
    return out;
  }

  destroy(): void {
    this.run.destroy();
  }
}

export interface SampleSetOptions extends Omit<SampleRunOptions, 'count'> {
  count: number;
  batch: number;
  seed: number;
  onProgress?: (done: number, total: number) => void;
}

/** `count` samples in one go (plans, samples, releases). */
export async function sampleSet(gpu: Gpu, o: SampleSetOptions): Promise<Float32Array> {
  const { count, seed, onProgress, ...rest } = o;
  const s = await EvalSampler.create(gpu, rest);
  try {
    return await s.sample(count, seed, onProgress);
  } finally {
    s.destroy();
  }
}
