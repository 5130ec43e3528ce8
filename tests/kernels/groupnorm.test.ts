import { describe, expect, test } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { expectClose } from '../helpers/expect-close.ts';
import { checkGradients } from '../helpers/gradcheck.ts';
import { randn, f32 } from '../helpers/random.ts';
import { groupNormBackward, groupNormForward, GROUPNORM_VARIANTS, type GroupNormShape } from '../../src/kernels/groupnorm.ts';
import { groupNormBackwardRef, groupNormRef } from '../reference/groupnorm.ts';
import { ShapeError, ValueError } from '../../src/gpu/errors.ts';

const ctx = useGpu();

const shape = (n: number, c: number, hw: number, groups: number, silu: boolean, eps = 1e-5): GroupNormShape => ({ n, c, hw, groups, eps, silu });

describe('GroupNorm float64 reference', () => {
  for (const silu of [false, true])
    test(`backward matches finite differences (silu ${silu})`, () => {
      const s = shape(2, 6, 5, 3, silu);
      const x = randn(60, 1, 2).map((v) => v + 0.5);
      checkGradients(
        ([x, g, b]) => groupNormRef(x!, g!, b!, s).y,
        ([x, g, b], dy) => {
          const r = groupNormBackwardRef(x!, g!, b!, dy, s);
          return [r.dx, r.dgamma, r.dbeta];
        },
        [x, randn(6, 2).map((v) => 1 + 0.5 * v), randn(6, 3, 0.5)],
        { names: ['x', 'gamma', 'beta'], samples: 60 },
      );
    });

  test('normalises each group to zero mean and unit variance (gamma 1, beta 0)', () => {
    const s = shape(1, 4, 16, 2, false, 1e-12);
    const { y } = groupNormRef(randn(64, 4, 3).map((v) => v + 7), new Float64Array(4).fill(1), new Float64Array(4), s);
    for (let g = 0; g < 2; g++) {
      const seg = y.subarray(g * 32, (g + 1) * 32);
      const mean = seg.reduce((a, v) => a + v, 0) / 32;
      const vr = seg.reduce((a, v) => a + (v - mean) ** 2, 0) / 32;
      expect(Math.abs(mean)).toBeLessThan(1e-12);
      expect(Math.abs(vr - 1)).toBeLessThan(1e-9);
    }
  });
});

// Edge shapes: batch 1, odd spatial sizes, one channel per group, channels not a multiple of 4, a
// large group (8 channels x 32x32 = 8192 elements) whose mean is far from 0 (stresses float32 sums).
const cases: { name: string; s: GroupNormShape; offset: number }[] = [
  { name: 'batch 1, 6 ch / 3 groups, 5x7', s: shape(1, 6, 35, 3, true), offset: 0.3 },
  { name: 'batch 3, 5 ch / 5 groups, 3x3, no silu', s: shape(3, 5, 9, 5, false), offset: -1 },
  { name: 'batch 2, 12 ch / 4 groups, 1x1', s: shape(2, 12, 1, 4, true, 1e-3), offset: 0 },
  { name: 'batch 2, 16 ch / 2 groups, 32x32, offset 4', s: shape(2, 16, 1024, 2, true), offset: 4 },
  // More than 65535 planes and rows: every grid folds into its second dimension.
  { name: 'batch 1, 65540 ch / 16385 groups, 1x1', s: shape(1, 65540, 1, 16385, true), offset: 0 },
];

describe('GroupNorm on the GPU against the float64 reference', () => {
  for (const variant of GROUPNORM_VARIANTS)
    for (const { name, s, offset } of cases)
      test(`${variant}: ${name}`, async () => {
        const { gpu } = ctx;
        const size = s.n * s.c * s.hw;
        const x64 = f32(randn(size, 11, 1.5).map((v) => v + offset));
        const g64 = f32(randn(s.c, 12).map((v) => 1 + 0.3 * v));
        const b64 = f32(randn(s.c, 13, 0.4));
        const dy64 = f32(randn(size, 14));
        const x = gpu.upload(x64);
        const gamma = gpu.upload(g64);
        const beta = gpu.upload(b64);
        const dy = gpu.upload(dy64);
        const y = gpu.tensor([s.n, s.c, s.hw]);
        const stats = gpu.tensor([s.n * s.groups * 2]);
        const dx = gpu.tensor([s.n, s.c, s.hw]);
        const dgamma = gpu.tensor([s.c]);
        const dbeta = gpu.tensor([s.c]);
        const prior = f32(randn(size, 15));
        const dxAcc = gpu.upload(prior);
        // Filled with garbage: the accumulate run adds into dx only and must overwrite dgamma and dbeta.
        const dgammaAcc = gpu.upload(f32(randn(s.c, 16, 100)));
        const dbetaAcc = gpu.upload(f32(randn(s.c, 17, 100)));

        const fwd = await groupNormForward(gpu, x, gamma, beta, y, stats, s, { variant });
        const bwd = await groupNormBackward(gpu, x, gamma, beta, stats, dy, dx, dgamma, dbeta, s, { variant });
        const acc = await groupNormBackward(gpu, x, gamma, beta, stats, dy, dxAcc, dgammaAcc, dbetaAcc, s, { variant, accumulate: true });
        gpu.recorder().run(fwd).run(bwd).run(acc).submit();

        const xd = Float64Array.from(x64);
        const ref = groupNormRef(xd, Float64Array.from(g64), Float64Array.from(b64), s);
        const grads = groupNormBackwardRef(xd, Float64Array.from(g64), Float64Array.from(b64), Float64Array.from(dy64), s);
        // float32 forward: |y| ~ 1; y = scale x + shift loses ~1e-6 absolute when |mean| ~ 4 (seen: 1.6e-6).
        expectClose(await gpu.read(y), ref.y, { atol: 5e-6, rtol: 1e-5, label: 'y' });
        expectClose(await gpu.read(stats), ref.stats, { atol: 1e-6, rtol: 1e-5, label: 'stats' });
        // dx subtracts group means of O(1) terms; the float32 sums over up to 8192 elements lose ~1e-6.
        expectClose(await gpu.read(dx), grads.dx, { atol: 1e-5, rtol: 1e-5, label: 'dx' });
        // dgamma, dbeta: sums over n * hw terms of size ~1 (seen: 1.6e-5 absolute on a sum of 2048).
        expectClose(await gpu.read(dgamma), grads.dgamma, { atol: 2e-5, rtol: 1e-5, label: 'dgamma' });
        expectClose(await gpu.read(dbeta), grads.dbeta, { atol: 2e-5, rtol: 1e-5, label: 'dbeta' });
        expectClose(await gpu.read(dxAcc), grads.dx.map((v, i) => v + prior[i]!), { atol: 1e-5, rtol: 1e-5, label: 'dx accumulated' });
        expectClose(await gpu.read(dgammaAcc), grads.dgamma, { atol: 2e-5, rtol: 1e-5, label: 'dgamma (accumulate run overwrites)' });
        expectClose(await gpu.read(dbetaAcc), grads.dbeta, { atol: 2e-5, rtol: 1e-5, label: 'dbeta (accumulate run overwrites)' });
        for (const t of [x, gamma, beta, dy, y, stats, dx, dgamma, dbeta, dxAcc, dgammaAcc, dbetaAcc]) gpu.release(t);
      });

  test('autotuned backward leaves an accumulated dx untouched while planning', async () => {
    const { gpu } = ctx;
    const s = shape(1, 4, 9, 2, true);
    const prior = f32(randn(36, 21));
    const x = gpu.upload(f32(randn(36, 22)));
    const gamma = gpu.upload(f32(new Float64Array(4).fill(1)));
    const beta = gpu.tensor([4]);
    const stats = gpu.tensor([4]);
    const y = gpu.tensor([36]);
    const dy = gpu.upload(f32(randn(36, 23)));
    const dx = gpu.upload(prior);
    const fwd = await groupNormForward(gpu, x, gamma, beta, y, stats, s);
    gpu.recorder().run(fwd).submit();
    await groupNormBackward(gpu, x, gamma, beta, stats, dy, dx, gpu.tensor([4]), gpu.tensor([4]), s, { accumulate: true });
    expect(Array.from(await gpu.read(dx))).toEqual(Array.from(prior));
  });

  test('bad shapes and settings get typed errors', async () => {
    const { gpu } = ctx;
    const t = (n: number) => gpu.tensor([n]);
    await expect(groupNormForward(gpu, t(24), t(6), t(6), t(24), t(8), shape(1, 6, 4, 4, false))).rejects.toThrow(ValueError);
    await expect(groupNormForward(gpu, t(24), t(6), t(6), t(23), t(6), shape(1, 6, 4, 3, false))).rejects.toThrow(ShapeError);
    await expect(groupNormForward(gpu, t(24), t(5), t(6), t(24), t(6), shape(1, 6, 4, 3, false))).rejects.toThrow(ShapeError);
    await expect(groupNormBackward(gpu, t(24), t(6), t(6), t(6), t(24), t(24), t(6), t(6), shape(1, 6, 4, 3, false, 0))).rejects.toThrow(ValueError);
    await expect(groupNormBackward(gpu, t(24), t(6), t(6), t(4), t(24), t(24), t(6), t(6), shape(1, 6, 4, 3, false))).rejects.toThrow(ShapeError);
    const x = t(24);
    await expect(groupNormForward(gpu, x, t(6), t(6), x, t(6), shape(1, 6, 4, 3, false))).rejects.toThrow(/disjoint from x/);
    const dy = t(24);
    await expect(groupNormBackward(gpu, t(24), t(6), t(6), t(6), dy, dy, t(6), t(6), shape(1, 6, 4, 3, false))).rejects.toThrow(/disjoint from dy/);
  });
});
