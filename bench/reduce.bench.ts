// Reduction throughput: sum, mean, sumsq of n floats (--n, default 16M) to one value; and reduceRows
// over [rows, n/rows] (--rows, default 1024). ms is the median of --reps submits; GB/s counts the input.
// --items and --wg override the per-invocation chunk and workgroup size of the scalar reduction.
import { planReduce, reduceRows, type ReduceOp } from '../src/kernels/reduce.ts';
import { timeDispatches } from '../src/gpu/autotune.ts';
import type { Bench } from './types.ts';

export const bench: Bench = {
  name: 'reduce',
  description: 'sum/mean/sumsq of n floats (--n, default 16M) and per row (--rows, default 1024): ms, GB/s',
  async run(gpu, opts, emit) {
    const n = Number(opts.n ?? 16 * 1024 * 1024);
    const rows = Number(opts.rows ?? 1024);
    const reps = Number(opts.reps ?? 5);
    const x = gpu.tensor([n]);
    gpu.write(x, new Float32Array(n).fill(0.5));
    const out = gpu.tensor([rows]);
    const bytes = 4 * n;
    for (const op of ['sum', 'mean', 'sumsq'] as ReduceOp[]) {
      const plan = await planReduce(gpu, op, x, out.view(0, [1]), { itemsPerThread: opts.items ? Number(opts.items) : undefined, workgroupSize: opts.wg ? Number(opts.wg) : undefined });
      const ms = await timeDispatches(gpu, plan.dispatches, reps);
      emit({ bench: 'reduce', shape: { n }, variant: op, ms, bytes, gbps: bytes / ms / 1e6, passes: plan.dispatches.length, items: plan.itemsPerThread, wg: plan.workgroupSize });
      for (const s of plan.scratch) gpu.release(s);
    }
    const cols = Math.floor(n / rows);
    const d = await reduceRows(gpu, 'sum', x.view(0, [rows, cols]), out);
    const ms = await timeDispatches(gpu, [d], reps);
    emit({ bench: 'reduce', shape: { rows, cols }, variant: 'rows:sum', ms, bytes: 4 * rows * cols, gbps: (4 * rows * cols) / ms / 1e6 });
    gpu.release(x);
    gpu.release(out);
  },
};
