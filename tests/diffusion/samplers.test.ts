import { describe, expect, test } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { expectClose } from '../helpers/expect-close.ts';
import { randn } from '../helpers/random.ts';
import { dct2, type Dims } from '../reference/blur.ts';
import { finalVarianceRef, sampleRef, spectralVariance, type RefSetup } from '../reference/sampler.ts';
import { GaussianDenoiser } from '../../src/diffusion/gaussian-denoiser.ts';
import { Sampler, sample, samplerTimes, type SamplerKind } from '../../src/diffusion/samplers.ts';
import { DctBlur } from '../../src/diffusion/blur.ts';
import { IdentityCorruption } from '../../src/diffusion/identity.ts';
import { Schedule } from '../../src/diffusion/schedule.ts';
import { ShapeError, ValueError } from '../../src/gpu/errors.ts';
import type { Gpu } from '../../src/gpu/gpu.ts';

const ctx = useGpu();

const blurSchedule = Schedule.geometric(0.01, 0.36 * 8);
const blurNoise = Schedule.geometric(0.01, 0.1);

/** A Gaussian data model on 8x8 images: s[c, k, l] = 0.05 / (1 + (k^2 + l^2) / 4), halved for channel 1. */
function setup(dims: Dims, identity = false, noise = blurNoise): RefSetup {
  const [, c, h, w] = dims;
  const variance = Float64Array.from({ length: c * h * w }, (_, i) => {
    const k = Math.floor(i / w) % h;
    const l = i % w;
    return (0.05 / (1 + (k * k + l * l) / 4)) * (Math.floor(i / (h * w)) === 0 ? 1 : 0.5);
  });
  return { dims, variance, blur: (t) => (identity ? 0 : blurSchedule.at(t)), sigma: (t) => noise.at(t), identity };
}

/** x_1 drawn on the host from the exact p_1: DCT coefficients N(0, d_1^2 s + sigma_1^2). */
function exactPrior(s: RefSetup, seed: number): Float64Array {
  const [b, c, h, w] = s.dims;
  const z = randn(b * c * h * w, seed);
  const x = new Float64Array(z.length);
  for (let sl = 0; sl < b * c; sl++) {
    const ch = sl % c;
    const X = new Float64Array(h * w);
    for (let k = 0; k < h; k++)
      for (let l = 0; l < w; l++) {
        const d = s.identity ? 1 : Math.exp(-0.5 * ((Math.PI * k) / h) ** 2 * s.blur(1) ** 2 - 0.5 * ((Math.PI * l) / w) ** 2 * s.blur(1) ** 2);
        X[k * w + l] = Math.sqrt(d * d * s.variance[(ch * h + k) * w + l]! + s.sigma(1) ** 2) * z[sl * h * w + k * w + l]!;
      }
    x.set(dct2(X, h, w, true), sl * h * w);
  }
  return x;
}

async function runGpu(gpu: Gpu, s: RefSetup, kind: SamplerKind, n: number, x1: Float64Array, seed: number, extra: { fuseBlur?: boolean; perLevel?: number; eps?: number; clip?: [number, number] } = {}) {
  const [, c, h, w] = s.dims;
  const denoiser = new GaussianDenoiser({ variance: s.variance, channels: c, height: h, width: w, corruption: s.identity ? 'identity' : 'blur' });
  const corruption = s.identity ? new IdentityCorruption() : new DctBlur({ height: h, schedule: blurSchedule });
  const noise = s.identity ? Schedule.geometric(0.01, 50) : blurNoise;
  const sampler = await Sampler.create(gpu, {
    kind, denoiser, corruption, noise, shape: s.dims, steps: n, fuseBlur: extra.fuseBlur, clip: extra.clip,
    langevin: { eps: extra.eps, stepsPerLevel: extra.perLevel },
  });
  const init = gpu.upload(Float32Array.from(x1), s.dims);
  const x = await gpu.read(await sampler.run({ init, seed, output: 'iterate' }));
  const x0hat = await gpu.read(sampler.x0hat);
  sampler.destroy();
  gpu.release(init);
  return { x, x0hat };
}

describe('samplers against float64 references driven by the same noise', () => {
  const dims: Dims = [3, 2, 8, 8];
  const s = setup(dims);
  const x1 = exactPrior(s, 11);
  const cases: [string, SamplerKind, number, { fuseBlur?: boolean; perLevel?: number; eps?: number }][] = [
    ['momentum (fused blur combination)', 'momentum', 5, {}],
    ['momentum (two blurs)', 'momentum', 5, { fuseBlur: false }],
    ['probability flow', 'probability-flow', 5, {}],
    ['naive', 'naive', 5, {}],
    ['annealed Langevin', 'langevin', 3, { perLevel: 2, eps: 2e-5 }],
  ];
  for (const [name, kind, n, extra] of cases)
    test(name, async () => {
      const gpu = await runGpu(ctx.gpu, s, kind, n, x1, 5, extra);
      const ref = sampleRef(s, kind, n, x1, 5, { perLevel: extra.perLevel, eps: extra.eps });
      // float32 DCTs and updates over a few steps: errors ~1e-6 on values ~0.3
      expectClose(gpu.x, ref.x, { atol: 2e-5, rtol: 1e-4, label: `${name} last iterate` });
      expectClose(gpu.x0hat, ref.x0hat, { atol: 2e-5, rtol: 1e-4, label: `${name} last x0hat` });
    });

  // clip_x0hat: x0hat is clamped right after the denoiser, so both C x0hat terms of the update and the
  // output use the clamped value. The range cuts the Gaussian data's x0hat (std ~0.2) on both sides.
  test.each(['momentum', 'naive'] as const)('%s with x0hat clipped to [-0.1, 0.15]', async (kind) => {
    const clip: [number, number] = [-0.1, 0.15];
    const gpu = await runGpu(ctx.gpu, s, kind, 5, x1, 5, { clip });
    const ref = sampleRef(s, kind, 5, x1, 5, { clip });
    const unclipped = sampleRef(s, kind, 5, x1, 5);
    expectClose(gpu.x, ref.x, { atol: 2e-5, rtol: 1e-4, label: `${kind} clipped, last iterate` });
    expectClose(gpu.x0hat, ref.x0hat, { atol: 2e-5, rtol: 1e-4, label: `${kind} clipped, last x0hat` });
    expect(Math.min(...gpu.x0hat)).toBeGreaterThanOrEqual(Math.fround(clip[0]));
    expect(Math.max(...gpu.x0hat)).toBeLessThanOrEqual(Math.fround(clip[1]));
    // the clip is active: the unclipped chain ends elsewhere by far more than the tolerance
    expect(Math.max(...ref.x.map((v, i) => Math.abs(v - unclipped.x[i]!)))).toBeGreaterThan(1e-2);
  });

  test('with C = I the momentum sampler is VE reverse diffusion', async () => {
    const si = setup([2, 1, 8, 8], true, Schedule.geometric(0.01, 50));
    const xi = exactPrior(si, 12);
    const gpu = await runGpu(ctx.gpu, si, 'momentum', 6, xi, 3);
    const ref = sampleRef(si, 've-reverse', 6, xi, 3);
    // values start at ~50 (sigma_1) and end near ~0.2: absolute tolerance relative to the start
    expectClose(gpu.x, ref.x, { atol: 5e-4, rtol: 1e-4, label: 'VE reverse diffusion' });
  });
});

describe('Gaussian data, exact denoiser: per-frequency variance (SPEC section 6)', () => {
  // 1024 samples of 8x8: the empirical variance of one frequency has relative std sqrt(2/1024) = 4.4 %.
  const dims: Dims = [1024, 1, 8, 8];
  const s = setup(dims);
  const x1 = exactPrior(s, 21);
  const logErr = (v: ArrayLike<number>, target: ArrayLike<number>) => {
    let e = 0;
    for (let i = 0; i < target.length; i++) e += Math.abs(Math.log(v[i]! / target[i]!)) / target.length;
    return e;
  };
  const target = Float64Array.from({ length: 64 }, (_, i) => finalVarianceRef(s, 'momentum', 1, 0, Math.floor(i / 8), i % 8).target);
  const errors: Record<string, Record<number, number>> = {};

  for (const kind of ['momentum', 'probability-flow', 'naive'] as const)
    test(`${kind}: GPU samples follow the exact variance recursion`, async () => {
      errors[kind] = {};
      for (const n of [4, 16, 64]) {
        const { x } = await runGpu(ctx.gpu, s, kind, n, x1, 100 + n);
        const v = spectralVariance(x, dims);
        const predicted = Float64Array.from({ length: 64 }, (_, i) => finalVarianceRef(s, kind, n, 0, Math.floor(i / 8), i % 8).variance);
        // the GPU's empirical variances match the closed form within sampling error (floor ~0.035)
        expect(logErr(v, predicted), `${kind} N=${n} vs closed form`).toBeLessThan(0.07);
        errors[kind][n] = logErr(v, target);
      }
    });

  test('momentum and probability flow converge to the data variance as N grows; naive does not', () => {
    const [m, f, nv] = [errors.momentum!, errors['probability-flow']!, errors.naive!];
    expect(m[64]!).toBeLessThan(m[4]!);
    expect(f[64]!).toBeLessThan(f[16]!);
    expect(f[16]!).toBeLessThan(f[4]!);
    expect(m[64]!).toBeLessThan(0.07);
    expect(f[64]!).toBeLessThan(0.09);
    // naive shrinks the variance by about a factor 2 at every N (log error ~0.7)
    expect(nv[64]!).toBeGreaterThan(0.5);
    expect(nv[64]!).toBeGreaterThan(5 * m[64]!);
    // and in closed form, the convergence is O(1/N) for momentum
    const closed = (kind: 'momentum' | 'naive', n: number) =>
      logErr(Float64Array.from({ length: 64 }, (_, i) => finalVarianceRef(s, kind, n, 0, Math.floor(i / 8), i % 8).variance), target);
    expect(closed('momentum', 256)).toBeLessThan(0.3 * closed('momentum', 32));
    expect(closed('naive', 256)).toBeGreaterThan(0.6);
  });
});

describe('sampler plumbing', () => {
  const dims: Dims = [4, 3, 8, 8];
  const s = setup(dims);
  const opts = () => ({
    denoiser: new GaussianDenoiser({ variance: s.variance, channels: 3, height: 8, width: 8, corruption: 'blur' as const }),
    corruption: new DctBlur({ height: 8, schedule: blurSchedule }),
    noise: blurNoise,
    shape: dims,
    steps: 6,
  });

  test('same seed gives the same samples; another seed differs', async () => {
    const a = await sample(ctx.gpu, opts(), { seed: 7 });
    const b = await sample(ctx.gpu, opts(), { seed: 7 });
    const c = await sample(ctx.gpu, opts(), { seed: 8 });
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(a.some((v, i) => v !== c[i])).toBe(true);
    expect(a.every(Number.isFinite)).toBe(true);
  });

  test('progress, intermediates, step times and NFE', async () => {
    expect(samplerTimes(4)).toEqual([1, 0.75, 0.5, 0.25]);
    const sampler = await Sampler.create(ctx.gpu, opts());
    expect(sampler.nfe).toBe(6);
    const progress: number[] = [];
    const seen: { step: number; t: number; n: number }[] = [];
    const out = await sampler.run({
      seed: 1,
      onProgress: (d) => progress.push(d),
      every: 4,
      onIntermediate: ({ step, t, xt, x0hat }) => void seen.push({ step, t, n: xt.length + x0hat.length }),
    });
    expect(progress).toEqual([1, 2, 3, 4, 5, 6]);
    expect(seen.map((x) => [x.step, x.t])).toEqual([[4, 1 - 3 / 6], [6, 1 - 5 / 6]]);
    expect(seen[0]!.n).toBe(2 * 4 * 3 * 64);
    expect(out).toBe(sampler.x0hat);
    sampler.destroy();
  });

  test('bad options are typed errors', async () => {
    await expect(Sampler.create(ctx.gpu, { ...opts(), steps: 0 })).rejects.toThrow(ValueError);
    await expect(Sampler.create(ctx.gpu, { ...opts(), shape: [4, 3, 8] })).rejects.toThrow(ShapeError);
    await expect(Sampler.create(ctx.gpu, { ...opts(), kind: 'bogus' as SamplerKind })).rejects.toThrow(ValueError);
    await expect(Sampler.create(ctx.gpu, { ...opts(), kind: 'langevin', langevin: { eps: 1 } })).rejects.toThrow(ValueError);
    await expect(Sampler.create(ctx.gpu, { ...opts(), clip: [1, 0] })).rejects.toThrow(/clip range/);
  });
});
