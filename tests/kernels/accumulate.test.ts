// y += x (shaders/accumulate.wgsl) against the float64 sum.
import { describe, expect, test } from 'vitest';
import { addInto } from '../../src/kernels/accumulate.ts';
import { ShapeError } from '../../src/gpu/errors.ts';
import { useGpu } from '../helpers/gpu.ts';
import { expectClose } from '../helpers/expect-close.ts';
import { randn, f32 } from '../helpers/random.ts';

describe('accumulate.wgsl: addInto', () => {
  const ctx = useGpu();
  test('y += x matches the float64 sum, tail included', async () => {
    const { gpu } = ctx;
    const n = 70001;
    const x = randn(n, 11);
    const y = randn(n, 12);
    const tx = gpu.upload(f32(x));
    const ty = gpu.upload(f32(y));
    gpu.recorder().dispatch(await addInto(gpu, tx, ty)).submit();
    expectClose(await gpu.read(ty), y.map((v, i) => v + x[i]!), { atol: 1e-6, rtol: 1e-6 });
  });
  test('mismatched sizes are a ShapeError', async () => {
    const { gpu } = ctx;
    await expect(addInto(gpu, gpu.tensor([3]), gpu.tensor([4]))).rejects.toThrow(ShapeError);
  });
});
