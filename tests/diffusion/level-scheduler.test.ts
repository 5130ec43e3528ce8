import { describe, expect, test } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { expectClose } from '../helpers/expect-close.ts';
import { randn } from '../helpers/random.ts';
import { datasetSpectrum, greedyPath, LevelDistance, levelSchedule, scheduleLevels } from '../../src/diffusion/level-scheduler.ts';
import { dctMatrix } from '../../src/diffusion/dct.ts';
import { Schedule } from '../../src/diffusion/schedule.ts';
import { ValueError } from '../../src/gpu/errors.ts';

const ctx = useGpu();
const [C, H, W] = [3, 16, 12];

/** Natural-image-like synthetic data: per-channel mean, DCT coefficient std ~ 1 / (1 + k + l). */
function dataset(n: number, seed: number): Float64Array {
  const z = randn(n * C * H * W, seed);
  const Dh = dctMatrix(H);
  const Dw = dctMatrix(W);
  const x = new Float64Array(n * C * H * W);
  for (let s = 0; s < n * C; s++) {
    const c = s % C;
    const X = Float64Array.from({ length: H * W }, (_, q) => (0.3 * z[s * H * W + q]!) / (1 + Math.floor(q / W) + (q % W)));
    X[0] += Math.sqrt(H * W) * (0.3 + 0.2 * c);
    // x = D_H^T X D_W
    for (let i = 0; i < H; i++)
      for (let j = 0; j < W; j++) {
        let v = 0;
        for (let k = 0; k < H; k++) for (let l = 0; l < W; l++) v += Dh[k * H + i]! * X[k * W + l]! * Dw[l * W + j]!;
        x[s * H * W + i * W + j] = v;
      }
  }
  return x;
}

function spectrumRef(x: Float64Array, n: number) {
  const Dh = dctMatrix(H);
  const Dw = dctMatrix(W);
  const chw = C * H * W;
  const coefs = new Float64Array(n * chw);
  for (let s = 0; s < n * C; s++)
    for (let k = 0; k < H; k++)
      for (let l = 0; l < W; l++) {
        let v = 0;
        for (let i = 0; i < H; i++) for (let j = 0; j < W; j++) v += Dh[k * H + i]! * x[s * H * W + i * W + j]! * Dw[l * W + j]!;
        coefs[s * H * W + k * W + l] = v;
      }
  const mean = new Float64Array(chw);
  const variance = new Float64Array(chw);
  for (let b = 0; b < n; b++) for (let q = 0; q < chw; q++) mean[q]! += coefs[b * chw + q]! / n;
  for (let b = 0; b < n; b++) for (let q = 0; q < chw; q++) variance[q]! += (coefs[b * chw + q]! - mean[q]!) ** 2 / n;
  return { mean, variance };
}

describe('level scheduler (SPEC section 5)', () => {
  const n = 200;
  const data = dataset(n, 4);
  let spectrum: Awaited<ReturnType<typeof datasetSpectrum>>;

  test('GPU data set statistics (three batches) match float64', async () => {
    const { gpu } = ctx;
    const chw = C * H * W;
    const cuts = [0, 64, 130, n];
    const batches = cuts.slice(1).map((end, i) => gpu.upload(Float32Array.from(data.subarray(cuts[i]! * chw, end * chw)), [end - cuts[i]!, C, H, W]));
    spectrum = await datasetSpectrum(gpu, batches);
    const ref = spectrumRef(data, n);
    expect(spectrum.count).toBe(n);
    expectClose(spectrum.mean, ref.mean, { atol: 2e-5, rtol: 1e-5, label: 'mu' });
    expectClose(spectrum.variance, ref.variance, { atol: 1e-7, rtol: 1e-4, label: 'v' });
  });

  test('greedy farthest jumps give the fewest hops on a line', () => {
    const xs = Array.from({ length: 101 }, (_, i) => i * 0.1);
    const p = greedyPath((i, j) => Math.abs(xs[j]! - xs[i]!), 101, 1.0 + 1e-9);
    expect(p).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
    expect(greedyPath((i, j) => Math.abs(j - i), 10, 0.5)).toBeNull();
  });

  test('K levels, every hop within the budget and the hops roughly equal (unlike a geometric spacing)', () => {
    const noise = Schedule.geometric(0.01, 0.1);
    const r = scheduleLevels(spectrum, { noise });
    expect(r.path.length).toBe(32);
    expect(r.hops.length).toBe(31);
    expect(r.schedule.t[0]).toBe(0);
    expect(r.schedule.t[31]).toBe(1);
    expectClose(r.schedule.t, Array.from({ length: 32 }, (_, k) => k / 31), { atol: 1e-12 });
    expect(r.schedule.values[0]).toBeCloseTo(0.01, 12);
    expect(r.schedule.values[31]).toBeCloseTo(0.36 * 16, 10);
    for (const h of r.hops) expect(h).toBeLessThanOrEqual(r.eps * (1 + 1e-9));
    const inner = r.hops.slice(0, -1);
    const spread = Math.max(...inner) / Math.min(...inner);
    expect(spread).toBeLessThan(1.6);
    expect(inner.reduce((a, b) => a + b, 0) / inner.length).toBeGreaterThan(0.8 * r.eps);
    // the same distance along a geometric spacing of 32 candidates is far from equal
    const geo = Array.from({ length: 32 }, (_, k) => Math.round((k * 255) / 31));
    const ld = new LevelDistance(spectrum, r.candidates, r.candidates.map((_, i) => noise.at(i / 255)));
    const geoHops = geo.slice(1).map((j, k) => ld.w2(geo[k]!, j));
    expect(Math.max(...geoHops) / Math.min(...geoHops)).toBeGreaterThan(3 * spread);
    // sum of hops never below the direct distance (triangle inequality of W2)
    expect(r.hops.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(ld.w2(0, 255) * (1 - 1e-9));
  });

  test('levelSchedule returns a usable Schedule; bad options are typed errors', async () => {
    const { gpu } = ctx;
    const batch = gpu.upload(Float32Array.from(data.subarray(0, 50 * C * H * W)), [50, C, H, W]);
    const { schedule, report } = await levelSchedule(gpu, batch, { levels: 8, candidates: 64 });
    expect(report.path.length).toBe(8);
    expect(schedule.at(0)).toBeCloseTo(0.01, 12);
    expect(schedule.at(1 / 7)).toBeCloseTo(report.schedule.values[1]!, 12);
    expect(() => scheduleLevels(spectrum, { levels: 300 })).toThrow(ValueError);
    expect(() => scheduleLevels(spectrum, { sigmaBMin: 2, sigmaBMax: 1 })).toThrow(ValueError);
  });
});
