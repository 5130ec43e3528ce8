import { describe, expect, test } from 'vitest';
import { useBrowser } from '../helpers/browser.ts';
import { randn, f32 } from '../helpers/random.ts';
import { MATMUL_VARIANTS } from '../../src/kernels/matmul.ts';
import { matmulErrorBound, matmulRef } from '../reference/matmul.ts';
import { reduceDepth, reduceRef, reduceRowsRef, sumErrorBound } from '../reference/reduce.ts';

const ctx = useBrowser();

describe('matmul and reductions in headless Chromium against float64', () => {
  // Odd sizes (not tile or vec4 multiples) and one vec4-friendly N, with and without transposes.
  test.each(MATMUL_VARIANTS)('matmul %s (tolerance gamma_K * |A||B|)', async (variant) => {
    for (const s of [
      { M: 33, N: 65, K: 70, transA: false, transB: false },
      { M: 17, N: 36, K: 9, transA: true, transB: true },
      { M: 64, N: 64, K: 64, transA: false, transB: true },
    ]) {
      const a = Array.from(f32(randn(s.M * s.K, 1)));
      const b = Array.from(f32(randn(s.K * s.N, 2)));
      const got = await ctx.run<number[]>('matmul', { ...s, a, b, variant });
      const exact = matmulRef(a, b, s);
      const bound = matmulErrorBound(matmulRef(a, b, s, true), s.K);
      expect(got).toHaveLength(exact.length);
      const worst = Math.max(...exact.map((e, i) => Math.abs(got[i]! - e) / bound[i]!));
      expect(worst, `${variant} ${JSON.stringify({ ...s, a: undefined, b: undefined })}`).toBeLessThanOrEqual(1);
    }
  });

  test('reduce sum, mean, sumsq and per-row sum (tolerance gamma_depth * sum |terms|)', async () => {
    const x = Array.from(f32(randn(100_003, 3).map((v) => v + 0.5)));
    for (const op of ['sum', 'mean', 'sumsq'] as const) {
      const [got] = await ctx.run<number[]>('reduce', { x, op });
      const { value, absSum } = reduceRef(op, x);
      // The deepest addition chain of either adapter default (16 or 256 items per invocation).
      expect(Math.abs(got! - value), `${op}: ${got} vs ${value}`).toBeLessThanOrEqual(sumErrorBound(absSum, reduceDepth(x.length, 256)));
    }
    const rowsX = x.slice(0, 7 * 1000);
    const got = await ctx.run<number[]>('reduce', { x: rowsX, op: 'sum', rows: 7 });
    const ref = reduceRowsRef('sum', rowsX, 7, 1000);
    got.forEach((g, r) => expect(Math.abs(g - ref.value[r]!)).toBeLessThanOrEqual(sumErrorBound(ref.absSum[r]!, 1000 / 32 + 8)));
  });
});
