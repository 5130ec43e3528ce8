import { describe, expect, test } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { expectClose } from '../helpers/expect-close.ts';
import { randn, f32 } from '../helpers/random.ts';
import { blurSpectrum, dctForward, dctInverse, dctMatrix, dctScale, heatEigenvalues } from '../../src/diffusion/dct.ts';
import { DctBlur, blurCombination } from '../../src/diffusion/blur.ts';
import { Schedule } from '../../src/diffusion/schedule.ts';
import { ShapeError, ValueError } from '../../src/gpu/errors.ts';
import { blurRef, dctBatchRef, dot, levelsOf, spectralFilterRef, dTerm, type Dims } from '../reference/blur.ts';
import type { Tensor } from '../../src/gpu/tensor.ts';
import type { Dispatch } from '../../src/gpu/kernel.ts';

const ctx = useGpu();
const fr = (v: number[]) => v.map(Math.fround);

async function run(ds: Dispatch[], out: Tensor): Promise<Float64Array> {
  ctx.gpu.recorder().run(ds).submit();
  return Float64Array.from(await ctx.gpu.read(out));
}

describe('DCT matrices (host, float64)', () => {
  test.each([1, 5, 8, 13])('D_%i is orthonormal and matches the cosine formula', (n) => {
    const d = dctMatrix(n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += d[i * n + k]! * d[j * n + k]!;
        expect(Math.abs(s - (i === j ? 1 : 0))).toBeLessThan(1e-13);
      }
    const x = randn(n, 3);
    const X = dctBatchRef(x, [1, 1, 1, n]);
    const viaMatrix = Array.from({ length: n }, (_, k) => dot(d.subarray(k * n, (k + 1) * n), x));
    expectClose(viaMatrix, X, { atol: 1e-12, rtol: 1e-12 });
  });
  test('heat eigenvalues and spectrum', () => {
    expect(heatEigenvalues(4)[2]).toBeCloseTo((Math.PI / 2) ** 2, 14);
    const s = blurSpectrum(3, 5, 1.5, 2);
    expect(s[0]).toBe(1);
    expect(s[1 * 5 + 2]).toBeCloseTo(dTerm(1, 2, 3, 5, 1.5, 2), 14);
    expect(() => dctMatrix(0)).toThrow(ValueError);
  });
});

describe('DCT blur on the GPU against the float64 reference', () => {
  // (dims, per-sample sigmaB): square power of 2, odd non-square, and 32 x 32; different levels per sample.
  const cases: [string, Dims, number[]][] = [
    ['8x8', [2, 3, 8, 8], fr([0.7, 3.0])],
    ['7x5', [3, 2, 7, 5], fr([0.01, 1.3, 4.0])],
    ['32x32', [1, 1, 32, 32], fr([2.5])],
  ];

  test.each(cases)('forward DCT, inverse round trip %s', async (_, dims) => {
    const { gpu } = ctx;
    const x64 = randn(dims.reduce((a, b) => a * b), 11);
    const x = gpu.upload(f32(x64), dims);
    const X = gpu.tensor(dims);
    const back = gpu.tensor(dims);
    const Xg = await run(await dctForward(gpu, x, X), X);
    expectClose(Xg, dctBatchRef(x64, dims), { atol: 2e-5, rtol: 1e-4, label: 'DCT' });
    const xb = await run(await dctInverse(gpu, X, back), back);
    expectClose(xb, x64, { atol: 2e-5, rtol: 1e-4, label: 'IDCT(DCT x)' });
  });

  test.each(cases)('C x, C^T C x and dctScale %s', async (_, dims, sigmas) => {
    const { gpu } = ctx;
    const blur = new DctBlur({ height: dims[2], width: dims[3] });
    const x64 = randn(dims.reduce((a, b) => a * b), 5);
    const x = gpu.upload(f32(x64), dims);
    const levels = gpu.upload(levelsOf(sigmas), [dims[0], 4]);
    const out = gpu.tensor(dims);
    expectClose(await run(await blur.apply(gpu, x, out, levels), out), blurRef(x64, dims, sigmas), { atol: 2e-5, rtol: 1e-4, label: 'C x' });
    expectClose(await run(await blur.normal(gpu, x, out, levels), out), blurRef(x64, dims, sigmas, 2), { atol: 2e-5, rtol: 1e-4, label: 'C^T C x' });
    const sc = await run([await dctScale(gpu, x, out, levels, 2)], out);
    const [, c, h, w] = dims;
    const expected = x64.map((v, i) => v * dTerm(Math.floor(i / w) % h, i % w, h, w, sigmas[Math.floor(i / (c * h * w))]!, 2));
    expectClose(sc, expected, { atol: 1e-6, rtol: 1e-5, label: 'dctScale power 2' });
  });
});

describe('DCT blur properties (GPU)', () => {
  const dims: Dims = [2, 2, 9, 6];
  const n = dims.reduce((a, b) => a * b);
  const s1 = fr([0.8, 2.2]);
  const s2 = fr([1.7, 0.4]);

  test('adjoint <Cx, y> = <x, C^T y>, symmetric, commuting, mean preserving', async () => {
    const { gpu } = ctx;
    const blur = new DctBlur({ height: 9, width: 6 });
    const x64 = randn(n, 1);
    const y64 = randn(n, 2);
    const x = gpu.upload(f32(x64), dims);
    const y = gpu.upload(f32(y64), dims);
    const l1 = gpu.upload(levelsOf(s1), [2, 4]);
    const l2 = gpu.upload(levelsOf(s2), [2, 4]);
    const cx = gpu.tensor(dims);
    const cty = gpu.tensor(dims);
    const a = await run(await blur.apply(gpu, x, cx, l1), cx);
    const b = await run(await blur.adjoint(gpu, y, cty, l1), cty);
    const lhs = dot(a, y64);
    const rhs = dot(x64, b);
    expect(Math.abs(lhs - rhs) / Math.abs(lhs)).toBeLessThan(1e-5);
    // symmetric: C = C^T means <C e_i, e_j> = <e_i, C e_j>; check it with two random vectors per sample too.
    expect(Math.abs(dot(a, y64) - dot(b, x64)) / Math.abs(lhs)).toBeLessThan(1e-5);
    // mean preserved per channel
    for (let s = 0; s < 4; s++) {
      const sl = (v: ArrayLike<number>) => Array.prototype.slice.call(v, s * 54, (s + 1) * 54).reduce((p: number, q: number) => p + q, 0) / 54;
      expect(Math.abs(sl(a) - sl(x64))).toBeLessThan(1e-5);
    }
    // commute: C1 C2 x = C2 C1 x
    const t1 = gpu.tensor(dims);
    const t2 = gpu.tensor(dims);
    const c12 = await run([...(await blur.apply(gpu, x, t1, l2)), ...(await blur.apply(gpu, t1, t2, l1))], t2);
    const c21 = await run([...(await blur.apply(gpu, x, t1, l1)), ...(await blur.apply(gpu, t1, t2, l2))], t2);
    expectClose(c12, c21, { atol: 2e-5, rtol: 1e-4, label: 'C1 C2 = C2 C1' });
  });

  test('C^T C equals the blur with sqrt(2) times the std', async () => {
    const { gpu } = ctx;
    const blur = new DctBlur({ height: 9, width: 6 });
    const x64 = randn(n, 4);
    const x = gpu.upload(f32(x64), dims);
    const out = gpu.tensor(dims);
    const ctc = await run(await blur.normal(gpu, x, out, gpu.upload(levelsOf(s1), [2, 4])), out);
    const wide = await run(await blur.apply(gpu, x, out, gpu.upload(levelsOf(s1.map((s) => s * Math.SQRT2)), [2, 4])), out);
    expectClose(ctc, wide, { atol: 2e-5, rtol: 1e-4 });
    // and C^T C is not C (a test that can fail): the two differ for these levels
    const c = await run(await blur.apply(gpu, x, out, gpu.upload(levelsOf(s1), [2, 4])), out);
    expect(Math.max(...c.map((v, i) => Math.abs(v - ctc[i]!)))).toBeGreaterThan(1e-2);
  });

  test('blurCombination with constant and per-sample coefficients', async () => {
    const { gpu } = ctx;
    const x64 = randn(n, 9);
    const x = gpu.upload(f32(x64), dims);
    const lA = gpu.upload(levelsOf(s1), [2, 4]);
    const lB = gpu.upload(levelsOf(s2), [2, 4]);
    const out = gpu.tensor(dims);
    const [, , h, w] = dims;
    const got = await run(await blurCombination(gpu, x, out, { levelsA: lA, coefA: 1, levelsB: lB, coefB: -0.3 }), out);
    const ref = spectralFilterRef(x64, dims, (b, k, l) => dTerm(k, l, h, w, s1[b]!) - 0.3 * dTerm(k, l, h, w, s2[b]!));
    expectClose(got, ref, { atol: 2e-5, rtol: 1e-4, label: 'constant coefs' });
    const coefs = gpu.upload(f32([2, 0.5, -1, 0.25]), [2, 2]);
    const got2 = await run(await blurCombination(gpu, x, out, { levelsA: lA, coefA: 1, levelsB: lB, coefB: -1, coefs }), out);
    const cf = [[2, -0.5], [-1, -0.25]];
    const ref2 = spectralFilterRef(x64, dims, (b, k, l) => cf[b]![0]! * dTerm(k, l, h, w, s1[b]!) + cf[b]![1]! * dTerm(k, l, h, w, s2[b]!));
    expectClose(got2, ref2, { atol: 2e-5, rtol: 1e-4, label: 'per-sample coefs' });
  });

  test('large blur underflows to the channel mean, never NaN', async () => {
    const { gpu } = ctx;
    const x64 = randn(n, 12);
    const x = gpu.upload(f32(x64), dims);
    const out = gpu.tensor(dims);
    const got = await run(await new DctBlur({ height: 9 }).apply(gpu, x, out, gpu.upload(levelsOf([1e4, 1e4]), [2, 4])), out);
    expect(got.every(Number.isFinite)).toBe(true);
    expectClose(got, blurRef(x64, dims, [1e4, 1e4]), { atol: 1e-5, rtol: 1e-4 });
  });

  test('bad shapes and aliasing are rejected; JSON round trip', async () => {
    const { gpu } = ctx;
    const blur = new DctBlur({ height: 8, schedule: Schedule.geometric(0.5, 3) });
    const x = gpu.tensor([2, 1, 8, 8]);
    await expect(blur.apply(gpu, x, gpu.tensor([2, 1, 8, 7]), gpu.tensor([2, 4]))).rejects.toThrow(ShapeError);
    await expect(blur.apply(gpu, x, gpu.tensor([2, 1, 8, 8]), gpu.tensor([3, 4]))).rejects.toThrow(ShapeError);
    await expect(blur.apply(gpu, x, x, gpu.tensor([2, 4]))).rejects.toThrow(ValueError);
    await expect(blur.apply(gpu, gpu.tensor([2, 64]), gpu.tensor([2, 64]), gpu.tensor([2, 4]))).rejects.toThrow(ShapeError);
    const back = DctBlur.fromJSON(JSON.parse(JSON.stringify(blur.toJSON())));
    expect(back.level(0.5)).toBeCloseTo(blur.level(0.5), 12);
    expect(new DctBlur({ height: 64 }).level(1)).toBeCloseTo(0.36 * 64, 10);
    expect(new DctBlur({ height: 64 }).level(0)).toBeCloseTo(0.01, 12);
  });
});
