import { describe, expect, test } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { expectClose } from '../helpers/expect-close.ts';
import { randn, f32 } from '../helpers/random.ts';
import { elementwise } from '../../src/kernels/elementwise.ts';
import { siluRef, siluBackwardRef } from '../reference/elementwise.ts';
import { checkGradients } from '../helpers/gradcheck.ts';
import { NonFiniteError, ShapeError } from '../../src/gpu/errors.ts';

const ctx = useGpu();

describe('elementwise kernels against float64 references', () => {
  // 70001 elements: not a multiple of the workgroup size, so the tail guard is exercised.
  const n = 70001;
  const a64 = randn(n, 1, 3);
  const b64 = randn(n, 2);

  async function run(op: Parameters<typeof elementwise>[1], alpha = 1, withB = true) {
    const { gpu } = ctx;
    const a = gpu.upload(f32(a64));
    const b = gpu.upload(f32(b64));
    const out = gpu.tensor([n]);
    const d = await elementwise(gpu, op, out, a, withB ? b : null, alpha);
    gpu.recorder().dispatch(d).submit();
    return gpu.read(out);
  }

  test('add', async () => expectClose(await run('add'), a64.map((x, i) => x + b64[i]!), { atol: 1e-6, rtol: 1e-6 }));
  test('scale', async () => expectClose(await run('scale', -2.5, false), a64.map((x) => -2.5 * x), { atol: 1e-6, rtol: 1e-6 }));
  test('axpy', async () => expectClose(await run('axpy', 0.3), a64.map((x, i) => 0.3 * x + b64[i]!), { atol: 1e-6, rtol: 1e-5 }));
  test('silu', async () => expectClose(await run('silu', 1, false), siluRef(a64), { atol: 1e-6, rtol: 1e-5 }));
  test('silu backward', async () => expectClose(await run('silu_backward'), siluBackwardRef(a64, b64), { atol: 1e-6, rtol: 1e-5 }));

  test('silu reference backward matches finite differences', () => {
    checkGradients(([x]) => siluRef(x!), ([x], g) => [siluBackwardRef(x!, g)], [randn(50, 3, 4)], { names: ['x'] });
  });

  test('more than 65535 workgroups folds into y', async () => {
    const { gpu } = ctx;
    const big = 65536 * 256 + 3; // 65537 workgroups of 256
    const a = gpu.tensor([big]);
    const out = gpu.tensor([big]);
    gpu.write(a, new Float32Array(big).fill(2));
    gpu.recorder().dispatch(await elementwise(gpu, 'scale', out, a, null, 1.5)).submit();
    const r = await gpu.read(out);
    expect(r[0]).toBe(3);
    expect(r[big - 1]).toBe(3);
    expect(r.every((v) => v === 3)).toBe(true);
    gpu.release(a);
    gpu.release(out);
  });

  test('bad input gets a clear error', async () => {
    const { gpu } = ctx;
    expect(() => gpu.upload(f32([1, NaN, 3]))).toThrow(NonFiniteError);
    const a = gpu.tensor([4]);
    expect(() => gpu.write(a, f32([1, 2, 3]))).toThrow(ShapeError);
    await expect(elementwise(gpu, 'add', gpu.tensor([4]), a, gpu.tensor([5]))).rejects.toThrow(/Shape mismatch/);
    await expect(elementwise(gpu, 'add', gpu.tensor([4]), a, null)).rejects.toThrow(ShapeError);
  });
});
