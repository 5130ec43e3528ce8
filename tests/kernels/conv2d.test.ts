import { describe, expect, test } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { expectClose } from '../helpers/expect-close.ts';
import { randn, f32 } from '../helpers/random.ts';
import { checkGradients } from '../helpers/gradcheck.ts';
import { conv2dBackwardRef, conv2dRef } from '../reference/conv2d.ts';
import {
  CONV2D_VARIANTS,
  conv2dBackwardInput,
  conv2dBackwardWeight,
  conv2dForward,
  conv2dOutSize,
  type Conv2dShape,
} from '../../src/kernels/conv2d.ts';
import { ShapeError, ValueError } from '../../src/gpu/errors.ts';
import type { Dispatch } from '../../src/gpu/kernel.ts';

const ctx = useGpu();

// float32 sums of at most a few hundred N(0,1) products: errors are ~1e-6 relative to the sum's size,
// so 3e-4 absolute + 1e-4 relative is loose for rounding and tight for any indexing mistake (O(1)).
const TOL = { atol: 3e-4, rtol: 1e-4 };

const shape = (n: number, cin: number, h: number, w: number, cout: number, k: 1 | 3, stride: 1 | 2, pad: number): Conv2dShape => ({ n, cin, h, w, cout, k, stride, pad });

const SHAPES: [string, Conv2dShape][] = [
  ['3x3 s1, odd 5x7, cin 5 -> cout 3', shape(2, 5, 5, 7, 3, 3, 1, 1)],
  ['3x3 s2 on odd 7x5, cin 3 input conv, batch 1', shape(1, 3, 7, 5, 5, 3, 2, 1)],
  ['3x3 s2 on even 6x6', shape(3, 8, 6, 6, 8, 3, 2, 1)],
  ['1x1 s1, cout 3 output conv', shape(2, 6, 4, 6, 3, 1, 1, 0)],
  ['1x1 s2 on odd 5x5', shape(1, 4, 5, 5, 4, 1, 2, 0)],
  ['3x3 s1 pad 2 on 3x3', shape(2, 4, 3, 3, 6, 3, 1, 2)],
  ['3x3 s1, several tiles and split-K', shape(4, 20, 9, 9, 70, 3, 1, 1)],
  // Row lengths that are multiples of 8 (runs of 8) or 4 (runs of 4) take the direct variant's
  // row-run path (ROWS); the shapes above take its per-pixel mask path.
  ['rows of 8: 3x3 s1 on 4x8', shape(2, 3, 4, 8, 5, 3, 1, 1)],
  ['rows of 8: 3x3 s2 on 16x16', shape(1, 5, 16, 16, 4, 3, 2, 1)],
  ['rows of 8: 1x1 s2 on 16x16 (odd input pixels get no gradient)', shape(2, 6, 16, 16, 3, 1, 2, 0)],
  ['rows of 8: 3x3 s1 pad 0 on 10x10', shape(2, 4, 10, 10, 4, 3, 1, 0)],
  ['rows of 4: 3x3 s2 on 8x8', shape(1, 5, 8, 8, 4, 3, 2, 1)],
  ['rows of 4: 3x3 s1 on 3x12', shape(2, 3, 3, 12, 6, 3, 1, 1)],
];

const sizes = (s: Conv2dShape) => {
  const { ho, wo } = conv2dOutSize(s);
  return { x: s.n * s.cin * s.h * s.w, w: s.cout * s.cin * s.k * s.k, y: s.n * s.cout * ho * wo, ho, wo };
};

async function run(ds: Dispatch[]) {
  ctx.gpu.recorder('conv2d test').run(ds).submit();
  await ctx.gpu.done();
}

describe('conv2d float64 reference', () => {
  for (const [name, s] of SHAPES.slice(0, 6))
    test(`backward matches finite differences: ${name}`, () => {
      const z = sizes(s);
      const fwd = ([x, w, b]: Float64Array[]) => conv2dRef(x!, w!, b!, s);
      const bwd = ([x, w]: Float64Array[], dy: Float64Array) => {
        const g = conv2dBackwardRef(x!, w!, dy, s);
        return [g.dx, g.dw, g.db];
      };
      checkGradients(fwd, bwd, [randn(z.x, 1), randn(z.w, 2, 0.5), randn(s.cout, 3)], { names: ['x', 'w', 'b'] });
    });
});

describe.each(CONV2D_VARIANTS.map((v) => [v]))('conv2d GPU variant %s against the reference', (variant) => {
  for (const [name, s] of SHAPES) {
    const z = sizes(s);
    const x64 = randn(z.x, 11);
    const w64 = randn(z.w, 12, 0.3);
    const b64 = randn(s.cout, 13);
    const dy64 = randn(z.y, 14);
    const ref = conv2dBackwardRef(x64, w64, dy64, s);

    test(`forward with and without bias: ${name}`, async () => {
      const { gpu } = ctx;
      const x = gpu.upload(f32(x64), [s.n, s.cin, s.h, s.w]);
      const w = gpu.upload(f32(w64), [s.cout, s.cin, s.k, s.k]);
      const b = gpu.upload(f32(b64), [s.cout]);
      const y = gpu.upload(new Float32Array(z.y).fill(777), [s.n, s.cout, z.ho, z.wo]);
      await run(await conv2dForward(gpu, x, w, b, y, s, { variant }));
      expectClose(await gpu.read(y), conv2dRef(x64, w64, b64, s), { ...TOL, label: 'y with bias' });
      await run(await conv2dForward(gpu, x, w, null, y, s, { variant }));
      expectClose(await gpu.read(y), conv2dRef(x64, w64, null, s), { ...TOL, label: 'y without bias' });
    });

    test(`forward with the fused epilogue (per-sample channel bias, residual): ${name}`, async () => {
      const { gpu } = ctx;
      const cb64 = randn(s.n * s.cout, 16);
      const res64 = randn(z.y, 17);
      const x = gpu.upload(f32(x64), [s.n, s.cin, s.h, s.w]);
      const w = gpu.upload(f32(w64), [s.cout, s.cin, s.k, s.k]);
      const b = gpu.upload(f32(b64), [s.cout]);
      const cb = gpu.upload(f32(cb64), [s.n, s.cout]);
      const res = gpu.upload(f32(res64), [s.n, s.cout, z.ho, z.wo]);
      const y = gpu.upload(new Float32Array(z.y).fill(777), [s.n, s.cout, z.ho, z.wo]);
      const plain = conv2dRef(x64, w64, b64, s);
      const plane = z.ho * z.wo;
      const withCb = plain.map((v, i) => v + cb64[Math.floor(i / plane)]!);
      await run(await conv2dForward(gpu, x, w, b, y, s, { variant, epilogue: { channelBias: cb, residual: res } }));
      expectClose(await gpu.read(y), withCb.map((v, i) => v + res64[i]!), { ...TOL, label: 'y + channel bias + residual' });
      await run(await conv2dForward(gpu, x, w, b, y, s, { variant, epilogue: { channelBias: cb } }));
      expectClose(await gpu.read(y), withCb, { ...TOL, label: 'y + channel bias' });
      await run(await conv2dForward(gpu, x, w, null, y, s, { variant, epilogue: { residual: res } }));
      expectClose(await gpu.read(y), conv2dRef(x64, w64, null, s).map((v, i) => v + res64[i]!), { ...TOL, label: 'y + residual, no bias' });
    });

    test(`forward and weight gradient with the GroupNorm prologue (scale, shift, SiLU per plane): ${name}`, async () => {
      const { gpu } = ctx;
      // Per-plane (scale, shift) as groupNormForward writes them; the convolution reads silu(scale x + shift).
      const planes = s.n * s.cin;
      const coef64 = Float64Array.from({ length: 2 * planes }, (_, i) => (i % 2 === 0 ? 0.5 + ((i * 0.37) % 1) : Math.sin(i)));
      const hw = s.h * s.w;
      const a64 = x64.map((v, i) => {
        const pl = Math.floor(i / hw);
        const z = coef64[2 * pl]! * v + coef64[2 * pl + 1]!;
        return z / (1 + Math.exp(-z));
      });
      const x = gpu.upload(f32(x64), [s.n, s.cin, s.h, s.w]);
      const w = gpu.upload(f32(w64), [s.cout, s.cin, s.k, s.k]);
      const b = gpu.upload(f32(b64), [s.cout]);
      const coef = gpu.upload(f32(coef64), [s.n, s.cin, 2]);
      const y = gpu.upload(new Float32Array(z.y).fill(777), [s.n, s.cout, z.ho, z.wo]);
      const dy = gpu.upload(f32(dy64), [s.n, s.cout, z.ho, z.wo]);
      const dw = gpu.upload(new Float32Array(z.w).fill(999), [s.cout, s.cin, s.k, s.k]);
      const prologue = { coef, silu: true };
      await run(await conv2dForward(gpu, x, w, b, y, s, { variant, prologue }));
      expectClose(await gpu.read(y), conv2dRef(a64, w64, b64, s), { ...TOL, label: 'y of the normalised input' });
      await run(await conv2dBackwardWeight(gpu, x, dy, dw, null, s, { variant, prologue }));
      expectClose(await gpu.read(dw), conv2dBackwardRef(a64, w64, dy64, s).dw, { ...TOL, label: 'dw of the normalised input' });
      // Without SiLU (the attention block's GroupNorm).
      await run(await conv2dForward(gpu, x, w, null, y, s, { variant, prologue: { coef, silu: false } }));
      const lin64 = x64.map((v, i) => coef64[2 * Math.floor(i / hw)]! * v + coef64[2 * Math.floor(i / hw) + 1]!);
      expectClose(await gpu.read(y), conv2dRef(lin64, w64, null, s), { ...TOL, label: 'y of the normalised input, no SiLU' });
    });

    test(`backward input, overwrite and accumulate: ${name}`, async () => {
      const { gpu } = ctx;
      const dy = gpu.upload(f32(dy64), [s.n, s.cout, z.ho, z.wo]);
      const w = gpu.upload(f32(w64), [s.cout, s.cin, s.k, s.k]);
      const dx = gpu.upload(new Float32Array(z.x).fill(-555), [s.n, s.cin, s.h, s.w]);
      await run(await conv2dBackwardInput(gpu, dy, w, dx, s, { variant }));
      expectClose(await gpu.read(dx), ref.dx, { ...TOL, label: 'dx' });
      const prior = randn(z.x, 15);
      gpu.write(dx, f32(prior));
      await run(await conv2dBackwardInput(gpu, dy, w, dx, s, { variant, accumulate: true }));
      expectClose(await gpu.read(dx), ref.dx.map((v, i) => v + prior[i]!), { ...TOL, label: 'dx accumulated' });
    });

    test(`backward weight and bias (overwrite): ${name}`, async () => {
      const { gpu } = ctx;
      const x = gpu.upload(f32(x64), [s.n, s.cin, s.h, s.w]);
      const dy = gpu.upload(f32(dy64), [s.n, s.cout, z.ho, z.wo]);
      const dw = gpu.upload(new Float32Array(z.w).fill(999), [s.cout, s.cin, s.k, s.k]);
      const db = gpu.upload(new Float32Array(s.cout).fill(999), [s.cout]);
      await run(await conv2dBackwardWeight(gpu, x, dy, dw, db, s, { variant }));
      expectClose(await gpu.read(dw), ref.dw, { ...TOL, label: 'dw' });
      expectClose(await gpu.read(db), ref.db, { ...TOL, label: 'db' });
      gpu.write(dw, new Float32Array(z.w).fill(999));
      await run(await conv2dBackwardWeight(gpu, x, dy, dw, null, s, { variant }));
      expectClose(await gpu.read(dw), ref.dw, { ...TOL, label: 'dw without db' });
    });
  }
});

describe('conv2d variants run the algorithm they name', () => {
  // The numerical tests above would also pass if a variant silently fell back to another one.
  test('winograd covers the three passes of 3x3 stride-1 convolutions and leaves stride 2 to direct; gemm unfolds', async () => {
    const { gpu } = ctx;
    const labels = async (s: Conv2dShape, variant: string) => {
      const z = sizes(s);
      const x = gpu.tensor([s.n, s.cin, s.h, s.w]);
      const w = gpu.tensor([s.cout, s.cin, s.k, s.k]);
      const y = gpu.tensor([s.n, s.cout, z.ho, z.wo]);
      const ds = [
        ...(await conv2dForward(gpu, x, w, null, y, s, { variant })),
        ...(await conv2dBackwardInput(gpu, y, w, x, s, { variant })),
        ...(await conv2dBackwardWeight(gpu, x, y, w, null, s, { variant })),
      ];
      return ds.map((d) => d.label).join(' ');
    };
    const s1 = shape(2, 5, 5, 7, 3, 3, 1, 1);
    const s2 = shape(3, 8, 6, 6, 8, 3, 2, 1);
    const wino = await labels(s1, 'winograd');
    for (const pass of ['forward', 'backwardInput', 'backwardWeight']) expect(wino).toContain(`conv2d.${pass}.winograd.`);
    expect(wino).not.toContain('direct');
    expect(await labels(s2, 'winograd')).not.toContain('winograd');
    expect(await labels(s1, 'gemm')).toContain('conv2d.gemm.im2col');
    // F(2x2, 3x3) and F(4x4, 3x3): per pass one transform dispatch (both transforms), the batched
    // matmul, one transform back.
    for (const v of ['winograd', 'winograd4']) {
      const all = (await labels(s1, v)).split(' ');
      expect(all).toHaveLength(9);
      for (const pass of ['forward', 'backwardInput', 'backwardWeight']) expect(all.filter((l) => l.startsWith(`conv2d.${pass}.${v}.`))).toHaveLength(2);
    }
    expect(await labels(s2, 'winograd4')).not.toContain('winograd4');
  });
});

describe('conv2d shape errors', () => {
  const s = shape(2, 3, 5, 5, 4, 3, 1, 1);
  test('tensors of the wrong shape, bad kernel options and unknown variants are refused', async () => {
    const { gpu } = ctx;
    const x = gpu.tensor([2, 3, 5, 5]);
    const w = gpu.tensor([4, 3, 3, 3]);
    const y = gpu.tensor([2, 4, 5, 5]);
    await expect(conv2dForward(gpu, gpu.tensor([2, 3, 5, 6]), w, null, y, s)).rejects.toThrow(ShapeError);
    await expect(conv2dForward(gpu, x, gpu.tensor([4, 3, 1, 1]), null, y, s)).rejects.toThrow(/weight/);
    await expect(conv2dForward(gpu, x, w, gpu.tensor([3]), y, s)).rejects.toThrow(/bias/);
    await expect(conv2dForward(gpu, x, w, null, gpu.tensor([2, 4, 3, 3]), s)).rejects.toThrow(/output/);
    await expect(conv2dBackwardInput(gpu, y, w, gpu.tensor([2, 3, 4, 4]), s)).rejects.toThrow(ShapeError);
    await expect(conv2dBackwardWeight(gpu, x, y, w, gpu.tensor([5]), s)).rejects.toThrow(ShapeError);
    await expect(conv2dForward(gpu, x, w, null, y, { ...s, k: 2 as 3 })).rejects.toThrow(ValueError);
    await expect(conv2dForward(gpu, x, w, null, y, { ...s, stride: 3 as 2 })).rejects.toThrow(ValueError);
    await expect(conv2dForward(gpu, x, w, null, y, { ...s, pad: -1 })).rejects.toThrow(ValueError);
    await expect(conv2dForward(gpu, x, w, null, y, { ...s, h: 1, w: 1, pad: 0 })).rejects.toThrow(ShapeError);
    await expect(conv2dForward(gpu, x, w, null, y, s, { variant: 'nope' })).rejects.toThrow(ValueError);
    await expect(conv2dForward(gpu, x, w, null, y, s, { epilogue: { channelBias: gpu.tensor([2, 3]) } })).rejects.toThrow(/channel bias/);
    await expect(conv2dForward(gpu, x, w, null, y, s, { epilogue: { residual: gpu.tensor([2, 4, 5, 4]) } })).rejects.toThrow(/residual/);
    await expect(conv2dForward(gpu, x, w, null, y, s, { epilogue: { residual: y } })).rejects.toThrow(ValueError);
  });
  test('output size follows PyTorch rounding', () => {
    expect(conv2dOutSize(shape(1, 1, 7, 5, 1, 3, 2, 1))).toEqual({ ho: 4, wo: 3 });
    expect(conv2dOutSize(shape(1, 1, 6, 6, 1, 3, 2, 1))).toEqual({ ho: 3, wo: 3 });
    expect(conv2dOutSize(shape(1, 1, 5, 5, 1, 1, 2, 0))).toEqual({ ho: 3, wo: 3 });
  });
});
