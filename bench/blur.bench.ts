// DCT blur and the fused soft loss: ms per apply (4 matrix-product passes) and per loss + gradient
// (7 dispatches) on [B, C, N, N] (--b, --c, --n; defaults 16, 3, 64).
import { DctBlur } from '../src/diffusion/blur.ts';
import { softScoreLoss } from '../src/diffusion/losses.ts';
import { timeDispatches } from '../src/gpu/autotune.ts';
import type { Bench } from './types.ts';

export const bench: Bench = {
  name: 'blur',
  description: 'DCT blur apply and soft loss+gradient on [B, C, N, N] (--b 16 --c 3 --n 64)',
  async run(gpu, opts, emit) {
    const [b, c, n] = [Number(opts.b ?? 16), Number(opts.c ?? 3), Number(opts.n ?? 64)];
    const dims = [b, c, n, n];
    const size = b * c * n * n;
    const blur = new DctBlur({ height: n });
    const lv = new Float32Array(b * 4);
    for (let i = 0; i < b; i++) lv.set([i / b, blur.level(i / b), 0.05, 1], i * 4);
    const levels = gpu.upload(lv, [b, 4]);
    const x = gpu.tensor(dims);
    const out = gpu.tensor(dims);
    // 4 passes of n multiply-adds per element
    const flops = 4 * 2 * n * size;
    const reps = 5;
    const apply = await blur.apply(gpu, x, out, levels);
    const ms = (await timeDispatches(gpu, Array(reps).fill(apply).flat(), 3)) / reps;
    emit({ bench: 'blur', shape: { b, c, n }, variant: 'apply', ms, gflops: flops / ms / 1e6, bytes: 4 * 4 * 2 * size });
    const t = { phi: gpu.tensor(dims), xt: gpu.tensor(dims), x0: gpu.tensor(dims), levels, grad: out, perSample: gpu.tensor([b]), loss: gpu.tensor([1]) };
    const loss = await softScoreLoss(gpu, blur, t);
    const msLoss = (await timeDispatches(gpu, Array(reps).fill(loss).flat(), 3)) / reps;
    emit({ bench: 'blur', shape: { b, c, n }, variant: 'soft-loss', ms: msLoss, gflops: flops / msLoss / 1e6, dispatches: loss.length });
  },
};
