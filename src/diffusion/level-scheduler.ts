// Scheduling the blur levels (SPEC.md section 5; the paper's third contribution): pick sigmaB(t) so
// that no step moves the distribution by more than a budget.
//  1. Data set statistics in one GPU pass: mu = DCT of the mean image, v = per-channel,
//     per-coefficient variance of the DCT coefficients (datasetSpectrum).
//  2. Candidates b_1 < ... < b_M (M = 256, geometric between sigmaB_min and sigmaB_max), candidate i
//     paired with the noise s_i = sigma(i / (M - 1)).
//  3. W2 between the diagonal-in-DCT Gaussian fits at two candidates:
//     W2^2(i,j) = sum (d_k(b_i) - d_k(b_j))^2 mu_k^2 + sum (sqrt(d_k(b_i)^2 v_k + s_i^2) - sqrt(d_k(b_j)^2 v_k + s_j^2))^2.
//  4. Fewest hops from b_1 to b_M with every hop <= eps (the farthest admissible jump each time:
//     optimal when the distance grows with the gap); bisect eps until the path has K levels (default
//     32; if the candidates are too coarse for exactly K, the largest hops are split).
//  5. sigmaB(t) piecewise linear through the levels at t_k = k / (K - 1).
import type { Gpu } from '../gpu/gpu.ts';
import { grid1d, Params } from '../gpu/kernel.ts';
import { ValueError } from '../gpu/errors.ts';
import { dctForward, heatEigenvalues } from './dct.ts';
import { forEachBatch, type ImageBatches } from './batches.ts';
import { Schedule, type ScheduleJSON } from './schedule.ts';

const WG = 64;

export interface DatasetSpectrum {
  channels: number;
  height: number;
  width: number;
  count: number;
  /** [C, H, W] DCT of the mean image. */
  mean: Float64Array;
  /** [C, H, W] variance (population, 1/N) of each DCT coefficient over the data set. */
  variance: Float64Array;
}

/** mu and v of SPEC section 5 in one pass of GPU DCTs over the data; batches merged in float64. */
export async function datasetSpectrum(gpu: Gpu, data: ImageBatches): Promise<DatasetSpectrum> {
  const k = await gpu.kernel({ shader: 'dataset_stats', entry: 'batch_moments', bindings: ['uniform', 'read', 'rw'], constants: { WG } });
  let mean = new Float64Array();
  let m2 = new Float64Array();
  let dims = [0, 0, 0];
  let count = 0;
  await forEachBatch(data, async (batch, [n, c, h, w]) => {
    const chw = c * h * w;
    if (!count) {
      dims = [c, h, w];
      mean = new Float64Array(chw);
      m2 = new Float64Array(chw);
    }
    const scope = gpu.scope('dataset-stats');
    let r: Float32Array;
    try {
      const X = scope.tensor(batch.shape, 'stats:dct');
      const out = scope.tensor([2, chw], 'stats:moments');
      const params = scope.uniform(new Params().u32(n, chw), 'stats:params');
      scope.recorder('dataset-stats').run([...(await dctForward(scope, batch, X)), k.bind([params, X, out], grid1d(chw, WG))]).submit();
      r = await scope.read(out);
    } finally {
      scope.destroy();
    }
    // Chan et al.: merge (count, mean, m2) with the batch's (n, mean_b, m2_b)
    const total = count + n;
    for (let q = 0; q < chw; q++) {
      const delta = r[q]! - mean[q]!;
      mean[q]! += (delta * n) / total;
      m2[q]! += r[chw + q]! + (delta * delta * count * n) / total;
    }
    count = total;
  });
  const [channels, height, width] = dims as [number, number, number];
  return { channels, height, width, count, mean, variance: m2.map((v) => v / count) };
}

export interface LevelScheduleOptions {
  /** Blur std range in pixels (defaults: 0.01 and 0.36 * max(H, W)). */
  sigmaBMin?: number;
  sigmaBMax?: number;
  /** sigma(t) paired with the candidates; default none (s = 0). */
  noise?: Schedule;
  /** Number of candidates M (default 256). */
  candidates?: number;
  /** Number of levels K (default 32). */
  levels?: number;
}

export interface LevelScheduleResult {
  /** sigmaB(t): piecewise linear through the levels at t_k = k / (K - 1). */
  schedule: ScheduleJSON & { kind: 'piecewise-linear' };
  /** W2 of each hop (K - 1 values). */
  hops: number[];
  /** The budget found by bisection. */
  eps: number;
  /** Candidate indices chosen. */
  path: number[];
  candidates: number[];
}

/** W2 between the Gaussian fits at candidate levels, from the data set spectrum. */
export class LevelDistance {
  readonly b: number[];
  readonly s: number[];
  private d: Float64Array[] = [];
  private readonly hw: number;
  constructor(
    readonly spec: DatasetSpectrum,
    b: number[],
    s: number[],
  ) {
    this.b = b;
    this.s = s;
    const { height: h, width: w } = spec;
    this.hw = h * w;
    const lh = heatEigenvalues(h);
    const lw = heatEigenvalues(w);
    for (const sb of b) this.d.push(Float64Array.from({ length: h * w }, (_, q) => Math.exp(-(lh[Math.floor(q / w)]! + lw[q % w]!) * sb * sb * 0.5)));
  }
  w2(i: number, j: number): number {
    const { mean, variance } = this.spec;
    const di = this.d[i]!;
    const dj = this.d[j]!;
    const si2 = this.s[i]! ** 2;
    const sj2 = this.s[j]! ** 2;
    let sum = 0;
    for (let q = 0; q < mean.length; q++) {
      const kl = q % this.hw;
      const a = di[kl]!;
      const c = dj[kl]!;
      const v = variance[q]!;
      sum += (a - c) ** 2 * mean[q]! ** 2 + (Math.sqrt(a * a * v + si2) - Math.sqrt(c * c * v + sj2)) ** 2;
    }
    return Math.sqrt(sum);
  }
}

/** Fewest-hop path 0 -> M-1 taking the farthest candidate within eps each time; null if some hop cannot be made. */
export function greedyPath(dist: (i: number, j: number) => number, m: number, eps: number): number[] | null {
  const path = [0];
  let i = 0;
  while (i < m - 1) {
    if (dist(i, i + 1) > eps) return null;
    // distance grows with the gap: binary search the farthest admissible j
    let lo = i + 1;
    let hi = m - 1;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (dist(i, mid) <= eps) lo = mid;
      else hi = mid - 1;
    }
    path.push(lo);
    i = lo;
  }
  return path;
}

/** The level schedule of SPEC section 5 from a data set spectrum. */
export function scheduleLevels(spec: DatasetSpectrum, opts: LevelScheduleOptions = {}): LevelScheduleResult {
  const m = opts.candidates ?? 256;
  const k = opts.levels ?? 32;
  const lo = opts.sigmaBMin ?? 0.01;
  const hi = opts.sigmaBMax ?? 0.36 * Math.max(spec.height, spec.width);
  if (!(Number.isInteger(m) && m >= 2 && Number.isInteger(k) && k >= 2 && k <= m)) throw new ValueError(`Need integers 2 <= levels (${k}) <= candidates (${m}).`);
  if (!(lo > 0 && hi > lo)) throw new ValueError(`Need 0 < sigmaBMin < sigmaBMax, got ${lo}, ${hi}.`);
  const b = Array.from({ length: m }, (_, i) => lo * (hi / lo) ** (i / (m - 1)));
  const s = Array.from({ length: m }, (_, i) => opts.noise?.at(i / (m - 1)) ?? 0);
  const ld = new LevelDistance(spec, b, s);
  const cache = new Map<number, number>();
  const dist = (i: number, j: number) => {
    const key = i * m + j;
    let v = cache.get(key);
    if (v === undefined) cache.set(key, (v = ld.w2(i, j)));
    return v;
  };
  // bisection: the smallest eps whose path has at most K - 1 hops
  let epsHi = dist(0, m - 1) * (1 + 1e-9);
  let epsLo = 0;
  for (let it = 0; it < 60; it++) {
    const mid = 0.5 * (epsLo + epsHi);
    const p = greedyPath(dist, m, mid);
    if (p && p.length <= k) epsHi = mid;
    else epsLo = mid;
  }
  const path = greedyPath(dist, m, epsHi)!;
  // too coarse for exactly K levels: split the largest hops that span >= 2 candidates
  while (path.length < k) {
    let best = -1;
    for (let h = 0; h + 1 < path.length; h++)
      if (path[h + 1]! - path[h]! >= 2 && (best < 0 || dist(path[h]!, path[h + 1]!) > dist(path[best]!, path[best + 1]!))) best = h;
    if (best < 0) break;
    path.splice(best + 1, 0, Math.floor((path[best]! + path[best + 1]!) / 2));
  }
  const hops = path.slice(1).map((j, h) => dist(path[h]!, j));
  const t = path.map((_, h) => (h === path.length - 1 ? 1 : h / (path.length - 1)));
  return { schedule: { kind: 'piecewise-linear', t, values: path.map((i) => b[i]!) }, hops, eps: epsHi, path, candidates: b };
}

/** datasetSpectrum + scheduleLevels: the blur schedule as a Schedule plus the JSON report. */
export async function levelSchedule(gpu: Gpu, data: ImageBatches, opts: LevelScheduleOptions = {}): Promise<{ schedule: Schedule; report: LevelScheduleResult }> {
  const report = scheduleLevels(await datasetSpectrum(gpu, data), opts);
  return { schedule: Schedule.fromJSON(report.schedule), report };
}
