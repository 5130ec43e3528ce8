// GroupNorm + SiLU forward and backward at the U-Net's shapes (batch 8, 8 groups), each variant.
// `bytes` is the unavoidable traffic (forward: read x, write y; backward: read x and dy, write dx), so
// GB/s compares with the elementwise bench's bandwidth floor; the kernels read x (and dy) twice.
import { groupNormBackward, groupNormForward, GROUPNORM_VARIANTS, type GroupNormShape } from '../src/kernels/groupnorm.ts';
import { timeDispatches } from '../src/gpu/autotune.ts';
import type { Bench } from './types.ts';

const SHAPES: [c: number, side: number][] = [
  [32, 32],
  [64, 16],
  [64, 8],
];

export const bench: Bench = {
  name: 'layers',
  description: 'GroupNorm+SiLU forward/backward, batch 8 (--n), 32ch 32x32, 64ch 16x16 and 8x8, 8 groups, each variant: ms and GB/s (--reps fixes the repeats per submit; --variant, --pass select)',
  async run(gpu, opts, emit) {
    const n = Number(opts.n ?? 8);
    for (const [c, side] of SHAPES) {
      const s: GroupNormShape = { n, c, hw: side * side, groups: 8, eps: 1e-5, silu: true };
      const size = n * c * s.hw;
      const x = gpu.upload(Float32Array.from({ length: size }, (_, i) => Math.sin(i * 0.37) + 0.1 * (i % 7)));
      const dy = gpu.upload(Float32Array.from({ length: size }, (_, i) => Math.cos(i * 0.11)));
      const gamma = gpu.upload(new Float32Array(c).fill(1));
      const beta = gpu.tensor([c]);
      const [y, dx] = [gpu.tensor([size]), gpu.tensor([size])];
      const stats = gpu.tensor([n * s.groups * 2]);
      const [dgamma, dbeta] = [gpu.tensor([c]), gpu.tensor([c])];
      const shape = { n, c, h: side, w: side, groups: s.groups };
      for (const variant of GROUPNORM_VARIANTS.filter((v) => !opts.variant || opts.variant === v)) {
        const fwd = await groupNormForward(gpu, x, gamma, beta, y, stats, s, { variant });
        const bwd = await groupNormBackward(gpu, x, gamma, beta, stats, dy, dx, dgamma, dbeta, s, { variant });
        for (const [pass, ds, tensors] of [['forward', fwd, 2], ['backward', bwd, 3]] as const) {
          if (opts.pass && opts.pass !== pass) continue;
          // Repeat the dispatches within one submit to hide submit overhead, but keep a submit well under
          // a second: SwiftShader's tree variant is slow enough to trip Chromium's GPU watchdog.
          const once = await timeDispatches(gpu, ds, 1);
          const reps = Number(opts.reps ?? Math.max(1, Math.min(20, Math.floor(200 / once))));
          const ms = (await timeDispatches(gpu, Array.from({ length: reps }, () => ds).flat(), 3)) / reps;
          const bytes = tensors * 4 * size;
          emit({ bench: 'layers', shape: { layer: 'groupnorm+silu', pass, ...shape }, variant, ms, bytes, gbps: bytes / ms / 1e6 });
        }
      }
      for (const t of [x, dy, gamma, beta, y, dx, stats, dgamma, dbeta]) gpu.release(t);
    }
  },
};
