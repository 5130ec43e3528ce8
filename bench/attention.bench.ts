// Self-attention (the core softmax(q k^T / sqrt(d)) v, and the block's 1x1 projections) forward and
// backward, and the AdamW step over a flat parameter buffer.
// Options: --n (batch, 8), --c (channels, 64), --sizes (feature-map sides, "16,8"), --heads (1),
// --params (optimizer elements, 699811), --reps (runs per submit, 3).
import { ATTENTION_VARIANTS, attentionBackward, attentionForward } from '../src/kernels/attention.ts';
import { conv2dBackwardInput, conv2dBackwardWeight, conv2dForward, type Conv2dShape } from '../src/kernels/conv2d.ts';
import { AdamW } from '../src/kernels/adamw.ts';
import { timeDispatches } from '../src/gpu/autotune.ts';
import { FlatLayout } from '../src/gpu/flat-layout.ts';
import type { Dispatch } from '../src/gpu/kernel.ts';
import type { Bench } from './types.ts';

export const bench: Bench = {
  name: 'attention',
  description: 'attention forward/backward (batch 8, 64 ch, 16x16 and 8x8) and the AdamW step over 699,811 parameters',
  async run(gpu, opts, emit) {
    const n = Number(opts.n ?? 8);
    const c = Number(opts.c ?? 64);
    const heads = Number(opts.heads ?? 1);
    const reps = Number(opts.reps ?? 3);
    const sizes = (opts.sizes ?? '16,8').split(',').map(Number);
    const time = async (ds: Dispatch[]) => (await timeDispatches(gpu, Array.from({ length: reps }, () => ds).flat(), 3)) / reps;

    for (const side of sizes) {
      const L = side * side;
      const s = { n, c, L, heads };
      const shape = { n, c, hw: `${side}x${side}`, heads };
      const qkv = gpu.tensor([n, 3 * c, L]);
      const dqkv = gpu.tensor([n, 3 * c, L]);
      const x = gpu.tensor([n, c, L]);
      const o = gpu.tensor([n, c, L]);
      const dO = gpu.tensor([n, c, L]);
      const lse = gpu.tensor([n, heads, L]);
      // Executed multiply-adds: forward QK^T and PV; backward recomputes QK^T twice, dO V^T twice,
      // plus dS K, P^T dO, dS^T Q: 7 products of n * L * L * c.
      const mm = 2 * n * L * L * c;
      // q, k, v, o (and dO, dq, dk, dv for backward) once each: the floor if K/V stayed in cache.
      const act = n * c * L * 4;
      let ms = 0;
      for (const variant of ATTENTION_VARIANTS) {
        ms = await time(await attentionForward(gpu, qkv, qkv, qkv, o, lse, s, { variant }));
        emit({ bench: 'attention', shape, variant: `core forward ${variant}`, ms, gflops: (2 * mm) / ms / 1e6, bytes: 4 * act });
        ms = await time(await attentionBackward(gpu, qkv, qkv, qkv, o, lse, dO, dqkv, dqkv, dqkv, s, { variant }));
        emit({ bench: 'attention', shape, variant: `core backward ${variant}`, ms, gflops: (7 * mm) / ms / 1e6, bytes: 9 * act });
      }
      // The block with the variant the engine picks on this adapter.
      const fwd = await attentionForward(gpu, qkv, qkv, qkv, o, lse, s);
      const bwd = await attentionBackward(gpu, qkv, qkv, qkv, o, lse, dO, dqkv, dqkv, dqkv, s);

      // The block's 1x1 projections are 1x1 convolutions (as in src/nn/attention-block.ts).
      const wqkv = gpu.tensor([3 * c, c, 1, 1]);
      const bqkv = gpu.tensor([3 * c]);
      const wout = gpu.tensor([c, c, 1, 1]);
      const bout = gpu.tensor([c]);
      const y = gpu.tensor([n, c, side, side]);
      const dx = gpu.tensor([n, c, side, side]);
      const dwq = gpu.tensor([3 * c, c, 1, 1]);
      const dbq = gpu.tensor([3 * c]);
      const dwo = gpu.tensor([c, c, 1, 1]);
      const dbo = gpu.tensor([c]);
      const pq: Conv2dShape = { n, cin: c, h: side, w: side, cout: 3 * c, k: 1, stride: 1, pad: 0 };
      const po: Conv2dShape = { ...pq, cout: c };
      const img = (t: typeof x, ch: number) => t.reshape([n, ch, side, side]);
      const blockFwd = [...(await conv2dForward(gpu, img(x, c), wqkv, bqkv, img(qkv, 3 * c), pq)), ...fwd, ...(await conv2dForward(gpu, img(o, c), wout, bout, y, po))];
      const blockBwd = [
        ...(await conv2dBackwardWeight(gpu, img(o, c), y, dwo, dbo, po)),
        ...(await conv2dBackwardInput(gpu, y, wout, img(dO, c), po)),
        ...bwd,
        ...(await conv2dBackwardWeight(gpu, img(x, c), img(dqkv, 3 * c), dwq, dbq, pq)),
        ...(await conv2dBackwardInput(gpu, img(dqkv, 3 * c), wqkv, dx, pq)),
      ];
      const proj = 2 * n * L * c * c * 4; // QKV (3c x c) and output (c x c) products
      ms = await time(blockFwd);
      emit({ bench: 'attention', shape, variant: 'block forward (qkv + attention + out projection)', ms, gflops: (2 * mm + proj) / ms / 1e6 });
      ms = await time(blockBwd);
      emit({ bench: 'attention', shape, variant: 'block backward', ms, gflops: (7 * mm + 2 * proj) / ms / 1e6 });
      for (const t of [qkv, dqkv, x, o, dO, lse, wqkv, bqkv, wout, bout, y, dx, dwq, dbq, dwo, dbo]) gpu.release(t);
    }

    const count = Number(opts.params ?? 699_811);
    const layout = new FlatLayout();
    layout.add('weights', [1, count]);
    const params = gpu.tensor([layout.size]);
    const grads = gpu.tensor([layout.size]);
    const opt = await AdamW.create(gpu, layout, params, grads, { lr: 1e-4, clipNorm: 1, warmupSteps: 100, weightDecay: 0.01, emaDecay: 0.999 });
    const ms = await time(opt.dispatches());
    // Reads grad twice (norm, update), reads and writes param, m, v, ema.
    const bytes = count * 4 * (2 + 2 * 4);
    emit({ bench: 'attention', shape: { params: count }, variant: 'adamw step (norm + update + ema)', ms, bytes, gbps: bytes / ms / 1e6 });
    const [partial, finalize, update] = opt.dispatches();
    const normMs = await time([partial!, finalize!]);
    emit({ bench: 'attention', shape: { params: count }, variant: 'adamw gradient-norm pass', ms: normMs, bytes: count * 4, gbps: (count * 4) / normMs / 1e6 });
    const updMs = await time([update!]);
    emit({ bench: 'attention', shape: { params: count }, variant: 'adamw update + ema', ms: updMs, bytes: count * 36, gbps: (count * 36) / updMs / 1e6 });
    for (const t of [params, grads, opt.m, opt.v, opt.ema]) gpu.release(t);
  },
};
