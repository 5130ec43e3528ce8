import { describe, expect, test } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { randn, f32 } from '../helpers/random.ts';
import { planReduce, reduce, reduceRows, type ReduceOp } from '../../src/kernels/reduce.ts';
import { reduceDepth, reduceRef, reduceRowsRef, sumErrorBound } from '../reference/reduce.ts';
import { ShapeError, ValueError } from '../../src/gpu/errors.ts';

const ctx = useGpu();
const OPS: ReduceOp[] = ['sum', 'mean', 'sumsq'];

/** GPU op(x) for float32 data x. */
async function gpuReduce(op: ReduceOp, x: Float32Array, itemsPerThread?: number): Promise<number> {
  const { gpu } = ctx;
  const t = gpu.upload(x);
  const out = gpu.tensor([1]);
  const plan = await planReduce(gpu, op, t, out, { itemsPerThread });
  gpu.recorder().run(plan.dispatches).submit();
  const [v] = await gpu.read(out);
  for (const s of [t, out, ...plan.scratch]) gpu.release(s);
  return v!;
}

describe('reduce to a scalar against float64 (tolerance gamma_depth * sum |terms|)', () => {
  // 3M elements with a non-zero mean (cancellation-free sums would hide accumulation errors less).
  const big = f32(randn(3_000_017, 4, 2).map((v) => v + 0.75));
  // 16 and 256 items per invocation are the GPU and software-adapter defaults; 3_000_017 is odd
  // (scalar loads), 3_000_016 a multiple of 4 (vec4 loads in the first pass).
  test.each(OPS.flatMap((op) => [16, 256].map((items) => [op, items] as const)))('%s over 3M elements, %i items per invocation', async (op, items) => {
    for (const x of [big, big.subarray(0, 3_000_016)]) {
      const got = await gpuReduce(op, x, items);
      const { value, absSum } = reduceRef(op, x);
      const bound = sumErrorBound(absSum, reduceDepth(x.length, items));
      expect(Math.abs(got - value), `${op} n=${x.length}: got ${got}, expected ${value}, bound ${bound}`).toBeLessThanOrEqual(bound);
    }
  });

  test.each([1, 2, 255, 256, 4095, 4096, 4097, 70_001])('sum, mean, sumsq of %i elements', async (n) => {
    const x = f32(randn(n, n));
    for (const op of OPS) {
      const got = await gpuReduce(op, x, 16);
      const { value, absSum } = reduceRef(op, x);
      expect(Math.abs(got - value), `${op} n=${n}: got ${got}, expected ${value}`).toBeLessThanOrEqual(sumErrorBound(absSum, reduceDepth(n, 16)));
    }
  });

  test('more than 65535 workgroups in a pass (one element per invocation)', async () => {
    const n = 65536 * 256 + 3; // 65537 workgroups in the first pass
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) x[i] = ((i % 13) - 5) * 0.125;
    const got = await gpuReduce('sum', x, 1);
    const { value, absSum } = reduceRef('sum', x);
    expect(Math.abs(got - value), `got ${got}, expected ${value}`).toBeLessThanOrEqual(sumErrorBound(absSum, reduceDepth(n, 1)));
  });

  test('the tolerance is tight enough to see a dropped element', async () => {
    const x = f32(randn(10_000, 8).map((v) => v + 1));
    const got = await gpuReduce('sum', x, 16);
    const { value, absSum } = reduceRef('sum', x, 1, x.length - 1); // without x[0]
    expect(Math.abs(got - value)).toBeGreaterThan(sumErrorBound(absSum, reduceDepth(x.length, 16)));
  });
});

describe('reduceRows', () => {
  test.each([
    [1, 1],
    [5, 3],
    [7, 33],
    [3, 1000],
    [2, 70_001],
  ])('rows=%i cols=%i', async (rows, cols) => {
    const { gpu } = ctx;
    const x = f32(randn(rows * cols, rows + cols).map((v) => v - 0.5));
    const t = gpu.upload(x, [rows, cols]);
    for (const op of OPS) {
      const out = gpu.tensor([rows]);
      gpu.recorder().dispatch(await reduceRows(gpu, op, t, out)).submit();
      const got = await gpu.read(out);
      const ref = reduceRowsRef(op, x, rows, cols);
      const depth = Math.ceil(cols / 32) + 8;
      for (let r = 0; r < rows; r++)
        expect(Math.abs(got[r]! - ref.value[r]!), `${op} row ${r}`).toBeLessThanOrEqual(sumErrorBound(ref.absSum[r]!, depth));
      gpu.release(out);
    }
    gpu.release(t);
  });

  test('more than 65535 rows fold into a 2-D grid', async () => {
    const { gpu } = ctx;
    const rows = 70_000;
    const x = new Float32Array(rows * 2);
    for (let r = 0; r < rows; r++) [x[2 * r], x[2 * r + 1]] = [r, 0.5];
    const out = gpu.tensor([rows]);
    gpu.recorder().dispatch(await reduceRows(gpu, 'sum', gpu.upload(x, [rows, 2]), out)).submit();
    const got = await gpu.read(out);
    expect(got[0]).toBe(0.5);
    expect(got[rows - 1]).toBe(rows - 0.5);
    expect(got.every((v, r) => v === r + 0.5)).toBe(true);
  });
});

describe('reduce errors', () => {
  test('bad shapes and ops', async () => {
    const { gpu } = ctx;
    const x = gpu.tensor([4, 5]);
    await expect(reduce(gpu, 'sum', x, gpu.tensor([0]))).rejects.toThrow(ShapeError);
    await expect(reduce(gpu, 'max' as ReduceOp, x, gpu.tensor([1]))).rejects.toThrow(ValueError);
    await expect(reduce(gpu, 'sum', x, gpu.tensor([1]), { itemsPerThread: 0 })).rejects.toThrow(ValueError);
    await expect(reduce(gpu, 'sum', x, x)).rejects.toThrow(ValueError);
    await expect(reduceRows(gpu, 'sum', gpu.tensor([20]), gpu.tensor([4]))).rejects.toThrow(/\[rows, cols\]/);
    await expect(reduceRows(gpu, 'sum', x, gpu.tensor([5]))).rejects.toThrow(ShapeError);
  });
});
