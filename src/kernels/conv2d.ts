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
import type { Conv2dAlgorithm } from './conv2d/algorithm.ts';
import { algorithmFor, candidates, CONV2D_VARIANTS, type Conv2dVariant } from './conv2d/candidates.ts';
import { biasGrad } from './conv2d/reduce.ts';
import { checkConvTensors, conv2dOutSize, shapeKey, type Conv2dShape } from './conv2d/shape.ts';
import type { MatmulVariant } from './matmul.ts';

export { CONV2D_VARIANTS, CONV2D_ALGORITHMS, type Conv2dVariant } from './conv2d/candidates.ts';
export { conv2dOutSize, type Conv2dShape } from './conv2d/shape.ts';

/** The forced variant, else the autotuned choice among the candidates for this shape. */
async function choose<T extends Operands>(gpu: Gpu, key: string, s: Conv2dShape, operands: T, build: (a: Conv2dAlgorithm, g: Gpu, t: T) => Promise<Dispatch[]>, force?: string): Promise<Dispatch[]> {
  const names: readonly Conv2dVariant[] = force === undefined ? candidates(gpu, s) : CONV2D_VARIANTS;
  const variants = names.map((name) => ({ name, build: (g: Gpu, t: T) => build(algorithmFor(name, s), g, t) }));
  return (await pickVariant(gpu, key, variants, operands, force)).dispatches;
}

export interface Conv2dOptions {
  /** Force the algorithm (tests run every one); default: the autotuned choice for the shape. */
  variant?: string;
  /** Force the matmul variant inside 'gemm' and 'winograd'. */
  matmul?: MatmulVariant;
}

/** y = conv(x, w) + b. */
export async function conv2dForward(gpu: Gpu, x: Tensor, w: Tensor, b: Tensor | null, y: Tensor, s: Conv2dShape, opts: Conv2dOptions = {}): Promise<Dispatch[]> {
  checkConvTensors(s, { x, w, b, y });
  return choose(gpu, `conv2d.forward|${shapeKey(s)}`, s, { x, w, b, y }, (a, g, t) => a.forward(g, t, s, opts), opts.variant);
}

/** dx = conv^T(dy, w), or dx += conv^T(dy, w) with `accumulate`. */
export async function conv2dBackwardInput(gpu: Gpu, dy: Tensor, w: Tensor, dx: Tensor, s: Conv2dShape, opts: Conv2dOptions & { accumulate?: boolean } = {}): Promise<Dispatch[]> {
  checkConvTensors(s, { x: dx, w, y: dy });
  const accumulate = !!opts.accumulate;
  return choose(gpu, `conv2d.backwardInput|${shapeKey(s)}|${accumulate}`, s, { dy, w, dx }, (a, g, t) => a.backwardInput(g, t, s, accumulate, opts), opts.variant);
}

/** dw = sum over n, oy, ox of dy * x window; db = sum of dy per channel. Both overwritten. */
export async function conv2dBackwardWeight(gpu: Gpu, x: Tensor, dy: Tensor, dw: Tensor, db: Tensor | null, s: Conv2dShape, opts: Conv2dOptions = {}): Promise<Dispatch[]> {
  checkConvTensors(s, { x, w: dw, b: db, y: dy });
  const { ho, wo } = conv2dOutSize(s);
  const bias = db ? [await biasGrad(gpu, dy, db, s, ho * wo)] : [];
  const weight = await choose(gpu, `conv2d.backwardWeight|${shapeKey(s)}`, s, { x, dy, dw }, (a, g, t) => a.backwardWeight(g, t, s, opts), opts.variant);
  return [...weight, ...bias];
}
