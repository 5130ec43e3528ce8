import { describe, expect, test } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { expectClose } from '../helpers/expect-close.ts';
import { checkGradients } from '../helpers/gradcheck.ts';
import { f32, f64, randn } from '../helpers/random.ts';
import { avgPoolBackward, avgPoolForward } from '../../src/kernels/avgpool.ts';
import { avgPoolBackwardRef, avgPoolRef } from '../reference/avgpool.ts';
import { ShapeError, ValueError } from '../../src/gpu/errors.ts';

const ctx = useGpu();

describe('global average pooling (avgpool.wgsl)', () => {
  test('reference backward matches finite differences', () => {
    const rows = 6;
    const hw = 4;
    checkGradients(
      ([x]) => avgPoolRef(x!, rows, hw),
      (_, dy) => [avgPoolBackwardRef(dy, rows, hw)],
      [randn(rows * hw, 1)],
      { names: ['x'] },
    );
  });

  // A 1x1 plane, the classifier's 8x8 planes of 64 channels, and an odd count of rows (grid tail).
  const shapes = [
    { n: 1, c: 3, hw: 1 },
    { n: 16, c: 64, hw: 64 },
    { n: 5, c: 13, hw: 49 },
  ];
  for (const s of shapes)
    test(`GPU forward and backward n ${s.n}, c ${s.c}, hw ${s.hw}`, async () => {
      const { gpu } = ctx;
      const rows = s.n * s.c;
      const x64 = f64(f32(randn(rows * s.hw, 2)));
      const dy64 = f64(f32(randn(rows, 3)));
      const prior = f32(randn(rows * s.hw, 4));
      const x = gpu.upload(f32(x64));
      const dy = gpu.upload(f32(dy64));
      const y = gpu.tensor([s.n, s.c]);
      const dx = gpu.tensor([rows * s.hw]);
      const dxAcc = gpu.upload(prior);
      gpu
        .recorder()
        .run(await avgPoolForward(gpu, x, y, s))
        .run(await avgPoolBackward(gpu, dy, dx, s))
        .run(await avgPoolBackward(gpu, dy, dxAcc, s, { accumulate: true }))
        .submit();
      // A serial float32 sum of hw <= 64 terms of size ~1: errors ~1e-6.
      expectClose(await gpu.read(y), avgPoolRef(x64, rows, s.hw), { atol: 2e-6, rtol: 1e-5, label: 'y' });
      const ref = avgPoolBackwardRef(dy64, rows, s.hw);
      expectClose(await gpu.read(dx), ref, { atol: 1e-7, rtol: 1e-6, label: 'dx' });
      expectClose(await gpu.read(dxAcc), ref.map((v, i) => v + prior[i]!), { atol: 1e-6, rtol: 1e-6, label: 'dx accumulated' });
    });

  test('bad shapes get typed errors', async () => {
    const { gpu } = ctx;
    const t = (n: number) => gpu.tensor([n]);
    await expect(avgPoolForward(gpu, t(10), t(2), { n: 1, c: 2, hw: 4 })).rejects.toThrow(ShapeError);
    await expect(avgPoolBackward(gpu, t(2), t(7), { n: 1, c: 2, hw: 4 })).rejects.toThrow(ShapeError);
    await expect(avgPoolForward(gpu, t(8), t(2), { n: 1, c: 2, hw: 0 })).rejects.toThrow(ValueError);
  });
});
