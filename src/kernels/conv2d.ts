// 2-D convolution (PyTorch semantics: cross-correlation, zero padding, NCHW, weight [cout, cin, k, k]):
// forward, input gradient and weight/bias gradient. The algorithms live one per file in
// src/kernels/conv2d/ behind one interface (algorithm.ts):
//   'direct'   register-blocked implicit GEMM, for CPU software adapters (direct.ts);
//   'tiled'    workgroup-memory implicit GEMM with split-K weight gradient, for GPUs (tiled.ts);
//   'gemm'     im2col + the matmul kernels (gemm.ts);
//   'winograd' F(2x2, 3x3) + batched matmuls for 3x3 stride-1 shapes, 'direct' elsewhere (winograd.ts).
// This file validates the tensors, picks an algorithm per (shape, pass) with the autotune (forced by
// `variant`; candidates.ts says which are timed where) and adds the bias gradient (reduce.ts).
import type { Gpu } from '../gpu/gpu.ts';
import { pickVariant, type Operands } from '../gpu/autotune.ts';
import type { Dispatch } from '../gpu/kernel.ts';
import type { Tensor } from '../gpu/tensor.ts';
import type { Conv2dAlgorithm, ForwardOperands } from './conv2d/algorithm.ts';
import { addChannelBias } from './channels.ts';
import { addInto } from './accumulate.ts';
import { ValueError } from '../gpu/errors.ts';
import { expectShape } from '../gpu/tensor.ts';
import { algorithmFor, candidates, CONV2D_VARIANTS, type Conv2dVariant } from './conv2d/candidates.ts';
import { biasGrad } from './conv2d/reduce.ts';
import { checkConvTensors, conv2dOutSize, shapeKey, type Conv2dShape } from './conv2d/shape.ts';

export { CONV2D_VARIANTS, CONV2D_ALGORITHMS, type Conv2dVariant } from './conv2d/candidates.ts';
export { conv2dOutSize, type Conv2dShape } from './conv2d/shape.ts';

/** The forced variant, else the autotuned choice among the candidates for this shape. */
async function choose<T extends Operands>(gpu: Gpu, key: string, s: Conv2dShape, operands: T, build: (a: Conv2dAlgorithm, g: Gpu, t: T) => Promise<Dispatch[]>, force?: string): Promise<Dispatch[]> {
  const names: readonly Conv2dVariant[] = force === undefined ? candidates(gpu, s) : CONV2D_VARIANTS;
  const variants = names.map((name) => ({ name, build: (g: Gpu, t: T) => build(algorithmFor(name, s), g, t) }));
  return (await pickVariant(gpu, key, variants, operands, force)).dispatches;
}

/** What the forward adds to its output besides the bias (its fused epilogue). */
export interface Conv2dEpilogue {
  /** [n, cout]: added to every pixel of (sample, channel), e.g. a residual block's time embedding. */
  channelBias?: Tensor | null;
  /** [n, cout, ho, wo]: added element by element, e.g. a residual block's skip connection. */
  residual?: Tensor | null;
}

/** y = conv(x, w) + b (+ the epilogue's per-sample channel bias and residual). */
export async function conv2dForward(gpu: Gpu, x: Tensor, w: Tensor, b: Tensor | null, y: Tensor, s: Conv2dShape, opts: { variant?: string; epilogue?: Conv2dEpilogue } = {}): Promise<Dispatch[]> {
  checkConvTensors(s, { x, w, b, y });
  const channelBias = opts.epilogue?.channelBias ?? null;
  const residual = opts.epilogue?.residual ?? null;
  if (channelBias) expectShape('conv2d epilogue channel bias [n, cout]', channelBias, [s.n, s.cout]);
  if (residual) {
    expectShape('conv2d epilogue residual [n, cout, ho, wo]', residual, y.shape);
    if (residual.buffer === y.buffer) throw new ValueError('conv2d epilogue: the residual must not share a buffer with the output y.');
  }
  const key = `conv2d.forward|${shapeKey(s)}${channelBias ? '|+cb' : ''}${residual ? '|+res' : ''}`;
  const build = async (a: Conv2dAlgorithm, g: Gpu, t: ForwardOperands): Promise<Dispatch[]> => {
    const ds = await a.forward(g, t, s);
    if (a.epilogue || (!t.channelBias && !t.residual)) return ds;
    // The algorithm does not fuse them: add them after it, in place.
    const { ho, wo } = conv2dOutSize(s);
    if (t.channelBias) ds.push(...(await addChannelBias(g, t.y, t.channelBias, t.y, { n: s.n, c: s.cout, hw: ho * wo })));
    if (t.residual) ds.push(await addInto(g, t.residual, t.y));
    return ds;
  };
  return choose(gpu, key, s, { x, w, b, y, channelBias, residual }, build, opts.variant);
}

/** dx = conv^T(dy, w), or dx += conv^T(dy, w) with `accumulate`. */
export async function conv2dBackwardInput(gpu: Gpu, dy: Tensor, w: Tensor, dx: Tensor, s: Conv2dShape, opts: { variant?: string; accumulate?: boolean } = {}): Promise<Dispatch[]> {
  checkConvTensors(s, { x: dx, w, y: dy });
  const accumulate = !!opts.accumulate;
  return choose(gpu, `conv2d.backwardInput|${shapeKey(s)}|${accumulate}`, s, { dy, w, dx }, (a, g, t) => a.backwardInput(g, t, s, accumulate), opts.variant);
}

/** dw = sum over n, oy, ox of dy * x window; db = sum of dy per channel. Both overwritten. */
export async function conv2dBackwardWeight(gpu: Gpu, x: Tensor, dy: Tensor, dw: Tensor, db: Tensor | null, s: Conv2dShape, opts: { variant?: string } = {}): Promise<Dispatch[]> {
  checkConvTensors(s, { x, w: dw, b: db, y: dy });
  const { ho, wo } = conv2dOutSize(s);
  const bias = db ? [await biasGrad(gpu, dy, db, s, ho * wo)] : [];
  const weight = await choose(gpu, `conv2d.backwardWeight|${shapeKey(s)}`, s, { x, dy, dw }, (a, g, t) => a.backwardWeight(g, t, s), opts.variant);
  return [...weight, ...bias];
}
