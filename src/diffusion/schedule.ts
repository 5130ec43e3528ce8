// Schedules t -> value for the corruption level (blur std sigmaB(t), pixels) and the noise std sigma(t)
// (SPEC.md sections 1 and 5). Two kinds:
//   geometric         v(t) = min * (max / min)^t                    (the default spacing)
//   piecewise-linear  straight lines through (t_k, v_k), t_0 = 0 < ... < t_K-1 = 1 (the level
//                     scheduler's output, or any user table)
// Values are positive and non-decreasing in t; evaluation is float64 on the host (the host writes the
// levels tensor once per step). Also: the SPEC defaults, the clamped sigma^-2 loss weight, and
// `fillLevels`, which builds the host array for a levels tensor [B, 4] = (t, c, sigma, weight).
import { NonFiniteError, ValueError } from '../gpu/errors.ts';
import { LEVEL_STRIDE } from '../kernels/levels.ts';
import type { Corruption } from './types.ts';

export type ScheduleJSON =
  | { kind: 'geometric'; min: number; max: number }
  | { kind: 'piecewise-linear'; t: number[]; values: number[] };

export class Schedule {
  private constructor(private readonly spec: ScheduleJSON) {}

  /** v(t) = min * (max / min)^t; 0 < min <= max. */
  static geometric(min: number, max: number): Schedule {
    finite('geometric schedule min', min);
    finite('geometric schedule max', max);
    if (!(min > 0)) throw new ValueError(`Schedule value must be > 0, got min = ${min}.`, 'Use a small positive minimum such as 0.01.');
    if (max < min) throw new ValueError(`Schedule must be non-decreasing in t, got min ${min} > max ${max}.`, 'Swap min and max.');
    return new Schedule({ kind: 'geometric', min, max });
  }

  /** Straight lines through the points (t_k, v_k): t from exactly 0 to exactly 1, increasing; v > 0, non-decreasing. */
  static piecewiseLinear(points: readonly (readonly [number, number])[]): Schedule {
    if (points.length < 2) throw new ValueError(`A piecewise-linear schedule needs at least 2 points, got ${points.length}.`);
    const t = points.map(([x]) => x);
    const values = points.map(([, v]) => v);
    t.forEach((x, k) => finite(`schedule t[${k}]`, x));
    values.forEach((v, k) => finite(`schedule value[${k}]`, v));
    if (t[0] !== 0 || t[t.length - 1] !== 1)
      throw new ValueError(`Schedule points must span t = 0 to t = 1 exactly, got ${t[0]} .. ${t[t.length - 1]}.`);
    for (let k = 0; k < t.length; k++) {
      if (!(values[k]! > 0)) throw new ValueError(`Schedule value must be > 0, got ${values[k]} at t = ${t[k]}.`);
      if (k > 0 && !(t[k]! > t[k - 1]!)) throw new ValueError(`Schedule t must increase, got ${t[k - 1]} then ${t[k]}.`);
      if (k > 0 && values[k]! < values[k - 1]!)
        throw new ValueError(`Schedule must be non-decreasing in t, got ${values[k - 1]} then ${values[k]} at t = ${t[k]}.`);
    }
    return new Schedule({ kind: 'piecewise-linear', t, values });
  }

  static fromJSON(json: unknown): Schedule {
    const j = json as Partial<ScheduleJSON> | null;
    if (j?.kind === 'geometric') return Schedule.geometric(Number(j.min), Number(j.max));
    if (j?.kind === 'piecewise-linear' && Array.isArray(j.t) && Array.isArray(j.values) && j.t.length === j.values.length)
      return Schedule.piecewiseLinear(j.t.map((x, k) => [Number(x), Number(j.values![k])] as const));
    throw new ValueError(`Not a schedule description: ${JSON.stringify(json)}.`, "Expected {kind: 'geometric', min, max} or {kind: 'piecewise-linear', t, values}.");
  }

  get kind(): ScheduleJSON['kind'] {
    return this.spec.kind;
  }
  get min(): number {
    return this.at(0);
  }
  get max(): number {
    return this.at(1);
  }

  /** The value at t in [0, 1]. */
  at(t: number): number {
    finite('schedule time t', t);
    if (t < 0 || t > 1) throw new ValueError(`Schedule time t must lie in [0, 1], got ${t}.`);
    const s = this.spec;
    if (s.kind === 'geometric') return s.min === s.max ? s.min : Math.exp(Math.log(s.min) + t * (Math.log(s.max) - Math.log(s.min)));
    let k = 1;
    while (k < s.t.length - 1 && s.t[k]! < t) k++;
    const t0 = s.t[k - 1]!;
    const t1 = s.t[k]!;
    const u = (t - t0) / (t1 - t0);
    return s.values[k - 1]! + u * (s.values[k]! - s.values[k - 1]!);
  }

  toJSON(): ScheduleJSON {
    const s = this.spec;
    return s.kind === 'geometric' ? { ...s } : { kind: s.kind, t: [...s.t], values: [...s.values] };
  }
}

function finite(what: string, v: number): void {
  if (!Number.isFinite(v)) throw new NonFiniteError(`${what} must be a finite number, got ${v}.`);
}

/** SPEC default blur std: 0.01 px at t = 0 to 0.36 * N px at t = 1 (N = the larger image side), geometric. */
export function defaultBlurSchedule(size: number): Schedule {
  if (!(Number.isInteger(size) && size >= 1)) throw new ValueError(`Image size must be a positive integer, got ${size}.`);
  return Schedule.geometric(0.01, 0.36 * size);
}

/** SPEC default noise std: 0.01..0.1 for blur and masking; 0.01..50 for identity (VE diffusion). */
export function defaultNoiseSchedule(corruption: 'blur' | 'mask' | 'identity' | string): Schedule {
  return corruption === 'identity' ? Schedule.geometric(0.01, 50) : Schedule.geometric(0.01, 0.1);
}

/** The optional loss weight w = sigma^-2, clamped to `max` (computed in float64; never sigma^-4). */
export function inverseVarianceWeight(sigma: number, max = 1e4): number {
  finite('sigma', sigma);
  if (!(sigma > 0)) throw new ValueError(`sigma must be > 0 for the sigma^-2 weight, got ${sigma}.`);
  return Math.min(1 / (sigma * sigma), max);
}

/**
 * The host array for a levels tensor [B, 4]: row b = (t_b, corruption.level(t_b), noise.at(t_b),
 * weight(t_b, sigma_b)). Default weight 1.
 */
export function fillLevels(
  corruption: Pick<Corruption, 'level'>,
  noise: Schedule,
  ts: readonly number[],
  weight: (t: number, sigma: number) => number = () => 1,
  out = new Float32Array(ts.length * LEVEL_STRIDE),
): Float32Array {
  if (out.length !== ts.length * LEVEL_STRIDE) throw new ValueError(`fillLevels: output has ${out.length} entries, need ${ts.length * LEVEL_STRIDE}.`);
  ts.forEach((t, b) => {
    const sigma = noise.at(t);
    out[b * LEVEL_STRIDE] = t;
    out[b * LEVEL_STRIDE + 1] = corruption.level(t);
    out[b * LEVEL_STRIDE + 2] = sigma;
    out[b * LEVEL_STRIDE + 3] = weight(t, sigma);
  });
  return out;
}
