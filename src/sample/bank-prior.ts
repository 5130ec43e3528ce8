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
import { HostRng, mixSeed } from '../data/host-rng.ts';
import { randomNormal, RngStream, type RngState } from '../diffusion/rng.ts';
import type { PriorSource } from '../diffusion/samplers.ts';

export class BankPrior implements PriorSource {
  private chosen: Tensor | null = null;
  private owned: { gpu: Gpu; tensors: Tensor[] } | null = null;
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
    this.chosen = gpu.tensor(out.shape, 'prior:chosen');
    const noise = gpu.tensor(out.shape, 'prior:noise');
    this.owned = { gpu, tensors: [this.chosen, noise] };
    return [
      await randomNormal(gpu, noise, rng, { stream: RngStream.priorNoise, std: this.sigma1 }),
      await elementwise(gpu, 'add', out, this.chosen, noise),
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

  destroy(): void {
    if (this.owned) for (const t of this.owned.tensors) this.owned.gpu.pool.release(t);
    this.owned = null;
    this.chosen = null;
  }
}
