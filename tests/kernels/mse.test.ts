import { describe, expect, test } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { expectClose } from '../helpers/expect-close.ts';
import { checkGradients } from '../helpers/gradcheck.ts';
import { randn, f32 } from '../helpers/random.ts';
import { mseLoss } from '../../src/kernels/mse.ts';
import { mseRef } from '../reference/mse.ts';
import { ShapeError, ValueError } from '../../src/gpu/errors.ts';

const ctx = useGpu();

describe('MSE loss', () => {
  test('reference gradient matches finite differences', () => {
    const t = randn(17, 2);
    checkGradients(([y]) => Float64Array.of(mseRef(y!, t).loss), ([y], g) => [mseRef(y!, t).dy.map((v) => v * g[0]!)], [randn(17, 1)], { names: ['y'] });
  });

  // 1 element; one full block plus a 1-element tail; 1M elements with an offset (loss ~ 10), where a
  // naive float32 running sum would lose ~3 digits.
  for (const n of [1, 4097, 1_000_000])
    test(`GPU loss and gradient, n = ${n}`, async () => {
      const { gpu } = ctx;
      const y32 = f32(randn(n, 1).map((v) => v + 3));
      const t32 = f32(randn(n, 2));
      const loss = gpu.tensor([1]);
      const dy = gpu.tensor([n]);
      gpu.recorder().run(await mseLoss(gpu, gpu.upload(y32), gpu.upload(t32), loss, dy, { n })).submit();
      const ref = mseRef(y32, t32);
      expectClose(await gpu.read(loss), [ref.loss], { atol: 0, rtol: 1e-5, label: 'loss' });
      // dy is one rounding of 2 e / n: relative error ~ 2 ulp.
      expectClose(await gpu.read(dy), ref.dy, { atol: 1e-30, rtol: 3e-7, label: 'dy' });
    });

  test('bad shapes get typed errors', async () => {
    const { gpu } = ctx;
    const t = (n: number) => gpu.tensor([n]);
    await expect(mseLoss(gpu, t(5), t(5), t(2), t(5), { n: 5 })).rejects.toThrow(ShapeError);
    await expect(mseLoss(gpu, t(5), t(4), t(1), t(5), { n: 5 })).rejects.toThrow(ShapeError);
    await expect(mseLoss(gpu, t(5), t(5), t(1), t(5), { n: 0 })).rejects.toThrow(ValueError);
  });
});
