// 'gemm' (shaders/conv2d_gemm.wgsl + src/kernels/matmul.ts): explicit GEMM on a scratch matrix of
// unfolded windows (im2col) with the matmul's register blocks. On lavapipe it measured 1.0-2.4x
// slower than 'direct' at the 3x3 stride-1 U-Net shapes (both are bound by arithmetic, not loads, and
// im2col adds traffic) but up to 1.3x faster at some stride-2 ones; on SwiftShader it is the fastest
// weight gradient at some shapes. A 1x1 stride-1 unpadded convolution needs no unfolding.
import type { Gpu } from '../../gpu/gpu.ts';
import { grid1d, type Dispatch } from '../../gpu/kernel.ts';
import type { Tensor } from '../../gpu/tensor.ts';
import { matmul } from '../matmul.ts';
import type { Conv2dAlgorithm } from './algorithm.ts';
import { checkGrid, conv2dOutSize, convParams, isPointwise, shapeConstants, type Conv2dShape } from './shape.ts';
import { sumParts } from './reduce.ts';

const WG = 64;

/** One dispatch of shaders/conv2d_gemm.wgsl (`entry` over `count` invocations), bound to [src, dst]. */
async function helper(gpu: Gpu, entry: 'im2col' | 'col2im' | 'add_bias', s: Conv2dShape, [src, dst]: [Tensor, Tensor], count: number, accumulate = false): Promise<Dispatch> {
  const k = await gpu.kernel({ shader: 'conv2d_gemm', entry, bindings: ['uniform', 'read', 'rw'], constants: { WG, ...shapeConstants(s) } });
  const u = gpu.uniform(convParams(s, { accumulate }), `conv2d.${entry}:params`);
  return k.bind([u, src, dst], checkGrid(gpu, grid1d(count, WG), `conv2d ${entry}`), `conv2d.gemm.${entry}`);
}

/** The unfolded windows col[n][K, ho*wo] of x (x itself for a pointwise convolution), and the im2col dispatch if one is needed. */
async function unfold(gpu: Gpu, x: Tensor, s: Conv2dShape): Promise<{ col: Tensor; im2col: Dispatch[] }> {
  const { ho, wo } = conv2dOutSize(s);
  const K = s.cin * s.k * s.k;
  if (isPointwise(s)) return { col: x.reshape([s.n, K, ho * wo]), im2col: [] };
  const col = gpu.scratch('col', [s.n, K, ho * wo]);
  return { col, im2col: [await helper(gpu, 'im2col', s, [x, col], s.n * s.cin * ho * wo)] };
}

export const gemm: Conv2dAlgorithm = {
  name: 'gemm',
  applies: () => true,
  scratchFloats(s) {
    const { ho, wo } = conv2dOutSize(s);
    return s.n * s.cin * s.k * s.k * Math.max(ho * wo, s.cout);
  },

  async forward(gpu, { x, w, b, y }, s, o = {}) {
    // y[n] = W[cout, K] @ col[n][K, ho*wo]: the output comes out NCHW directly.
    const { ho, wo } = conv2dOutSize(s);
    const K = s.cin * s.k * s.k;
    const { col, im2col } = await unfold(gpu, x, s);
    const out: Dispatch[] = [...im2col, ...(await matmul(gpu, w.reshape([s.cout, K]), col, y.reshape([s.n, s.cout, ho * wo]), { variant: o.matmul }))];
    if (b) out.push(await helper(gpu, 'add_bias', s, [b, y], s.n * s.cout * ho * wo));
    return out;
  },

  async backwardInput(gpu, { dy, w, dx }, s, accumulate, o = {}) {
    // dcol[n] = W^T[K, cout] @ dy[n][cout, ho*wo], then each input pixel gathers its taps (col2im).
    const { ho, wo } = conv2dOutSize(s);
    const K = s.cin * s.k * s.k;
    const dym = dy.reshape([s.n, s.cout, ho * wo]);
    const wm = w.reshape([s.cout, K]);
    if (isPointwise(s) && !accumulate) return matmul(gpu, wm, dym, dx.reshape([s.n, s.cin, ho * wo]), { transA: true, variant: o.matmul });
    const dcol = gpu.scratch('col', [s.n, K, ho * wo]);
    const mm = await matmul(gpu, wm, dym, dcol, { transA: true, variant: o.matmul });
    return [...mm, await helper(gpu, 'col2im', s, [dcol, dx], s.n * s.cin * s.h * s.w, accumulate)];
  },

  async backwardWeight(gpu, { x, dy, dw }, s, o = {}) {
    // Per image dW_n[cout, K] = dy[n][cout, ho*wo] @ col[n]^T, then a sum over the batch.
    const { ho, wo } = conv2dOutSize(s);
    const K = s.cin * s.k * s.k;
    const P = ho * wo;
    const { col, im2col } = await unfold(gpu, x, s);
    if (s.n === 1) return [...im2col, ...(await matmul(gpu, dy.reshape([s.cout, P]), col.reshape([K, P]), dw.reshape([s.cout, K]), { transB: true, variant: o.matmul }))];
    const part = gpu.scratch('perImage', [s.n, s.cout, K]);
    return [...im2col, ...(await matmul(gpu, dy.reshape([s.n, s.cout, P]), col, part, { transB: true, variant: o.matmul })), await sumParts(gpu, part, dw, s.n, s.cout * K, 'conv2d.sumImages')];
  },
};
