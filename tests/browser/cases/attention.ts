// Browser cases for the attention kernels: forward and backward on the page's adapter (SwiftShader in
// headless Chromium), returning plain arrays for the Node side to compare with float64 references.
import { attentionBackward, attentionForward, type AttentionVariant } from '../../../src/kernels/attention.ts';
import type { BrowserCase } from './types.ts';

interface AttentionArgs {
  s: { n: number; c: number; L: number; heads: number };
  q: number[];
  k: number[];
  v: number[];
  dO: number[];
  variant?: AttentionVariant;
}

export const cases: Record<string, BrowserCase> = {
  async attention(gpu, { s, q, k, v, dO, variant }: AttentionArgs) {
    const shape = [s.n, s.c, s.L];
    const [tq, tk, tv, tdO] = [q, k, v, dO].map((a) => gpu.upload(Float32Array.from(a), shape));
    const o = gpu.tensor(shape);
    const lse = gpu.tensor([s.n, s.heads, s.L]);
    const [dq, dk, dv] = [0, 1, 2].map(() => gpu.tensor(shape));
    const fwd = await attentionForward(gpu, tq!, tk!, tv!, o, lse, s, { variant });
    const bwd = await attentionBackward(gpu, tq!, tk!, tv!, o, lse, tdO!, dq!, dk!, dv!, s, { variant });
    gpu.recorder().run(fwd).run(bwd).submit();
    const read = async (t: typeof o) => Array.from(await gpu.read(t));
    const out = { o: await read(o), lse: await read(lse), dq: await read(dq!), dk: await read(dk!), dv: await read(dv!) };
    for (const t of [tq, tk, tv, tdO, o, lse, dq, dk, dv]) gpu.release(t!);
    return out;
  },
};
