// A sampling run from trained weights: the network as Denoiser, the corruption and noise schedule it
// was trained with, a sampler (momentum by default) and the prior bank, planned once for `count`
// images and run any number of times with different seeds. Used by the trainer's preview grids (with
// its EMA weights, copied on the GPU) and by `softdiff sample` (weights from a checkpoint).
import type { Gpu } from '../gpu/gpu.ts';
import { ValueError } from '../gpu/errors.ts';
import type { Tensor } from '../gpu/tensor.ts';
import type { UNetConfig } from '../nn/config.ts';
import { Sampler, type Intermediate, type SamplerKind } from '../diffusion/samplers.ts';
import type { Schedule } from '../diffusion/schedule.ts';
import type { Corruption } from '../diffusion/types.ts';
import { BankPrior } from './bank-prior.ts';
import { UNetDenoiser } from './unet-denoiser.ts';

export interface SampleRunOptions {
  config: UNetConfig;
  /** Flat weights in the network's layout; omit to copy them later with copyWeightsFrom. */
  weights?: Float32Array;
  corruption: Corruption;
  noise: Schedule;
  /** C_1 x0 images [K, C, H, W] (see BankPrior). */
  priorBank: Float32Array;
  count: number;
  steps: number;
  sampler?: SamplerKind;
  /** Annealed Langevin steps per level (default 100 in the sampler; fewer for previews). */
  langevinStepsPerLevel?: number;
  /** Clip x0hat to this range inside the sampler (see SamplerOptions.clip); default off. */
  clip?: readonly [number, number];
}

export interface SampleResult {
  /** [count, C, H, W], not clipped. */
  images: Float32Array;
  shape: [number, number, number, number];
}

export class SampleRun {
  private constructor(
    /** The run's own scope. */
    private readonly gpu: Gpu,
    readonly denoiser: UNetDenoiser,
    private readonly prior: BankPrior,
    private readonly sampler: Sampler,
    readonly shape: [number, number, number, number],
  ) {}

  /** Plans the run in a scope of `parent` (network, sampler, prior); destroy() releases all of it. */
  static async create(parent: Gpu, o: SampleRunOptions): Promise<SampleRun> {
    if (!(Number.isInteger(o.count) && o.count >= 1)) throw new ValueError(`Sample count must be a positive integer, got ${o.count}.`);
    const { inChannels: c, imageSize: s } = o.config;
    const shape: [number, number, number, number] = [o.count, c, s, s];
    const denoiser = new UNetDenoiser(o.config, o.weights ?? null);
    const prior = new BankPrior(o.priorBank, [c, s, s], o.noise.at(1));
    const gpu = parent.scope('sample-run');
    let sampler: Sampler;
    try {
      sampler = await Sampler.create(gpu, {
      kind: o.sampler ?? 'momentum',
      denoiser,
      corruption: o.corruption,
      noise: o.noise,
      shape,
      steps: o.steps,
      prior,
      langevin: o.langevinStepsPerLevel ? { stepsPerLevel: o.langevinStepsPerLevel } : undefined,
      clip: o.clip,
      });
    } catch (e) {
      gpu.destroy();
      throw e;
    }
    return new SampleRun(gpu, denoiser, prior, sampler, shape);
  }

  /** Denoiser evaluations per run. */
  get nfe(): number {
    return this.sampler.nfe;
  }

  /** Replace the weights (host array in the network's flat layout, e.g. a checkpoint's EMA). */
  setWeights(flat: Float32Array): void {
    this.denoiser.setWeights(flat);
  }

  /** Copy the weights from a GPU tensor in the network's flat layout (the trainer's EMA). */
  copyWeightsFrom(source: Tensor): void {
    this.denoiser.copyWeightsFrom(source);
  }

  /**
   * One run for `seed`. With `intermediates`, x_t and x0hat are handed back every `every` steps (for
   * previews and animations of the reverse process).
   */
  async run(
    seed: number,
    onProgress?: (done: number, total: number) => void,
    intermediates?: { every: number; onIntermediate: (s: Intermediate) => void | Promise<void> },
  ): Promise<SampleResult> {
    this.prior.choose(this.gpu, seed);
    const out = await this.sampler.run({ seed, onProgress, every: intermediates?.every, onIntermediate: intermediates?.onIntermediate });
    return { images: await this.gpu.read(out), shape: this.shape };
  }

  /** Release the network, the sampler and the prior. */
  destroy(): void {
    this.gpu.destroy();
  }
}
