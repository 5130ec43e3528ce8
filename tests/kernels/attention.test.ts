import { describe, expect, test } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { expectClose } from '../helpers/expect-close.ts';
import { checkGradients } from '../helpers/gradcheck.ts';
import { randn, f32 } from '../helpers/random.ts';
import { ATTENTION_VARIANTS, attentionBackward, attentionForward, type AttentionVariant } from '../../src/kernels/attention.ts';
import { LimitError, ShapeError, ValueError } from '../../src/gpu/errors.ts';
import { attentionBackwardRef, attentionRef, type AttnShape } from '../reference/attention.ts';

const ctx = useGpu();

/** Interleave three [n, c, L] tensors into one packed [n, 3c, L] (what a [3c, c] projection writes). */
function pack(parts: Float64Array[], n: number, cL: number): Float64Array {
  const out = new Float64Array(3 * n * cL);
  for (let b = 0; b < n; b++) parts.forEach((p, j) => out.set(p.subarray(b * cL, (b + 1) * cL), (3 * b + j) * cL));
  return out;
}
function unpack(x: ArrayLike<number>, n: number, cL: number, j: number): Float64Array {
  const out = new Float64Array(n * cL);
  for (let b = 0; b < n; b++) for (let e = 0; e < cL; e++) out[b * cL + e] = x[(3 * b + j) * cL + e]!;
  return out;
}

// Forward: f32 dot products of length d and sums of L terms; backward adds one more contraction.
const FWD = { atol: 2e-5, rtol: 1e-4 };
const BWD = { atol: 5e-5, rtol: 1e-3 };

async function runCase(variant: AttentionVariant, s: AttnShape, packed: boolean, qScale = 1) {
  const { gpu } = ctx;
  const size = s.n * s.c * s.L;
  const q = randn(size, 11, qScale);
  const k = randn(size, 12);
  const v = randn(size, 13);
  const dO = randn(size, 14);
  const ref = attentionRef(q, k, v, s);
  const grads = attentionBackwardRef(q, k, v, dO, s);
  const o = gpu.tensor([s.n, s.c, s.L]);
  const lse = gpu.tensor([s.n, s.heads, s.L]);
  const tdO = gpu.upload(f32(dO), [s.n, s.c, s.L]);
  let tq, tk, tv, dq, dk, dv;
  if (packed) {
    tq = tk = tv = gpu.upload(f32(pack([q, k, v], s.n, s.c * s.L)), [s.n, 3 * s.c, s.L]);
    dq = dk = dv = gpu.tensor([s.n, 3 * s.c, s.L]);
  } else {
    [tq, tk, tv] = [q, k, v].map((a) => gpu.upload(f32(a), [s.n, s.c, s.L]));
    [dq, dk, dv] = [0, 1, 2].map(() => gpu.tensor([s.n, s.c, s.L]));
  }
  const fwd = await attentionForward(gpu, tq!, tk!, tv!, o, lse, s, { variant });
  const bwd = await attentionBackward(gpu, tq!, tk!, tv!, o, lse, tdO, dq!, dk!, dv!, s, { variant });
  gpu.recorder().run(fwd).run(bwd).submit();
  expectClose(await gpu.read(o), ref.o, { ...FWD, label: 'o' });
  expectClose(await gpu.read(lse), ref.lse, { ...FWD, label: 'lse' });
  if (packed) {
    const g = await gpu.read(dq!);
    const cL = s.c * s.L;
    expectClose(unpack(g, s.n, cL, 0), grads.dq, { ...BWD, label: 'dq' });
    expectClose(unpack(g, s.n, cL, 1), grads.dk, { ...BWD, label: 'dk' });
    expectClose(unpack(g, s.n, cL, 2), grads.dv, { ...BWD, label: 'dv' });
  } else {
    expectClose(await gpu.read(dq!), grads.dq, { ...BWD, label: 'dq' });
    expectClose(await gpu.read(dk!), grads.dk, { ...BWD, label: 'dk' });
    expectClose(await gpu.read(dv!), grads.dv, { ...BWD, label: 'dv' });
  }
}

describe('attention reference', () => {
  test('backward matches finite differences (2 heads, L = 5)', () => {
    const s = { n: 2, c: 6, L: 5, heads: 2 };
    const m = s.n * s.c * s.L;
    checkGradients(
      ([q, k, v]) => attentionRef(q!, k!, v!, s).o,
      ([q, k, v], g) => {
        const r = attentionBackwardRef(q!, k!, v!, g, s);
        return [r.dq, r.dk, r.dv];
      },
      [randn(m, 1), randn(m, 2), randn(m, 3)],
      { names: ['q', 'k', 'v'], samples: 30 },
    );
  });
  test('rows of P sum to one: o of constant v is that constant', () => {
    const s = { n: 1, c: 2, L: 6, heads: 1 };
    const { o } = attentionRef(randn(12, 4, 3), randn(12, 5), new Float64Array(12).fill(0.75), s);
    expectClose(o, new Float64Array(12).fill(0.75), { atol: 1e-12, rtol: 0 });
  });
});

describe.each(ATTENTION_VARIANTS)('attention kernels (%s) against the float64 reference', (variant) => {
  const shapes: [string, AttnShape][] = [
    ['batch 1, L = 1', { n: 1, c: 3, L: 1, heads: 1 }],
    ['L = 4, c = 5', { n: 2, c: 5, L: 4, heads: 1 }],
    ['7x7, 2 heads of 3', { n: 2, c: 6, L: 49, heads: 2 }],
    ['16x16, c = 4', { n: 1, c: 4, L: 256, heads: 1 }],
    ['head width 72 (> rows workgroup, > 64: lanes WIDE)', { n: 1, c: 72, L: 7, heads: 1 }],
    ['L = 40 (lanes: a partial second workgroup)', { n: 1, c: 3, L: 40, heads: 1 }],
  ];
  for (const [name, s] of shapes) test(`${name}: separate q, k, v`, () => runCase(variant, s, false));
  test('7x7, 2 heads: packed [n, 3c, L] qkv and dqkv', () => runCase(variant, { n: 2, c: 6, L: 49, heads: 2 }, true));
  test('4x4, c = 7: packed', () => runCase(variant, { n: 3, c: 7, L: 16, heads: 1 }, true));
  test('large scores (|s| ~ 30) stay finite and exact', () => runCase(variant, { n: 1, c: 4, L: 25, heads: 1 }, false, 8));
});

describe('attention variant choice and errors', () => {
  test('without a variant, one is picked (timed) and is correct', () => runCase(undefined as unknown as AttentionVariant, { n: 2, c: 4, L: 9, heads: 1 }, true));

  test('bad shapes get typed errors', async () => {
    const { gpu } = ctx;
    const s = { n: 2, c: 6, L: 4, heads: 1 };
    const t = () => gpu.tensor([2, 6, 4]);
    const lse = gpu.tensor([2, 1, 4]);
    await expect(attentionForward(gpu, t(), t(), gpu.tensor([2, 6, 5]), t(), lse, s)).rejects.toThrow(ShapeError);
    await expect(attentionForward(gpu, t(), t(), t(), t(), gpu.tensor([3]), s)).rejects.toThrow(ShapeError);
    await expect(attentionForward(gpu, t(), t(), t(), t(), lse, { ...s, heads: 4 })).rejects.toThrow(ValueError);
    const packed = gpu.tensor([2, 18, 4]);
    await expect(attentionBackward(gpu, packed, packed, packed, t(), lse, t(), t(), t(), t(), s)).rejects.toThrow(/packed/);
    const big = { n: 1, c: 1, L: 5000, heads: 1 };
    const x = () => gpu.tensor([1, 1, 5000]);
    await expect(attentionForward(gpu, x(), x(), x(), x(), gpu.tensor([5000]), big, { variant: 'rows' })).rejects.toThrow(LimitError);
    const wide = gpu.tensor([1, 300, 4]);
    await expect(attentionForward(gpu, wide, gpu.tensor([1, 300, 4]), gpu.tensor([1, 300, 4]), gpu.tensor([1, 300, 4]), gpu.tensor([4]), { n: 1, c: 300, L: 4 }, { variant: 'lanes' })).rejects.toThrow(ValueError);
    await expect(attentionForward(gpu, t(), t(), t(), t(), lse, s, { variant: 'tiles' as AttentionVariant })).rejects.toThrow(ValueError);
  });
});
