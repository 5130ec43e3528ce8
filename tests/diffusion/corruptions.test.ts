// Masking, identity and user-defined WGSL corruptions: GPU against float64 references, adjointness,
// and the registration check that rejects a wrong adjoint.
import { describe, expect, test } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { expectClose } from '../helpers/expect-close.ts';
import { randn, f32 } from '../helpers/random.ts';
import { SoftMask, MASK_KINDS } from '../../src/diffusion/mask.ts';
import { IdentityCorruption } from '../../src/diffusion/identity.ts';
import { AdjointMismatchError, defineCorruption } from '../../src/diffusion/user-corruption.ts';
import { Schedule } from '../../src/diffusion/schedule.ts';
import { NonFiniteError, ShaderError, ShapeError, ValueError } from '../../src/gpu/errors.ts';
import { dot, levelsOf, type Dims } from '../reference/blur.ts';
import { maskRef } from '../reference/mask.ts';
import type { Corruption } from '../../src/diffusion/types.ts';

const ctx = useGpu();
const dims: Dims = [3, 2, 7, 10];
const n = dims.reduce((a, b) => a * b);
const cs = [0.0, 0.4, 0.75].map(Math.fround);

async function applyBoth(c: Corruption, x64: Float64Array, y64: Float64Array, levels: Float32Array) {
  const { gpu } = ctx;
  const x = gpu.upload(f32(x64), dims);
  const y = gpu.upload(f32(y64), dims);
  const l = gpu.upload(levels, [dims[0], 4]);
  const cx = gpu.tensor(dims);
  const cty = gpu.tensor(dims);
  gpu.recorder().run(await c.apply(gpu, x, cx, l)).run(await c.adjoint(gpu, y, cty, l)).submit();
  return [Float64Array.from(await gpu.read(cx)), Float64Array.from(await gpu.read(cty))] as const;
}

describe('soft masks', () => {
  test.each(MASK_KINDS)('%s: GPU vs reference, adjoint, soft values in [0, 1]', async (kind) => {
    const mask = new SoftMask({ kind, width: 0.2 });
    const x64 = randn(n, 3);
    const y64 = randn(n, 4);
    const [cx, cty] = await applyBoth(mask, x64, y64, levelsOf(cs));
    expectClose(cx, maskRef(x64, dims, kind, 0.2, cs), { atol: 1e-6, rtol: 1e-5 });
    const lhs = dot(cx, y64);
    expect(Math.abs(lhs - dot(x64, cty)) / Math.abs(lhs)).toBeLessThan(1e-6);
    // level 0 keeps the image; the middle level has pixels strictly between 0 and 1 (soft ramp)
    const ones = new Float64Array(n).fill(1);
    const [m] = await applyBoth(mask, ones, ones, levelsOf(cs));
    const per = n / 3;
    expect(m.slice(0, per).every((v) => v === 1)).toBe(true);
    const mid = m.slice(per, 2 * per);
    expect(mid.some((v) => v > 0.01 && v < 0.99)).toBe(true);
    expect(mid.some((v) => v === 0) && mid.some((v) => v === 1)).toBe(true);
    const [full] = await applyBoth(mask, ones, ones, levelsOf([1, 1, 1]));
    expect(full.every((v) => v === 0)).toBe(true);
  });

  test('C^T C = diag(m^2), options validated, JSON round trip', async () => {
    const { gpu } = ctx;
    const mask = new SoftMask({ kind: 'left-to-right', width: 0.3, schedule: Schedule.piecewiseLinear([[0, 0.01], [1, 1]]) });
    const x64 = randn(n, 8);
    const x = gpu.upload(f32(x64), dims);
    const out = gpu.tensor(dims);
    gpu.recorder().run(await mask.normal(gpu, x, out, gpu.upload(levelsOf(cs), [3, 4]))).submit();
    expectClose(await gpu.read(out), maskRef(x64, dims, 'left-to-right', 0.3, cs, 2), { atol: 1e-6, rtol: 1e-5 });
    expect(() => new SoftMask({ width: 0 })).toThrow(ValueError);
    expect(() => new SoftMask({ width: NaN })).toThrow(NonFiniteError);
    expect(() => new SoftMask({ kind: 'spiral' as never })).toThrow(ValueError);
    expect(new SoftMask().level(0.3)).toBe(0.3);
    expect(() => new SoftMask().level(1.5)).toThrow(ValueError);
    const back = SoftMask.fromJSON(JSON.parse(JSON.stringify(mask.toJSON())));
    expect(back.level(0.5)).toBeCloseTo(mask.level(0.5), 12);
    expect(back.kind).toBe('left-to-right');
    await expect(mask.apply(gpu, x, gpu.tensor(dims), gpu.tensor([2, 4]))).rejects.toThrow(ShapeError);
  });
});

describe('identity corruption', () => {
  test('copies through apply and adjoint', async () => {
    const x64 = randn(n, 5);
    const [cx, cty] = await applyBoth(new IdentityCorruption(), x64, x64, levelsOf(cs));
    expectClose(cx, x64, { atol: 1e-7, rtol: 1e-6 });
    expectClose(cty, x64, { atol: 1e-7, rtol: 1e-6 });
    expect(new IdentityCorruption().toJSON()).toEqual({ name: 'identity' });
  });
});

describe('user-defined WGSL corruptions', () => {
  const shiftApply = 'return level * input(b, c, i32(y), i32(x) - 1);';

  test('a correct shift-and-scale corruption passes and computes what it says', async () => {
    const { gpu } = ctx;
    const shift = await defineCorruption(gpu, {
      name: 'shift-right',
      applyWgsl: shiftApply,
      adjointWgsl: 'return level * input(b, c, i32(y), i32(x) + 1);',
      level: Schedule.geometric(0.5, 2),
    });
    expect(shift.selfAdjoint).toBe(false);
    expect(await shift.checkAdjoint(gpu)).toBeLessThan(1e-6);
    const x64 = randn(n, 6);
    const y64 = randn(n, 7);
    const [cx, cty] = await applyBoth(shift, x64, y64, levelsOf([0.5, 1, 2]));
    const [, ch, h, w] = dims;
    const lv = [0.5, 1, 2];
    const ref = x64.map((_, i) => (i % w === 0 ? 0 : lv[Math.floor(i / (ch * h * w))]! * x64[i - 1]!));
    expectClose(cx, ref, { atol: 1e-6, rtol: 1e-6 });
    expect(Math.abs(dot(cx, y64) - dot(x64, cty))).toBeLessThan(1e-4 * Math.abs(dot(cx, y64)));
  });

  test('a self-adjoint per-pixel scaling with helpers passes', async () => {
    const { gpu } = ctx;
    const c = await defineCorruption(gpu, {
      name: 'vignette',
      helpersWgsl: 'fn weight(y: u32, x: u32) -> f32 { return 1.0 / (1.0 + f32(x + y)); }',
      applyWgsl: 'return exp(-level) * weight(y, x) * input(b, c, i32(y), i32(x));',
      adjointWgsl: 'self-adjoint',
      level: (t) => 3 * t,
    });
    expect(c.selfAdjoint).toBe(true);
    expect(c.level(0.5)).toBe(1.5);
  });

  test('a wrong adjoint is rejected with the measured mismatch', async () => {
    const { gpu } = ctx;
    const err = await defineCorruption(gpu, { name: 'bad-shift', applyWgsl: shiftApply, adjointWgsl: 'self-adjoint', level: () => 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AdjointMismatchError);
    expect(err).toBeInstanceOf(ValueError);
    const e = err as AdjointMismatchError;
    expect(e.mismatch).toBeGreaterThan(1e-2);
    expect(e.message).toContain('bad-shift');
    expect(e.message).toContain(e.mismatch.toExponential(3));
    // an adjoint off by a small factor is caught too
    await expect(
      defineCorruption(gpu, { name: 'scaled', applyWgsl: 'return input(b, c, i32(y), i32(x));', adjointWgsl: 'return 1.001 * input(b, c, i32(y), i32(x));', level: () => 1 }),
    ).rejects.toThrow(/relative mismatch 9\.99\de-4/);
  });

  test('WGSL that does not compile is a ShaderError naming the user line', async () => {
    const { gpu } = ctx;
    await expect(defineCorruption(gpu, { name: 'typo', applyWgsl: 'return level * inptu(b, c, 0, 0);', adjointWgsl: 'self-adjoint', level: () => 1 })).rejects.toThrow(
      ShaderError,
    );
    await expect(defineCorruption(gpu, { name: 'typo2', applyWgsl: 'return nope;', adjointWgsl: 'self-adjoint', level: () => 1 })).rejects.toThrow(/user line/);
  });
});
