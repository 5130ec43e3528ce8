import { describe, expect, test } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { expectClose } from '../helpers/expect-close.ts';
import { checkGradients } from '../helpers/gradcheck.ts';
import { randn, f32 } from '../helpers/random.ts';
import { linearBackward, linearForward, type LinearShape } from '../../src/kernels/linear.ts';
import { linearBackwardRef, linearRef } from '../reference/linear.ts';
import { ShapeError, ValueError } from '../../src/gpu/errors.ts';

const ctx = useGpu();
const f64 = (a: Float32Array) => Float64Array.from(a);

describe('linear', () => {
  test('reference backward matches finite differences', () => {
    const s = { n: 3, in: 4, out: 5 };
    checkGradients(
      ([x, w, b]) => linearRef(x!, w!, b!, s),
      ([x, w], dy) => {
        const r = linearBackwardRef(x!, w!, dy, s);
        return [r.dx, r.dw, r.db];
      },
      [randn(12, 1), randn(20, 2), randn(5, 3)],
      { names: ['x', 'w', 'b'] },
    );
  });

  // Batch 1, odd widths, the time-MLP sizes (64 -> 128 -> 128) and a wide one (130 inputs).
  const shapes: (LinearShape & { bias: boolean })[] = [
    { n: 1, in: 7, out: 5, bias: true },
    { n: 1, in: 3, out: 6, bias: false },
    { n: 8, in: 64, out: 128, bias: true },
    { n: 5, in: 130, out: 33, bias: true },
  ];
  for (const s of shapes)
    test(`GPU forward and backward n ${s.n}, ${s.in} -> ${s.out}, bias ${s.bias}`, async () => {
      const { gpu } = ctx;
      const x32 = f32(randn(s.n * s.in, 1));
      const w32 = f32(randn(s.out * s.in, 2, 1 / Math.sqrt(s.in)));
      const b32 = f32(randn(s.out, 3));
      const dy32 = f32(randn(s.n * s.out, 4));
      const prior = f32(randn(s.n * s.in, 5));
      const [x, w, dy] = [gpu.upload(x32), gpu.upload(w32), gpu.upload(dy32)];
      const b = s.bias ? gpu.upload(b32) : null;
      const y = gpu.tensor([s.n, s.out]);
      const dx = gpu.tensor([s.n, s.in]);
      const dw = gpu.tensor([s.out, s.in]);
      const db = gpu.tensor([s.out]);
      const dxAcc = gpu.upload(prior);
      const dwOnly = gpu.tensor([s.out, s.in]);
      gpu
        .recorder()
        .run(await linearForward(gpu, x, w, b, y, s))
        .run(await linearBackward(gpu, x, w, dy, dx, dw, db, s))
        .run(await linearBackward(gpu, x, w, dy, dxAcc, gpu.tensor([s.out, s.in]), null, s, { accumulate: true }))
        .run(await linearBackward(gpu, x, w, dy, null, dwOnly, null, s))
        .submit();
      // Dot products of up to 130 float32 terms of size ~1: errors ~1e-6.
      const tol = { atol: 1e-5, rtol: 1e-5 };
      expectClose(await gpu.read(y), linearRef(f64(x32), f64(w32), s.bias ? f64(b32) : null, s), { ...tol, label: 'y' });
      const ref = linearBackwardRef(f64(x32), f64(w32), f64(dy32), s);
      expectClose(await gpu.read(dx), ref.dx, { ...tol, label: 'dx' });
      expectClose(await gpu.read(dw), ref.dw, { ...tol, label: 'dw' });
      expectClose(await gpu.read(db), ref.db, { ...tol, label: 'db' });
      expectClose(await gpu.read(dxAcc), ref.dx.map((v, i) => v + prior[i]!), { ...tol, label: 'dx accumulated' });
      expectClose(await gpu.read(dwOnly), ref.dw, { ...tol, label: 'dw without dx and db' });
    });

  test('bad shapes get typed errors', async () => {
    const { gpu } = ctx;
    const t = (n: number) => gpu.tensor([n]);
    const s = { n: 2, in: 3, out: 4 };
    await expect(linearForward(gpu, t(6), t(11), null, t(8), s)).rejects.toThrow(ShapeError);
    await expect(linearForward(gpu, t(6), t(12), t(3), t(8), s)).rejects.toThrow(ShapeError);
    await expect(linearBackward(gpu, t(6), t(12), t(8), t(5), t(12), null, s)).rejects.toThrow(ShapeError);
    await expect(linearForward(gpu, t(6), t(12), null, t(8), { ...s, in: 0 })).rejects.toThrow(ValueError);
  });
});
