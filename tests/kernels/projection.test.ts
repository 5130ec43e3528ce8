import { describe, expect, test } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { expectClose } from '../helpers/expect-close.ts';
import { checkGradients } from '../helpers/gradcheck.ts';
import { randn, f32 } from '../helpers/random.ts';
import { PROJECTION_VARIANTS, projectionBackward, projectionForward, type ProjectionShape, type ProjectionVariant } from '../../src/kernels/projection.ts';
import { ShapeError, ValueError } from '../../src/gpu/errors.ts';
import { projectionBackwardRef, projectionRef } from '../reference/attention.ts';

const ctx = useGpu();

// f32 dot products of length cin (forward, dx: cout) and n*L (dw, db) terms of unit-variance data.
const TOL = { atol: 3e-5, rtol: 1e-4 };

describe('projection reference', () => {
  test('backward matches finite differences', () => {
    const [n, cin, cout, L] = [2, 3, 5, 4];
    checkGradients(
      ([x, w, b]) => projectionRef(x!, w!, b!, n, cin, cout, L),
      ([x, w], g) => {
        const r = projectionBackwardRef(x!, w!, g, n, cin, cout, L);
        return [r.dx, r.dw, r.db];
      },
      [randn(n * cin * L, 1), randn(cout * cin, 2), randn(cout, 3)],
      { names: ['x', 'w', 'b'] },
    );
  });
});

describe.each(PROJECTION_VARIANTS)('projection kernels (%s) against the float64 reference', (variant) => {
  async function runCase(s: ProjectionShape, accumulate: boolean) {
    const { gpu } = ctx;
    const { n, cin, cout, L } = s;
    const x = randn(n * cin * L, 21);
    const w = randn(cout * cin, 22, 0.3);
    const b = randn(cout, 23);
    const dy = randn(n * cout * L, 24);
    const dxOld = randn(n * cin * L, 25);
    const tx = gpu.upload(f32(x), [n, cin, L]);
    const tw = gpu.upload(f32(w), [cout, cin]);
    const tb = gpu.upload(f32(b), [cout]);
    const tdy = gpu.upload(f32(dy), [n, cout, L]);
    const y = gpu.tensor([n, cout, L]);
    const dx = gpu.upload(f32(dxOld), [n, cin, L]);
    const dw = gpu.upload(f32(randn(cout * cin, 26)), [cout, cin]); // overwritten, not added to
    const db = gpu.upload(f32(randn(cout, 27)), [cout]);
    const ds = [...(await projectionForward(gpu, tx, tw, tb, y, s, { variant })), ...(await projectionBackward(gpu, tx, tw, tdy, dx, dw, db, s, { accumulate, variant }))];
    gpu.recorder().run(ds).submit();
    const ref = projectionBackwardRef(x, w, dy, n, cin, cout, L);
    expectClose(await gpu.read(y), projectionRef(x, w, b, n, cin, cout, L), { ...TOL, label: 'y' });
    expectClose(await gpu.read(dx), accumulate ? ref.dx.map((v, i) => v + dxOld[i]!) : ref.dx, { ...TOL, label: 'dx' });
    expectClose(await gpu.read(dw), ref.dw, { ...TOL, label: 'dw' });
    expectClose(await gpu.read(db), ref.db, { ...TOL, label: 'db' });
  }

  test('QKV shape c = 5 -> 15, 7 positions', () => runCase({ n: 2, cin: 5, cout: 15, L: 7 }, false));
  test('16x16, c = 4 -> 12, batch 1', () => runCase({ n: 1, cin: 4, cout: 12, L: 256 }, false));
  test('output shape 17 -> 17, 7x7, accumulate dx', () => runCase({ n: 3, cin: 17, cout: 17, L: 49 }, true));
  test('L = 1', () => runCase({ n: 2, cin: 3, cout: 9, L: 1 }, true));
  test('more than 64 positions and channels: several direct workgroups / tiles', () => runCase({ n: 2, cin: 70, cout: 33, L: 81 }, false));
});

describe('projection options and errors', () => {
  test('dx = null skips the input gradient; bad shapes throw', async () => {
    const { gpu } = ctx;
    const s = { n: 1, cin: 2, cout: 3, L: 4 };
    const ds = await projectionBackward(gpu, gpu.tensor([1, 2, 4]), gpu.tensor([3, 2]), gpu.tensor([1, 3, 4]), null, gpu.tensor([3, 2]), gpu.tensor([3]), s, { variant: 'direct' });
    expect(ds.length).toBe(2);
    await expect(projectionForward(gpu, gpu.tensor([1, 2, 4]), gpu.tensor([2, 3]), gpu.tensor([3]), gpu.tensor([1, 3, 4]), s)).rejects.toThrow(ShapeError);
    await expect(projectionForward(gpu, gpu.tensor([1, 2, 4]), gpu.tensor([3, 2]), gpu.tensor([3]), gpu.tensor([1, 3, 5]), s)).rejects.toThrow(ShapeError);
    await expect(projectionForward(gpu, gpu.tensor([1, 2, 4]), gpu.tensor([3, 2]), gpu.tensor([3]), gpu.tensor([1, 3, 4]), s, { variant: 'x' as ProjectionVariant })).rejects.toThrow(ValueError);
  });
});
