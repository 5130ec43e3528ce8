// Matmul throughput for every variant: C[n, n] = A[n, n] @ B[n, n] at n = 256, 512, 1024 (or --n=a,b),
// or the batched shapes of --shapes=BxMxNxK[:tA][:tB],... (e.g. 16x32x32x4096:tB, the Winograd weight
// gradient at 32x32, batch 16), optionally --variant=name and --reps=k. ms is the median of k timed submits after a warm-up; small
// sizes put several dispatches in one submit so that submit latency does not dominate.
import { matmul, MATMUL_VARIANTS, type MatmulVariant } from '../src/kernels/matmul.ts';
import { timeDispatches } from '../src/gpu/autotune.ts';
import { randn, f32 } from '../tests/helpers/random.ts';
import type { Bench, BenchOptions, BenchResult } from './types.ts';
import type { Gpu } from '../src/gpu/gpu.ts';
import { timeWithCpu } from './timing.ts';

export const bench: Bench = {
  name: 'matmul',
  description: 'C = A @ B, square n (--n=256,512,1024), every variant (--variant=...), --reps=5: ms, GFLOP/s',
  async run(gpu, opts, emit) {
    if (opts.shapes) return runShapes(gpu, opts, emit);
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

async function runShapes(gpu: Gpu, opts: BenchOptions, emit: (r: BenchResult) => void): Promise<void> {
  const reps = Number(opts.reps ?? 5);
  for (const spec of opts.shapes!.split(',')) {
    const [dims, ...flags] = spec.split(':');
    const [batch, M, N, K] = dims!.split('x').map(Number) as [number, number, number, number];
    const transA = flags.includes('tA');
    const transB = flags.includes('tB');
    const A = gpu.upload(f32(randn(batch * M * K, 1)), transA ? [batch, K, M] : [batch, M, K]);
    const B = gpu.upload(f32(randn(batch * K * N, 2)), transB ? [batch, N, K] : [batch, K, N]);
    const C = gpu.tensor([batch, M, N]);
    const flops = 2 * batch * M * N * K;
    const variants = (opts.variant ? opts.variant.split(',') : MATMUL_VARIANTS.filter((v) => v !== 'tiled' || !gpu.adapter.software)) as MatmulVariant[];
    for (const variant of variants) {
      const ds = await matmul(gpu, A, B, C, { variant, transA, transB });
      gpu.recorder('warm-up').run(ds).submit();
      await gpu.done();
      const { ms, cpuMs, workMs } = await timeWithCpu(gpu, ds, reps);
      emit({ bench: 'matmul', shape: { batch, M, N, K, trans: flags.join('') }, variant, ms, cpuMs, workMs, gflops: flops / ms / 1e6 });
    }
    for (const t of [A, B, C]) gpu.release(t);
  }
}
