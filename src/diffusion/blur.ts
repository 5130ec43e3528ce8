// The heat-kernel DCT blur, Soft Diffusion's default corruption (SPEC.md section 1):
//   C_t x = D_H^T (d_t .* (D_H X D_W^T)) D_W per channel, d_t[k,l] = exp(-(lambda_k + lambda_l) sigmaB^2 / 2),
// a Gaussian blur of std sigmaB pixels with half-sample-symmetric borders. C_t is symmetric, all C_t
// commute, the mean is preserved, and C_t^T C_t is the blur with std sqrt(2) sigmaB. sigmaB is per
// sample: levels[b, 1].
//
// API for samplers and losses (all return prebuilt dispatches; 4 each; see dct.ts for the scratch):
//   blur.apply(gpu, x, out, levels)         out = C x        (adjoint is the same)
//   blur.normal(gpu, x, out, levels)        out = C^T C x    (d^2 in the DCT domain)
//   blurCombination(gpu, x, out, { levelsA, coefA, levelsB, coefB, coefs? })
//        out = a_b * C_{levelsA[b]} x + c_b * C_{levelsB[b]} x   with a_b = coefA * coefs[b,0],
//        c_b = coefB * coefs[b,1] (coefs optional, a [B, 2] GPU tensor the sampler can write each step),
//        computed as ONE filter D^T ((a d_A + c d_B) .* D x): never a division by d.
//        Momentum sampler: x0hat -> C_{t-dt} x0hat - rho C_t x0hat is
//        { levelsA: levels(t-dt), coefA: 1, levelsB: levels(t), coefB: -1, coefs: [1, rho] per sample }
//        or, with rho fixed at plan time, coefB: -rho and no coefs.
// Lower-level pieces (dct.ts): dctForward, dctInverse, dctScale(X, out, levels, power), spectralMultiply.
import type { Gpu } from '../gpu/gpu.ts';
import type { Dispatch } from '../gpu/kernel.ts';
import { ValueError } from '../gpu/errors.ts';
import type { Tensor } from '../gpu/tensor.ts';
import type { Corruption } from './types.ts';
import { Schedule, defaultBlurSchedule, type ScheduleJSON } from './schedule.ts';
import { spectralFilter, type DctOptions } from './dct.ts';

export interface DctBlurOptions {
  /** Image height; the default schedule's top std is 0.36 * max(height, width) pixels. */
  height: number;
  width?: number;
  /** sigmaB(t) in pixels; default geometric 0.01 .. 0.36 N. */
  schedule?: Schedule;
}

export class DctBlur implements Corruption {
  readonly name = 'blur';
  readonly selfAdjoint = true;
  readonly capabilities = { heatSpectrum: true } as const;
  readonly height: number;
  readonly width: number;
  readonly schedule: Schedule;

  constructor(opts: DctBlurOptions) {
    this.height = opts.height;
    this.width = opts.width ?? opts.height;
    for (const [k, v] of [['height', this.height], ['width', this.width]] as const)
      if (!(Number.isInteger(v) && v >= 1)) throw new ValueError(`DctBlur ${k} must be a positive integer, got ${v}.`);
    this.schedule = opts.schedule ?? defaultBlurSchedule(Math.max(this.height, this.width));
  }

  level(t: number): number {
    return this.schedule.at(t);
  }

  apply(gpu: Gpu, x: Tensor, out: Tensor, levels: Tensor, opts?: DctOptions): Promise<Dispatch[]> {
    return spectralFilter(gpu, x, out, { levelsA: levels }, opts);
  }

  adjoint(gpu: Gpu, x: Tensor, out: Tensor, levels: Tensor, opts?: DctOptions): Promise<Dispatch[]> {
    return this.apply(gpu, x, out, levels, opts);
  }

  /** out = C^T C x (the blur with std sqrt(2) sigmaB), one filter. */
  normal(gpu: Gpu, x: Tensor, out: Tensor, levels: Tensor, opts?: DctOptions): Promise<Dispatch[]> {
    return spectralFilter(gpu, x, out, { levelsA: levels, powerA: 2 }, opts);
  }

  toJSON(): { name: 'blur'; height: number; width: number; schedule: ScheduleJSON } {
    return { name: 'blur', height: this.height, width: this.width, schedule: this.schedule.toJSON() };
  }

  static fromJSON(json: Record<string, unknown>): DctBlur {
    if (json.name !== 'blur') throw new ValueError(`Not a blur corruption description: ${JSON.stringify(json)}.`);
    return new DctBlur({ height: Number(json.height), width: Number(json.width), schedule: Schedule.fromJSON(json.schedule) });
  }
}

export interface BlurCombination {
  levelsA: Tensor;
  coefA: number;
  levelsB: Tensor;
  coefB: number;
  /** Optional [B, 2] per-sample factors multiplying coefA and coefB. */
  coefs?: Tensor;
}

/** out = a_b C_{levelsA[b]} x + c_b C_{levelsB[b]} x as one DCT-domain filter (see the file comment). */
export function blurCombination(gpu: Gpu, x: Tensor, out: Tensor, c: BlurCombination, opts?: DctOptions): Promise<Dispatch[]> {
  return spectralFilter(gpu, x, out, { levelsA: c.levelsA, coefA: c.coefA, levelsB: c.levelsB, coefB: c.coefB, coefs: c.coefs }, opts);
}
