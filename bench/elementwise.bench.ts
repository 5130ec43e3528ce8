// Element-wise axpy bandwidth: the floor every memory-bound kernel is measured against.
import { elementwise } from '../src/kernels/elementwise.ts';
import { timeDispatches } from '../src/gpu/autotune.ts';
import type { Bench } from './types.ts';

export const bench: Bench = {
  name: 'elementwise',
  description: 'axpy over n floats (--n, default 4M): ms and GB/s',
  async run(gpu, opts, emit) {
    const n = Number(opts.n ?? 4 * 1024 * 1024);
    const a = gpu.tensor([n]);
    const b = gpu.tensor([n]);
    const out = gpu.tensor([n]);
    const d = await elementwise(gpu, 'axpy', out, a, b, 0.5);
    const reps = 10;
    const ms = (await timeDispatches(gpu, Array(reps).fill(d), 3)) / reps;
    const bytes = 3 * 4 * n;
    emit({ bench: 'elementwise', shape: { n }, variant: 'axpy', ms, bytes, gbps: bytes / ms / 1e6 });
    for (const t of [a, b, out]) gpu.release(t);
  },
};
