import { describe, expect, test } from 'vitest';
import { useBrowser } from '../helpers/browser.ts';
import { expectClose } from '../helpers/expect-close.ts';
import { randn } from '../helpers/random.ts';
import { siluBackwardRef } from '../reference/elementwise.ts';

const ctx = useBrowser();

describe('engine in headless Chromium', () => {
  test('runs on a WebGPU adapter', () => {
    expect(ctx.adapter).toBeTruthy();
  });
  test('elementwise axpy and silu backward match float64 references', async () => {
    const a = Array.from(randn(1000, 1, 3));
    const b = Array.from(randn(1000, 2));
    const axpy = await ctx.run<number[]>('elementwise', { op: 'axpy', a, b, alpha: 0.5 });
    expectClose(axpy, a.map((x, i) => 0.5 * x + b[i]!), { atol: 1e-6, rtol: 1e-6 });
    const sb = await ctx.run<number[]>('elementwise', { op: 'silu_backward', a, b, alpha: 1 });
    expectClose(sb, siluBackwardRef(Float64Array.from(a), Float64Array.from(b)), { atol: 1e-6, rtol: 1e-5 });
  });
});
