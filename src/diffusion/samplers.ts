// Samplers (SPEC.md section 4): momentum (the paper's Algorithm 2), its probability-flow
// (deterministic) version, the naive baseline and NCSN's annealed Langevin dynamics. A sampler is
// planned once for a batch shape; each step is one Recorder submit:
//   denoiser(x, levels_t) -> x0hat;  the corruption applications;  ONE fused update with its noise
//   (shaders/sampler.wgsl). For a corruption with the heatSpectrum capability (the DCT blur),
//   C_{t-dt} x0hat - a C_t x0hat is one DCT-domain filter (blurCombination) instead of two blurs.
// A Sampler plans in a scope of its own: its tensors, the denoiser's and the prior's plans, and every
// uniform are released by destroy().
// Steps run t_i = 1 - i/N, i = 0..N-1; the denoiser is never evaluated at t = 0; NFE = N
// (annealed Langevin: N noise levels at the same t_i, T steps each, NFE = N T).
// The host writes only the two levels tensors, the blur coefficients and the RNG step per step.
import type { Gpu } from '../gpu/gpu.ts';
import { grid1d, Params, type Dispatch } from '../gpu/kernel.ts';
import { ShapeError, ValueError } from '../gpu/errors.ts';
import { sameShape, type Tensor } from '../gpu/tensor.ts';
import { blurCombination } from './blur.ts';
import { randomNormal, RngState, RngStream } from './rng.ts';
import { fillLevels, type Schedule } from './schedule.ts';
import { LEVEL_STRIDE } from '../kernels/levels.ts';
import type { Corruption, Denoiser } from './types.ts';

const WG = 64;

export type SamplerKind = 'momentum' | 'probability-flow' | 'naive' | 'langevin';
const MODE: Record<SamplerKind, number> = { momentum: 0, 'probability-flow': 1, naive: 2, langevin: 3 };

/** Where the sampler's x_1 comes from: dispatches writing a draw of p_1 into `out` (see prior.ts). */
export interface PriorSource {
  plan(gpu: Gpu, out: Tensor, rng: RngState): Promise<Dispatch[]>;
}

export interface SamplerOptions {
  kind?: SamplerKind;
  denoiser: Denoiser;
  corruption: Corruption;
  /** sigma(t). */
  noise: Schedule;
  /** [B, C, H, W]. */
  shape: readonly number[];
  /** N: steps (NFE), or noise levels for annealed Langevin. */
  steps: number;
  /** Annealed Langevin: alpha_i = eps sigma_i^2 / sigma_L^2 (eps default 2e-5), T steps per level (default 100). */
  langevin?: { eps?: number; stepsPerLevel?: number };
  /** Use the single-filter combination when the corruption has the heatSpectrum capability (default true). */
  fuseBlur?: boolean;
  /** x_1's distribution; default sigma_1 * N(0, I) (the VE prior, right for the identity corruption). */
  prior?: PriorSource;
  /**
   * Clip x0hat to [lo, hi] (the data range, e.g. [0, 1]) after every denoiser evaluation, before it
   * enters the update (DDPM's "clip denoised"). Not in the paper; off by default. It keeps an
   * undertrained network's overshoots out of C x0hat; it also biases the score near the range ends.
   */
  clip?: readonly [number, number];
}

export interface Intermediate {
  /** Steps done so far (1..NFE). */
  step: number;
  /** The t at which the denoiser was evaluated in that step. */
  t: number;
  xt: Float32Array;
  x0hat: Float32Array;
}

export interface SampleRunOptions {
  seed?: number;
  /** Start from this x_1 [B, C, H, W] instead of a prior draw. */
  init?: Tensor;
  /** The last x0hat (default) or the last iterate x_0. */
  output?: 'x0hat' | 'iterate';
  /** Called after every step has finished on the GPU (the run then waits for each step). */
  onProgress?: (done: number, total: number) => void;
  /** With onIntermediate: read back x_t (after the update) and x0hat every `every` steps (and the last). */
  every?: number;
  onIntermediate?: (s: Intermediate) => void | Promise<void>;
}

/** t_i = 1 - i/N for i = 0..N-1. */
export function samplerTimes(n: number): number[] {
  return Array.from({ length: n }, (_, i) => 1 - i / n);
}

export class Sampler {
  readonly kind: SamplerKind;
  readonly x: Tensor;
  readonly x0hat: Tensor;
  readonly rng: RngState;
  readonly nfe: number;
  private constructor(
    /** The sampler's own scope. */
    private readonly gpu: Gpu,
    private readonly opts: SamplerOptions,
    private readonly parts: {
      levelsT: Tensor;
      levelsN: Tensor;
      coefs: Tensor | null;
      step: Dispatch[];
      prior: Dispatch[];
    },
    x: Tensor,
    x0hat: Tensor,
    rng: RngState,
  ) {
    this.kind = opts.kind ?? 'momentum';
    this.x = x;
    this.x0hat = x0hat;
    this.rng = rng;
    this.nfe = this.kind === 'langevin' ? opts.steps * stepsPerLevel(opts) : opts.steps;
  }

  static async create(parent: Gpu, opts: SamplerOptions): Promise<Sampler> {
    const kind = opts.kind ?? 'momentum';
    if (!(kind in MODE)) throw new ValueError(`Unknown sampler ${kind}; known: ${Object.keys(MODE).join(', ')}.`);
    if (!(Number.isInteger(opts.steps) && opts.steps >= 1)) throw new ValueError(`Sampler steps must be a positive integer, got ${opts.steps}.`);
    if (opts.clip && !(Number.isFinite(opts.clip[0]) && Number.isFinite(opts.clip[1]) && opts.clip[0] < opts.clip[1]))
      throw new ValueError(`Sampler clip range must be finite with lo < hi, got [${opts.clip.join(', ')}].`, 'Use the data range, e.g. [0, 1].');
    const shape = [...opts.shape];
    if (shape.length !== 4) throw new ShapeError('sampler shape', '[B, C, H, W]', shape);
    const [b, c, h, w] = shape as [number, number, number, number];
    const chw = c * h * w;
    const n = b * chw;
    const gpu = parent.scope(`sampler ${kind}`);
    try {
      return await Sampler.plan(gpu, opts, kind, shape, n, chw);
    } catch (e) {
      gpu.destroy();
      throw e;
    }
  }

  private static async plan(gpu: Gpu, opts: SamplerOptions, kind: SamplerKind, shape: number[], n: number, chw: number): Promise<Sampler> {
    const b = shape[0]!;
    const x = gpu.tensor(shape, 'sampler:x');
    const x0hat = gpu.tensor(shape, 'sampler:x0hat');
    const yn = gpu.tensor(shape, 'sampler:y-next');
    const yt = gpu.tensor(shape, 'sampler:y-t');
    const levelsT = gpu.tensor([b, LEVEL_STRIDE], 'sampler:levels-t');
    const levelsN = gpu.tensor([b, LEVEL_STRIDE], 'sampler:levels-next');
    const rng = new RngState(gpu, 0, 0);
    const fuse = (opts.fuseBlur ?? true) && !!opts.corruption.capabilities?.heatSpectrum && (kind === 'momentum' || kind === 'probability-flow');
    const coefs = fuse ? gpu.tensor([b, 2], 'sampler:blur-coefs') : null;

    const step: Dispatch[] = [...(await opts.denoiser.plan(gpu, x, levelsT, x0hat))];
    if (opts.clip) {
      const clip = await gpu.kernel({ shader: 'sampler', entry: 'clip_x0hat', bindings: ['uniform', 'rw'], constants: { WG } });
      const clipParams = gpu.uniform(new Params().u32(n).f32(opts.clip[0], opts.clip[1]).u32(0), 'sampler:clip-params');
      step.push(clip.bind([clipParams, x0hat], grid1d(n, WG), 'clip-x0hat'));
    }
    if (fuse) step.push(...(await blurCombination(gpu, x0hat, yn, { levelsA: levelsN, coefA: 1, levelsB: levelsT, coefB: -1, coefs: coefs! })));
    else if (kind === 'langevin') step.push(...(await opts.corruption.apply(gpu, x0hat, yt, levelsT)));
    else {
      step.push(...(await opts.corruption.apply(gpu, x0hat, yn, levelsN)));
      if (kind !== 'naive') step.push(...(await opts.corruption.apply(gpu, x0hat, yt, levelsT)));
    }
    let epsOverSl2 = 0;
    if (kind === 'langevin') {
      const eps = opts.langevin?.eps ?? 2e-5;
      const sigmaL = opts.noise.at(1 / opts.steps);
      epsOverSl2 = eps / (sigmaL * sigmaL);
      if (!(epsOverSl2 > 0 && epsOverSl2 < 1)) throw new ValueError(`Langevin step eps / sigma_L^2 = ${epsOverSl2} must lie in (0, 1).`, 'Lower langevin.eps.');
    }
    const k = await gpu.kernel({ shader: 'sampler', entry: 'sampler_update', bindings: ['uniform', 'uniform', 'read', 'read', 'read', 'read', 'rw'], constants: { WG } });
    const params = gpu.uniform(new Params().u32(n, chw, MODE[kind], fuse ? 1 : 0, RngStream.samplerNoise).f32(epsOverSl2).u32(0, 0), 'sampler:params');
    const ynBound = kind === 'langevin' ? yt : yn;
    step.push(k.bind([params, rng.buffer, levelsT, kind === 'langevin' ? levelsT : levelsN, ynBound, kind === 'naive' || fuse ? ynBound : yt, x], grid1d(Math.ceil(n / 4), WG), `${kind}-update`));

    const prior = opts.prior
      ? await opts.prior.plan(gpu, x, rng)
      : [await randomNormal(gpu, x, rng, { stream: RngStream.prior, std: opts.noise.at(1) })];
    return new Sampler(gpu, opts, { levelsT, levelsN, coefs, step, prior }, x, x0hat, rng);
  }

  /** Runs the whole chain and returns the output tensor (owned by the sampler: read or copy it). */
  async run(o: SampleRunOptions = {}): Promise<Tensor> {
    const { gpu, opts, parts } = this;
    const seed = o.seed ?? 0;
    const [b] = this.x.shape as [number];
    if (o.init) {
      if (!sameShape(o.init.shape, this.x.shape)) throw new ShapeError('sampler init', this.x.shape, o.init.shape);
      gpu.recorder('sampler:init').copy(o.init, this.x).submit();
    } else {
      this.rng.set(seed, 0);
      gpu.recorder('sampler:prior').run(parts.prior).submit();
    }
    const perLevel = this.kind === 'langevin' ? stepsPerLevel(opts) : 1;
    const times = samplerTimes(opts.steps);
    const every = o.every ?? 0;
    let done = 0;
    for (let i = 0; i < opts.steps; i++) {
      const t = times[i]!;
      const tNext = this.kind === 'langevin' ? t : i + 1 < opts.steps ? times[i + 1]! : 0;
      gpu.write(parts.levelsT, fillLevels(opts.corruption, opts.noise, Array(b).fill(t)));
      gpu.write(parts.levelsN, fillLevels(opts.corruption, opts.noise, Array(b).fill(tNext)));
      if (parts.coefs) {
        const rho = opts.noise.at(tNext) ** 2 / opts.noise.at(t) ** 2;
        const a = this.kind === 'momentum' ? rho : (1 + rho) / 2;
        gpu.write(parts.coefs, Float32Array.from({ length: 2 * b }, (_, j) => (j % 2 === 0 ? 1 : a)));
      }
      for (let r = 0; r < perLevel; r++) {
        this.rng.set(seed, done);
        gpu.recorder(`sampler:${this.kind}`).run(parts.step).submit();
        done++;
        if (o.onProgress) {
          await gpu.done();
          o.onProgress(done, this.nfe);
        }
        if (o.onIntermediate && every > 0 && (done % every === 0 || done === this.nfe))
          await o.onIntermediate({ step: done, t, xt: await gpu.read(this.x), x0hat: await gpu.read(this.x0hat) });
      }
    }
    await gpu.done();
    return (o.output ?? 'x0hat') === 'x0hat' ? this.x0hat : this.x;
  }

  /** Release everything the sampler planned (the denoiser's and the prior's plans included). */
  destroy(): void {
    this.gpu.destroy();
  }
}

function stepsPerLevel(opts: SamplerOptions): number {
  const t = opts.langevin?.stepsPerLevel ?? 100;
  if (!(Number.isInteger(t) && t >= 1)) throw new ValueError(`Langevin stepsPerLevel must be a positive integer, got ${t}.`);
  return t;
}

/** One-call form: plan, run, read back, release. */
export async function sample(gpu: Gpu, opts: SamplerOptions, run: SampleRunOptions = {}): Promise<Float32Array> {
  const s = await Sampler.create(gpu, opts);
  try {
    return await gpu.read(await s.run(run));
  } finally {
    s.destroy();
  }
}

