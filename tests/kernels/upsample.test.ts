import { describe, expect, test } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { expectClose } from '../helpers/expect-close.ts';
import { checkGradients } from '../helpers/gradcheck.ts';
import { randn, f32 } from '../helpers/random.ts';
import { upsample2xBackward, upsample2xForward, type Upsample2xShape } from '../../src/kernels/upsample.ts';
import { upsample2xBackwardRef, upsample2xRef } from '../reference/upsample.ts';
import { ShapeError, ValueError } from '../../src/gpu/errors.ts';

const ctx = useGpu();

describe('upsample2x', () => {
  test('reference backward matches finite differences', () => {
    const s = { n: 2, c: 3, h: 3, w: 2 };
    checkGradients(([x]) => upsample2xRef(x!, s), (_, dy) => [upsample2xBackwardRef(dy, s)], [randn(36, 1)], { names: ['x'] });
  });

  // Batch 1, odd sizes, 1x1 planes, non-square, channels not a multiple of 4.
  const shapes: Upsample2xShape[] = [
    { n: 1, c: 3, h: 5, w: 7 },
    { n: 2, c: 5, h: 1, w: 1 },
    { n: 3, c: 2, h: 4, w: 3 },
  ];
  for (const s of shapes)
    test(`GPU forward, backward and accumulated backward ${s.n}x${s.c}x${s.h}x${s.w}`, async () => {
      const { gpu } = ctx;
      const nx = s.n * s.c * s.h * s.w;
      const x32 = f32(randn(nx, 1));
      const dy32 = f32(randn(4 * nx, 2));
      const prior = f32(randn(nx, 3));
      const y = gpu.tensor([s.n, s.c, 2 * s.h, 2 * s.w]);
      const dx = gpu.tensor([s.n, s.c, s.h, s.w]);
      const dxAcc = gpu.upload(prior);
      const dy = gpu.upload(dy32);
      gpu
        .recorder()
        .run(await upsample2xForward(gpu, gpu.upload(x32), y, s))
        .run(await upsample2xBackward(gpu, dy, dx, s))
        .run(await upsample2xBackward(gpu, dy, dxAcc, s, { accumulate: true }))
        .submit();
      // Forward copies exactly; backward adds 4 (5) float32 values: a few ulp.
      expect(Array.from(await gpu.read(y)), 'y').toEqual(Array.from(upsample2xRef(Float64Array.from(x32), s)));
      const ref = upsample2xBackwardRef(Float64Array.from(dy32), s);
      expectClose(await gpu.read(dx), ref, { atol: 1e-6, rtol: 1e-6, label: 'dx' });
      expectClose(await gpu.read(dxAcc), ref.map((v, i) => v + prior[i]!), { atol: 1e-6, rtol: 1e-6, label: 'dx accumulated' });
    });

  test('bad shapes get typed errors', async () => {
    const { gpu } = ctx;
    const s = { n: 1, c: 2, h: 3, w: 3 };
    await expect(upsample2xForward(gpu, gpu.tensor([18]), gpu.tensor([71]), s)).rejects.toThrow(ShapeError);
    await expect(upsample2xBackward(gpu, gpu.tensor([72]), gpu.tensor([17]), s)).rejects.toThrow(ShapeError);
    await expect(upsample2xForward(gpu, gpu.tensor([18]), gpu.tensor([72]), { ...s, h: 0 })).rejects.toThrow(ValueError);
  });
});
