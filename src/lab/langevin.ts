// Langevin and annealed Langevin dynamics on the GPU (shaders/lab_langevin.wgsl), driven by a trained
// score model or by a mixture's exact score:
//   plain     x <- x + eps s(x) + sqrt(2 eps) z, `steps` times (s: p's exact score, or any model)
//   annealed  for sigma_1 > ... > sigma_L: `steps` times x <- x + a_i s(x, sigma_i) + sqrt(2 a_i) z,
//             a_i = eps sigma_i^2 / sigma_L^2 (Song & Ermon 2019, Algorithm 1); s is q_sigma_i's exact
//             score, or a noise-conditional model fed log sigma_i.
// Each level is one submit of `steps` x (score, update, counter advance); the noise of step k is
// keyed by (seed, k) through a counter on the GPU, so nothing is read back until the end.
import type { Gpu } from '../gpu/gpu.ts';
import { grid1d, Params, type Dispatch } from '../gpu/kernel.ts';
import { ValueError } from '../gpu/errors.ts';
import type { Tensor } from '../gpu/tensor.ts';
import { RngState } from '../diffusion/rng.ts';
import { HostRng } from '../base/host-rng.ts';
import type { GaussianMixture } from './mixture.ts';
import { GpuMixture } from './mixture-gpu.ts';
import type { ModelPlan, ScoreModel } from './score-model.ts';

export type ScoreSource = { model: ScoreModel } | { density: GaussianMixture };

export interface LangevinOptions {
  chains: number;
  /** Steps per level. */
  steps: number;
  /** Step size: a = eps (plain), a_i = eps sigma_i^2 / sigma_L^2 (annealed). */
  eps: number;
  /** Annealed levels, largest first; absent: plain Langevin. */
  sigmas?: readonly number[];
  seed?: number;
  /** Starting points [chains * dim]; default uniform over `box`. */
  init?: Float32Array;
  /** The box of the default start (default: the density's, or [-3, 3]^D). */
  box?: { lo: ArrayLike<number>; hi: ArrayLike<number> };
}

const WG = 64;
export const LANGEVIN_LIMITS = { chains: 1 << 20, steps: 100_000, levels: 1000 } as const;

export class LangevinSampler {
  private constructor(
    private readonly gpu: Gpu,
    private readonly plan: ModelPlan | null,
    private readonly mixture: GpuMixture | null,
    private readonly density: GaussianMixture | null,
    private readonly rng: RngState,
    private readonly x: Tensor,
    private readonly counter: Tensor,
    private readonly params: GPUBuffer,
    private readonly levelDispatches: Dispatch[],
    private readonly stepDispatches: Dispatch[],
    readonly dim: number,
    private readonly inputDim: number,
    readonly options: LangevinOptions,
  ) {}

  static async create(parent: Gpu, source: ScoreSource, o: LangevinOptions): Promise<LangevinSampler> {
    const int = (what: string, v: number, hi: number) => {
      if (!Number.isInteger(v) || v < 1 || v > hi) throw new ValueError(`Langevin ${what} must be an integer in [1, ${hi}], got ${v}.`);
    };
    int('chains', o.chains, LANGEVIN_LIMITS.chains);
    int('steps', o.steps, LANGEVIN_LIMITS.steps);
    if (!(Number.isFinite(o.eps) && o.eps > 0)) throw new ValueError(`Langevin step size eps must be a positive number, got ${o.eps}.`);
    if (o.sigmas) {
      int('levels', o.sigmas.length, LANGEVIN_LIMITS.levels);
      if (!o.sigmas.every((s) => Number.isFinite(s) && s > 0)) throw new ValueError(`Langevin levels must be positive numbers, got [${o.sigmas.join(', ')}].`);
    }
    const model = 'model' in source ? source.model : null;
    const density = 'density' in source ? source.density : null;
    const conditional = !!model?.spec.output.conditional;
    if (conditional && !o.sigmas) throw new ValueError('A noise-conditional model samples with annealed Langevin.', 'Give sigmas (its training levels).');
    if (model && !conditional && o.sigmas && o.sigmas.length > 1) throw new ValueError('Annealed Langevin needs a noise-conditional model (trained with ncsn) or the exact score.');
    const dim = model ? model.spec.dim : density!.dim;
    const inputDim = model ? model.spec.inputDim : dim;
    if (o.init && o.init.length !== o.chains * dim) throw new ValueError(`Langevin init has ${o.init.length} values; expected chains x dim = ${o.chains * dim}.`);
    const gpu = parent.scope('lab:langevin');
    let plan: ModelPlan | null = null;
    let mixture: GpuMixture | null = null;
    let rng: RngState | null = null;
    try {
      let x: Tensor;
      let score: Tensor;
      const scoreDispatches: Dispatch[] = [];
      if (model) {
        plan = await model.plan(o.chains, 0);
        x = plan.input;
        score = plan.output;
        scoreDispatches.push(...plan.forward);
      } else {
        const first = o.sigmas ? density!.smoothed(o.sigmas[0]!) : density!;
        mixture = new GpuMixture(gpu, first);
        x = gpu.tensor([o.chains, dim], 'lab:langevin:x');
        score = gpu.tensor([o.chains, dim], 'lab:langevin:score');
        scoreDispatches.push(await mixture.score(x, o.chains, dim, score));
      }
      rng = new RngState(gpu, (o.seed ?? 0) >>> 0, 0);
      const counter = gpu.tensor([1], 'lab:langevin:counter', 'u32');
      const params = gpu.uniform(new Params().u32(o.chains, dim, inputDim, 0).f32(0, 0, 0, 0), 'lab:langevin');
      const kernel = (entry: string, bindings: ('uniform' | 'read' | 'rw')[]) =>
        gpu.kernel({ shader: 'lab_langevin', entry, bindings, flags: { STEP: entry === 'langevin_step', SET_LEVEL: entry === 'langevin_set_level', ADVANCE: entry === 'langevin_advance' }, constants: { WG } });
      const step = (await kernel('langevin_step', ['uniform', 'uniform', 'read', 'read', 'rw'])).bind([params, rng.buffer, counter, score, x], grid1d(o.chains, WG), 'lab langevin step');
      const advance = (await kernel('langevin_advance', ['uniform', 'rw'])).bind([params, counter], [1, 1, 1], 'lab langevin advance');
      const levelDispatches = inputDim > dim ? [(await kernel('langevin_set_level', ['uniform', 'rw'])).bind([params, x], grid1d(o.chains, WG), 'lab langevin set level')] : [];
      return new LangevinSampler(gpu, plan, mixture, density, rng, x, counter, params, levelDispatches, [...scoreDispatches, step, advance], dim, inputDim, o);
    } catch (e) {
      plan?.destroy();
      mixture?.destroy();
      rng?.destroy();
      gpu.destroy();
      throw e;
    }
  }

  /** The (sigma, step size) of each level. */
  levels(): { sigma: number; alpha: number }[] {
    const { sigmas, eps } = this.options;
    if (!sigmas) return [{ sigma: 0, alpha: eps }];
    const last = sigmas[sigmas.length - 1]!;
    return sigmas.map((s) => ({ sigma: s, alpha: (eps * s * s) / (last * last) }));
  }

  /** Run every level from the start points; resolves to the final points [chains * dim]. */
  async run(onLevel?: (level: number, sigma: number) => void): Promise<Float32Array> {
    const { chains } = this.options;
    const d = this.dim;
    const din = this.inputDim;
    const start = this.options.init ?? this.defaultStart();
    const rows = new Float32Array(chains * din);
    for (let b = 0; b < chains; b++) for (let j = 0; j < d; j++) rows[b * din + j] = start[b * d + j]!;
    this.gpu.write(this.x, rows);
    this.gpu.write(this.counter, new Uint32Array([0]));
    const levels = this.levels();
    for (const [i, { sigma, alpha }] of levels.entries()) {
      const logSigma = sigma > 0 ? Math.log(sigma) : 0;
      this.gpu.device.queue.writeBuffer(this.params, 0, new Params().u32(chains, d, din, 0).f32(alpha, Math.sqrt(2 * alpha), logSigma, 0).toArrayBuffer());
      if (this.mixture && this.options.sigmas) this.mixture.setMixture(this.density!.smoothed(sigma));
      const rec = this.gpu.recorder('lab langevin');
      rec.run(this.levelDispatches);
      for (let t = 0; t < this.options.steps; t++) rec.run(this.stepDispatches);
      rec.submit();
      onLevel?.(i, sigma);
    }
    const out = await this.gpu.read(this.x);
    if (din === d) return out;
    const pts = new Float32Array(chains * d);
    for (let b = 0; b < chains; b++) for (let j = 0; j < d; j++) pts[b * d + j] = out[b * din + j]!;
    return pts;
  }

  private defaultStart(): Float32Array {
    const d = this.dim;
    const box = this.options.box ?? this.density?.bounds(3) ?? { lo: new Array(d).fill(-3), hi: new Array(d).fill(3) };
    const rng = new HostRng(((this.options.seed ?? 0) ^ 0x1a4e) >>> 0);
    const out = new Float32Array(this.options.chains * d);
    for (let i = 0; i < out.length; i++) {
      const j = i % d;
      out[i] = box.lo[j]! + (box.hi[j]! - box.lo[j]!) * rng.next();
    }
    return out;
  }

  destroy(): void {
    this.plan?.destroy();
    this.mixture?.destroy();
    this.rng.destroy();
    this.gpu.destroy();
  }
}
