import { describe, expect, test } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { randn, f32 } from '../helpers/random.ts';
import { checkGradients } from '../helpers/gradcheck.ts';
import { matmul, MATMUL_VARIANTS, type MatmulVariant } from '../../src/kernels/matmul.ts';
import { matmulBackwardRef, matmulErrorBound, matmulRef, type MatmulRefShape } from '../reference/matmul.ts';
import { ShapeError, ValueError } from '../../src/gpu/errors.ts';
import type { Gpu } from '../../src/gpu/gpu.ts';

const ctx = useGpu();

/**
 * Runs one matmul on the GPU and returns the worst ratio |gpu - ref| / bound over all elements, where
 * bound = gamma_K * sum_k |a_k b_k| (float32 accumulation of K products; inputs are float32 already).
 * Pass <= 1.
 */
async function worstRatio(gpu: Gpu, s: MatmulRefShape, variant: MatmulVariant, seed = 1, compareWith?: MatmulRefShape): Promise<number> {
  const batch = s.batch ?? 1;
  const a = f32(randn((s.batchA ? batch : 1) * s.M * s.K, seed));
  const b = f32(randn((s.batchB ? batch : 1) * s.K * s.N, seed + 100));
  const shapeA = s.transA ? [s.K, s.M] : [s.M, s.K];
  const shapeB = s.transB ? [s.N, s.K] : [s.K, s.N];
  const A = gpu.upload(a, s.batchA ? [batch, ...shapeA] : shapeA);
  const B = gpu.upload(b, s.batchB ? [batch, ...shapeB] : shapeB);
  const C = gpu.tensor(s.batch ? [batch, s.M, s.N] : [s.M, s.N]);
  const ds = await matmul(gpu, A, B, C, { transA: s.transA, transB: s.transB, variant });
  gpu.recorder().run(ds).submit();
  const got = await gpu.read(C);
  for (const t of [A, B, C]) gpu.release(t);
  const ref = compareWith ?? s;
  const exact = matmulRef(a, b, ref);
  const bound = matmulErrorBound(matmulRef(a, b, ref, true), s.K);
  let worst = 0;
  for (let i = 0; i < exact.length; i++) worst = Math.max(worst, Number.isFinite(got[i]!) ? Math.abs(got[i]! - exact[i]!) / bound[i]! : Infinity);
  return worst;
}

// Sizes around tile and block edges: 1, primes, 2^k +- 1, a multiple of 4 (vec4 path for B).
const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [1, 7, 33],
  [7, 1, 65],
  [33, 65, 7],
  [65, 130, 33],
  [130, 33, 65],
  [33, 128, 65],
  [64, 64, 64],
];

describe.each(MATMUL_VARIANTS)('matmul variant %s against float64 (tolerance gamma_K * |A||B|)', (variant) => {
  test.each(SHAPES)('M=%i N=%i K=%i', async (M, N, K) => {
    expect(await worstRatio(ctx.gpu, { M, N, K }, variant)).toBeLessThanOrEqual(1);
  });

  test.each([
    [false, true],
    [true, false],
    [true, true],
  ])('transA=%s transB=%s on odd and vec4-friendly shapes', async (transA, transB) => {
    for (const [M, N, K] of [[33, 65, 130], [7, 36, 20]] as const)
      expect(await worstRatio(ctx.gpu, { M, N, K, transA, transB }, variant, 3), `${M}x${N}x${K}`).toBeLessThanOrEqual(1);
  });

  test('batched, with a broadcast operand', async () => {
    const { gpu } = ctx;
    expect(await worstRatio(gpu, { M: 9, N: 12, K: 17, batch: 3, batchA: true, batchB: true }, variant, 5)).toBeLessThanOrEqual(1);
    expect(await worstRatio(gpu, { M: 9, N: 13, K: 17, batch: 3, batchA: true, batchB: false, transB: true }, variant, 6)).toBeLessThanOrEqual(1);
    expect(await worstRatio(gpu, { M: 9, N: 12, K: 17, batch: 2, batchA: false, batchB: true, transA: true }, variant, 7)).toBeLessThanOrEqual(1);
  });
});

describe('matmul checks', () => {
  test('the tolerance catches a wrong result (transposed B read as row-major)', async () => {
    // Same data, but the reference reads B without the transpose: must be far outside the bound.
    const s = { M: 16, N: 16, K: 16, transB: true };
    expect(await worstRatio(ctx.gpu, s, 'reg8x8', 9, { ...s, transB: false })).toBeGreaterThan(100);
  });

  test('the chosen variant (pickVariant) is correct too', async () => {
    expect(await worstRatio(ctx.gpu, { M: 40, N: 24, K: 31 }, undefined as unknown as MatmulVariant)).toBeLessThanOrEqual(1);
  });

  test('reference backward matches finite differences (with transposes and broadcast)', () => {
    for (const s of [
      { M: 3, N: 4, K: 5 },
      { M: 3, N: 2, K: 4, transA: true, transB: true },
      { M: 2, N: 3, K: 2, batch: 2, batchA: true, batchB: false, transB: true },
    ] as MatmulRefShape[]) {
      const batch = s.batch ?? 1;
      const a = randn((s.batchA ? batch : 1) * s.M * s.K, 11);
      const b = randn((s.batchB ? batch : 1) * s.K * s.N, 12);
      checkGradients(([x, y]) => matmulRef(x!, y!, s), ([x, y], g) => matmulBackwardRef(x!, y!, g, s), [a, b], { names: ['A', 'B'] });
    }
  });

  test('bad shapes and aliasing get typed errors', async () => {
    const { gpu } = ctx;
    const t = (...shape: number[]) => gpu.tensor(shape);
    await expect(matmul(gpu, t(3, 4), t(5, 6), t(3, 6))).rejects.toThrow(ShapeError);
    await expect(matmul(gpu, t(3, 4), t(4, 6), t(3, 5))).rejects.toThrow(/matmul C/);
    await expect(matmul(gpu, t(4, 3), t(4, 6), t(3, 6))).rejects.toThrow(ShapeError);
    await expect(matmul(gpu, t(4, 3), t(4, 6), t(3, 6), { transA: true })).resolves.toHaveLength(1);
    await expect(matmul(gpu, t(12), t(4, 6), t(3, 6))).rejects.toThrow(/\[rows, cols\]/);
    await expect(matmul(gpu, t(2, 3, 4), t(4, 6), t(3, 6))).rejects.toThrow(/batched operand/);
    await expect(matmul(gpu, t(2, 3, 4), t(3, 4, 6), t(2, 3, 6))).rejects.toThrow(/batch/);
    await expect(matmul(gpu, t(3, 0), t(0, 6), t(3, 6))).rejects.toThrow(ShapeError);
    const a = t(4, 4);
    await expect(matmul(gpu, a, t(4, 4), a)).rejects.toThrow(ValueError);
    await expect(matmul(gpu, t(4, 4), t(4, 4), t(4, 4), { variant: 'nope' as MatmulVariant })).rejects.toThrow(/Unknown variant/);
  });
});
