// A draw of p_1 from a bank of fully corrupted training images: x_1 = C_1 x0_k + sigma_1 eta, with k
// picked per sample by a seeded host generator (SPEC section 4, the "blur a dataset image" option).
// The bank (C_1 x0 for a few dozen images) is computed once when training starts and stored in the
// checkpoint, so sampling needs neither the data set nor a fitted Gaussian. For the blur, C_1 x0 is
// almost the image's mean colour, so the bank carries what p_1 mostly is: the mean brightness spread.
import type { Gpu } from '../gpu/gpu.ts';
import type { Dispatch } from '../gpu/kernel.ts';
import { ShapeError, ValueError } from '../gpu/errors.ts';
import type { Tensor } from '../gpu/tensor.ts';
import { elementwise } from '../kernels/elementwise.ts';
import { HostRng, mixSeed } from '../base/host-rng.ts';
import { randomNormal, RngStream, type RngState } from '../diffusion/rng.ts';
import type { PriorSource } from '../diffusion/samplers.ts';
import { fillLevels, Schedule } from '../diffusion/schedule.ts';
import type { Corruption } from '../diffusion/types.ts';
import { LEVEL_STRIDE } from '../kernels/levels.ts';
import type { Dataset } from '../data/dataset.ts';

export class BankPrior implements PriorSource {
  private chosen: Tensor | null = null;
  /** The scope of the last plan: the chosen images and the noise. */
  private scope: Gpu | null = null;
  private readonly per: number;

  constructor(
    /** C_1 x0 for K images, [K, C, H, W] flattened. */
    readonly bank: Float32Array,
    readonly imageShape: readonly [number, number, number],
    /** sigma(1). */
    readonly sigma1: number,
  ) {
    this.per = imageShape[0] * imageShape[1] * imageShape[2];
    if (!bank.length || bank.length % this.per !== 0) throw new ShapeError('prior bank', `K x ${imageShape.join('x')}`, `${bank.length} values`);
    if (!(Number.isFinite(sigma1) && sigma1 >= 0)) throw new ValueError(`Prior sigma_1 must be finite and >= 0, got ${sigma1}.`);
  }

  get size(): number {
    return this.bank.length / this.per;
  }

  async plan(gpu: Gpu, out: Tensor, rng: RngState): Promise<Dispatch[]> {
    const [, c, h, w] = out.shape as [number, number, number, number];
    if (c * h * w !== this.per) throw new ShapeError('prior output', [out.shape[0]!, ...this.imageShape], out.shape);
    this.destroy();
    const scope = (this.scope = gpu.scope('bank-prior'));
    this.chosen = scope.tensor(out.shape, 'prior:chosen');
    const noise = scope.tensor(out.shape, 'prior:noise');
    return [
      await randomNormal(scope, noise, rng, { stream: RngStream.priorNoise, std: this.sigma1 }),
      await elementwise(scope, 'add', out, this.chosen, noise),
    ];
  }

  /** Pick the bank images for a run with this seed (call before the sampler's run). */
  choose(gpu: Gpu, seed: number): void {
    if (!this.chosen) throw new ValueError('BankPrior.choose before the sampler was planned.');
    const b = this.chosen.shape[0]!;
    const rng = new HostRng(mixSeed(seed, 0x9a10));
    const host = new Float32Array(b * this.per);
    for (let i = 0; i < b; i++) {
      const k = rng.int(this.size);
      host.set(this.bank.subarray(k * this.per, (k + 1) * this.per), i * this.per);
    }
    gpu.write(this.chosen, host);
  }

  /** Release what the last plan allocated. */
  destroy(): void {
    this.scope?.destroy();
    this.scope = null;
    this.chosen = null;
  }
}

/** C_1 x0 for `count` images of `ds` picked by a seeded host generator: the bank a BankPrior draws from. */
export async function computePriorBank(parent: Gpu, ds: Dataset, corruption: Corruption, count: number, seed: number): Promise<Float32Array> {
  const per = ds.channels * ds.size * ds.size;
  const shape = [count, ds.channels, ds.size, ds.size];
  const rng = new HostRng(seed);
  const host = new Float32Array(count * per);
  for (let k = 0; k < count; k++) host.set(ds.get(rng.int(ds.length)), k * per);
  const gpu = parent.scope('prior-bank');
  try {
    const x0 = gpu.upload(host, shape, 'prior-bank:x0');
    const out = gpu.tensor(shape, 'prior-bank:c1x0');
    const levels = gpu.upload(fillLevels(corruption, Schedule.geometric(1, 1), Array(count).fill(1)), [count, LEVEL_STRIDE], 'prior-bank:levels');
    gpu.recorder('prior-bank').run(await corruption.apply(gpu, x0, out, levels)).submit();
    return await gpu.read(out);
  } finally {
    gpu.destroy();
  }
}
