// Matmul throughput for every variant: C[n, n] = A[n, n] @ B[n, n] at n = 256, 512, 1024 (or --n=a,b),
// optionally --variant=name and --reps=k. ms is the median of k timed submits after a warm-up; small
// sizes put several dispatches in one submit so that submit latency does not dominate.
import { matmul, MATMUL_VARIANTS, type MatmulVariant } from '../src/kernels/matmul.ts';
import { timeDispatches } from '../src/gpu/autotune.ts';
import { randn, f32 } from '../tests/helpers/random.ts';
import type { Bench } from './types.ts';

export const bench: Bench = {
  name: 'matmul',
  description: 'C = A @ B, square n (--n=256,512,1024), every variant (--variant=...), --reps=5: ms, GFLOP/s',
  async run(gpu, opts, emit) {
    const sizes = (opts.n ?? '256,512,1024').split(',').map(Number);
    const variants = (opts.variant ? opts.variant.split(',') : [...MATMUL_VARIANTS]) as MatmulVariant[];
    const reps = Number(opts.reps ?? 5);
    for (const n of sizes) {
      const A = gpu.upload(f32(randn(n * n, 1)), [n, n]);
      const B = gpu.upload(f32(randn(n * n, 2)), [n, n]);
      const C = gpu.tensor([n, n]);
      const flops = 2 * n ** 3;
      const perSubmit = Math.max(1, Math.round(2 ** 27 / n ** 3));
      for (const variant of variants) {
        const ds = await matmul(gpu, A, B, C, { variant });
        const ms = (await timeDispatches(gpu, Array(perSubmit).fill(ds).flat(), reps)) / perSubmit;
        emit({ bench: 'matmul', shape: { M: n, N: n, K: n }, variant, ms, gflops: flops / ms / 1e6, bytes: 4 * 3 * n * n });
      }
      for (const t of [A, B, C]) gpu.release(t);
    }
  },
};
