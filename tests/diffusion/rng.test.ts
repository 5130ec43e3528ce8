import { describe, expect, test } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { expectClose } from '../helpers/expect-close.ts';
import { randomBits, randomNormal, RngState } from '../../src/diffusion/rng.ts';
import { philox4x32_10, philoxNormals, philoxWords } from '../reference/rng.ts';
import { ValueError } from '../../src/gpu/errors.ts';
import type { Gpu } from '../../src/gpu/gpu.ts';

const ctx = useGpu();

async function normals(gpu: Gpu, n: number, seed: number, step: number, stream = 0): Promise<Float32Array> {
  const out = gpu.tensor([n]);
  const state = new RngState(gpu, seed, step);
  gpu.recorder().dispatch(await randomNormal(gpu, out, state, { stream })).submit();
  const r = await gpu.read(out);
  gpu.release(out);
  state.destroy();
  return r;
}

function moments(x: ArrayLike<number>) {
  const n = x.length;
  let m = 0;
  for (let i = 0; i < n; i++) m += x[i]!;
  m /= n;
  let m2 = 0;
  let m3 = 0;
  let m4 = 0;
  for (let i = 0; i < n; i++) {
    const d = x[i]! - m;
    m2 += d * d;
    m3 += d * d * d;
    m4 += d * d * d * d;
  }
  m2 /= n;
  return { mean: m, variance: m2, skew: m3 / n / m2 ** 1.5, kurtosis: m4 / n / (m2 * m2) };
}

function correlation(a: ArrayLike<number>, b: ArrayLike<number>, n = Math.min(a.length, b.length)): number {
  let sa = 0, sb = 0, sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) {
    sa += a[i]!;
    sb += b[i]!;
    sab += a[i]! * b[i]!;
    saa += a[i]! ** 2;
    sbb += b[i]! ** 2;
  }
  const cov = sab / n - (sa / n) * (sb / n);
  return cov / Math.sqrt((saa / n - (sa / n) ** 2) * (sbb / n - (sb / n) ** 2));
}

describe('counter-based RNG (Philox-4x32-10 + Box-Muller)', () => {
  test('host reference matches the Random123 known-answer vectors', () => {
    const hex = (w: number[]) => w.map((v) => v.toString(16).padStart(8, '0')).join(' ');
    expect(hex(philox4x32_10([0, 0, 0, 0], [0, 0]))).toBe('6627e8d5 e169c58d bc57ac4c 9b00dbd8');
    expect(hex(philox4x32_10([0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff]))).toBe('408f276d 41c83b0e a20bc7c6 6d5451fd');
    expect(hex(philox4x32_10([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0]))).toBe('d16cfe09 94fdcceb 5001e420 24126ea1');
  });

  test('GPU words equal the reference bit for bit (odd length, large seed and step)', async () => {
    const { gpu } = ctx;
    const n = 1027;
    const out = gpu.tensor([n], 'bits', 'u32');
    const state = new RngState(gpu, 0xdeadbeef, 123456789);
    gpu.recorder().dispatch(await randomBits(gpu, out, state, 5)).submit();
    expect(Array.from(await gpu.readU32(out))).toEqual(Array.from(philoxWords(n, 0xdeadbeef, 123456789, 5)));
  });

  test('GPU normals match the float64 reference within float32 rounding', async () => {
    const { gpu } = ctx;
    const n = 4099;
    // Box-Muller's log, sqrt, sin and cos in float32: absolute error well under 1e-4 at |z| <= 6.
    expectClose(await normals(gpu, n, 42, 7, 3), philoxNormals(n, 42, 7, 3), { atol: 1e-4, rtol: 1e-5 });
  });

  test('one million normals have the moments of N(0, 1)', async () => {
    const { gpu } = ctx;
    const n = 1 << 20;
    const z = await normals(gpu, n, 2024, 0);
    const m = moments(z);
    // Standard errors at n = 2^20: mean 1e-3, variance 1.4e-3, skew 2.4e-3, kurtosis 4.8e-3; bounds are 5 sigma.
    expect(Math.abs(m.mean)).toBeLessThan(5e-3);
    expect(Math.abs(m.variance - 1)).toBeLessThan(7e-3);
    expect(Math.abs(m.skew)).toBeLessThan(1.2e-2);
    expect(Math.abs(m.kurtosis - 3)).toBeLessThan(2.4e-2);
    // Tail mass beyond 3 sigma: 0.27 % of samples (std err 5e-5).
    let tail = 0;
    for (const v of z) if (Math.abs(v) > 3) tail++;
    expect(Math.abs(tail / n - 0.0027)).toBeLessThan(3e-4);
    expect(z.every((v) => Number.isFinite(v) && Math.abs(v) < 6)).toBe(true);
  });

  test('no correlation between steps, streams, neighbouring elements and channels', async () => {
    const { gpu } = ctx;
    const n = 1 << 18; // |rho| of independent sequences ~ 1/sqrt(n) = 2e-3; bound 5 sigma = 1e-2
    const a = await normals(gpu, n, 9, 100);
    const b = await normals(gpu, n, 9, 101);
    const c = await normals(gpu, n, 9, 100, 1);
    const bound = 1e-2;
    expect(Math.abs(correlation(a, b))).toBeLessThan(bound);
    expect(Math.abs(correlation(a, c))).toBeLessThan(bound);
    // neighbours within a quad (lag 1, 2, 3) and across quads (lag 4), and across "channels" of an 8x8 image (lag 64)
    for (const lag of [1, 2, 3, 4, 64]) expect(Math.abs(correlation(a.subarray(lag), a)), `lag ${lag}`).toBeLessThan(bound);
    // Box-Muller pairs: the two normals from one word pair are uncorrelated, and so are their squares
    const even = a.filter((_, i) => i % 2 === 0);
    const odd = a.filter((_, i) => i % 2 === 1);
    expect(Math.abs(correlation(even, odd))).toBeLessThan(2 * bound);
    expect(Math.abs(correlation(even.map((v) => v * v), odd.map((v) => v * v)))).toBeLessThan(2 * bound);
  });

  test('same seed gives the same numbers; different seeds differ; state rewrites need no rebuild', async () => {
    const { gpu } = ctx;
    const n = 4096;
    const out = gpu.tensor([n]);
    const state = new RngState(gpu, 1, 0);
    const d = await randomNormal(gpu, out, state, { mean: 0.5, std: 2 });
    const draw = async (seed: number, step: number) => {
      state.set(seed, step);
      gpu.recorder().dispatch(d).submit();
      return gpu.read(out);
    };
    const x1 = await draw(1, 0);
    const x2 = await draw(2, 0);
    const x1again = await draw(1, 0);
    expect(Array.from(x1again)).toEqual(Array.from(x1));
    let same = 0;
    for (let i = 0; i < n; i++) if (x1[i] === x2[i]) same++;
    expect(same).toBeLessThan(4);
    expectClose(x1, philoxNormals(n, 1, 0).map((z) => 0.5 + 2 * z), { atol: 3e-4, rtol: 1e-5 });
  });

  test('bad seeds are typed errors', () => {
    expect(() => new RngState(ctx.gpu, -1, 0)).toThrow(ValueError);
    expect(() => new RngState(ctx.gpu, 1, 2 ** 32)).toThrow(ValueError);
  });
});
