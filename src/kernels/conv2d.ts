// 2-D convolution (PyTorch semantics: cross-correlation, zero padding, NCHW, weight [cout, cin, k, k]):
// forward, input gradient and weight/bias gradient. The algorithms live one per file in
// src/kernels/conv2d/ behind one interface (algorithm.ts):
//   'direct'   register-blocked implicit GEMM, for CPU software adapters (direct.ts);
//   'tiled'    workgroup-memory implicit GEMM with split-K weight gradient, for GPUs (tiled.ts);
//   'gemm'     im2col + the matmul kernels (gemm.ts);
//   'winograd' F(2x2, 3x3) + batched matmuls for 3x3 stride-1 shapes, 'direct' elsewhere (winograd.ts).
//   'winograd4' F(4x4, 3x3), 36 batched products per tile, same shapes (winograd.ts).
// This file validates the tensors, picks an algorithm per (shape, pass) with the autotune (forced by
// `variant`; candidates.ts says which are timed where) and adds the bias gradient (reduce.ts).
import type { Gpu } from '../gpu/gpu.ts';
import { pickVariant, type Operands } from '../gpu/autotune.ts';
import type { Dispatch } from '../gpu/kernel.ts';
import type { Tensor } from '../gpu/tensor.ts';
import type { BackwardWeightOperands, Conv2dAlgorithm, ForwardOperands, NormPrologue } from './conv2d/algorithm.ts';
import { groupNormApply } from './groupnorm.ts';
import { addChannelBias } from './channels.ts';
import { addInto } from './accumulate.ts';
import { ValueError } from '../gpu/errors.ts';
import { expectShape } from '../gpu/tensor.ts';
import { algorithmFor, candidates, CONV2D_VARIANTS, type Conv2dVariant } from './conv2d/candidates.ts';
import { biasGrad } from './conv2d/reduce.ts';
import { checkConvTensors, conv2dOutSize, shapeKey, type Conv2dShape } from './conv2d/shape.ts';
import type { MatmulVariant } from './matmul.ts';

export { CONV2D_VARIANTS, CONV2D_ALGORITHMS, type Conv2dVariant } from './conv2d/candidates.ts';
export { conv2dOutSize, type Conv2dShape } from './conv2d/shape.ts';
export type { NormPrologue } from './conv2d/algorithm.ts';

/** The forced variant, else the autotuned choice among the candidates for this shape. */
async function choose<T extends Operands>(gpu: Gpu, key: string, s: Conv2dShape, operands: T, build: (a: Conv2dAlgorithm, g: Gpu, t: T) => Promise<Dispatch[]>, force?: string): Promise<Dispatch[]> {
  const names: readonly Conv2dVariant[] = force === undefined ? candidates(gpu, s) : CONV2D_VARIANTS;
  const variants = names.map((name) => ({ name, build: (g: Gpu, t: T) => build(algorithmFor(name, s), g, t) }));
  return (await pickVariant(gpu, key, variants, operands, force)).dispatches;
}

export interface Conv2dOptions {
  /** Force the algorithm (tests run every one); default: the autotuned choice for the shape. */
  variant?: string;
  /** Force the matmul variant inside 'gemm', 'winograd' and 'winograd4'. */
  matmul?: MatmulVariant;
}

/** What the forward adds to its output besides the bias (its fused epilogue). */
export interface Conv2dEpilogue {
  /** [n, cout]: added to every pixel of (sample, channel), e.g. a residual block's time embedding. */
  channelBias?: Tensor | null;
  /** [n, cout, ho, wo]: added element by element, e.g. a residual block's skip connection. */
  residual?: Tensor | null;
}

/** y = conv(x', w) + b (+ the epilogue's per-sample channel bias and residual), where x' is x, or with
 *  a prologue the GroupNorm of x applied as it is read. */
export async function conv2dForward(
  gpu: Gpu,
  x: Tensor,
  w: Tensor,
  b: Tensor | null,
  y: Tensor,
  s: Conv2dShape,
  opts: Conv2dOptions & { epilogue?: Conv2dEpilogue; prologue?: NormPrologue | null } = {},
): Promise<Dispatch[]> {
  checkConvTensors(s, { x, w, b, y });
  const channelBias = opts.epilogue?.channelBias ?? null;
  const residual = opts.epilogue?.residual ?? null;
  if (channelBias) expectShape('conv2d epilogue channel bias [n, cout]', channelBias, [s.n, s.cout]);
  if (residual) {
    expectShape('conv2d epilogue residual [n, cout, ho, wo]', residual, y.shape);
    if (residual.buffer === y.buffer) throw new ValueError('conv2d epilogue: the residual must not share a buffer with the output y.');
  }
  const prologue = checkPrologue(s, opts.prologue);
  const key = `conv2d.forward|${shapeKey(s)}${channelBias ? '|+cb' : ''}${residual ? '|+res' : ''}${prologueKey(prologue)}`;
  type Ops = ForwardOperands & { coef: Tensor | null };
  const build = async (a: Conv2dAlgorithm, g: Gpu, t: Ops): Promise<Dispatch[]> => {
    const { ho, wo } = conv2dOutSize(s);
    const { input, norm, pre } = await normalizedInput(a, g, t.x, t.coef, prologue, s);
    const ds = [...pre, ...(await a.forward(g, { ...t, x: input, norm }, s, opts))];
    if (a.epilogue || (!t.channelBias && !t.residual)) return ds;
    // The algorithm does not fuse them: add them after it, in place.
    if (t.channelBias) ds.push(...(await addChannelBias(g, t.y, t.channelBias, t.y, { n: s.n, c: s.cout, hw: ho * wo })));
    if (t.residual) ds.push(await addInto(g, t.residual, t.y));
    return ds;
  };
  return choose(gpu, key, s, { x, w, b, y, channelBias, residual, coef: prologue?.coef ?? null }, build, opts.variant);
}

function checkPrologue(s: Conv2dShape, p: NormPrologue | null | undefined): NormPrologue | null {
  if (!p) return null;
  expectShape('conv2d prologue GroupNorm coefficients [n, cin, 2]', p.coef, [s.n, s.cin, 2]);
  return p;
}

const prologueKey = (p: NormPrologue | null) => (p ? `|+norm${p.silu ? '+silu' : ''}` : '');

/**
 * The input an algorithm reads and the prologue it applies: with a prologue and an algorithm that
 * cannot apply it, the normalised input is formed first in scratch (shared by role and size: it is
 * read by the very next dispatches) and the algorithm reads that.
 */
async function normalizedInput(a: Conv2dAlgorithm, g: Gpu, x: Tensor, coef: Tensor | null, p: NormPrologue | null, s: Conv2dShape): Promise<{ input: Tensor; norm: NormPrologue | null; pre: Dispatch[] }> {
  if (!p || !coef) return { input: x, norm: null, pre: [] };
  const norm = { coef, silu: p.silu };
  if (a.prologue) return { input: x, norm, pre: [] };
  const input = g.scratch('conv2d.normalized', x.shape);
  return { input, norm: null, pre: [await groupNormApply(g, x, coef, input, { n: s.n, c: s.cin, hw: s.h * s.w, silu: p.silu })] };
}

/** dx = conv^T(dy, w), or dx += conv^T(dy, w) with `accumulate`. */
export async function conv2dBackwardInput(gpu: Gpu, dy: Tensor, w: Tensor, dx: Tensor, s: Conv2dShape, opts: Conv2dOptions & { accumulate?: boolean } = {}): Promise<Dispatch[]> {
  checkConvTensors(s, { x: dx, w, y: dy });
  const accumulate = !!opts.accumulate;
  return choose(gpu, `conv2d.backwardInput|${shapeKey(s)}|${accumulate}`, s, { dy, w, dx }, (a, g, t) => a.backwardInput(g, t, s, accumulate, opts), opts.variant);
}

/** dw = sum over n, oy, ox of dy * x' window (x' as in conv2dForward); db = sum of dy per channel. Both overwritten. */
export async function conv2dBackwardWeight(gpu: Gpu, x: Tensor, dy: Tensor, dw: Tensor, db: Tensor | null, s: Conv2dShape, opts: Conv2dOptions & { prologue?: NormPrologue | null } = {}): Promise<Dispatch[]> {
  checkConvTensors(s, { x, w: dw, b: db, y: dy });
  const { ho, wo } = conv2dOutSize(s);
  const prologue = checkPrologue(s, opts.prologue);
  const bias = db ? [await biasGrad(gpu, dy, db, s, ho * wo)] : [];
  const build = async (a: Conv2dAlgorithm, g: Gpu, t: BackwardWeightOperands & { coef: Tensor | null }): Promise<Dispatch[]> => {
    const { input, norm, pre } = await normalizedInput(a, g, t.x, t.coef, prologue, s);
    return [...pre, ...(await a.backwardWeight(g, { ...t, x: input, norm }, s, opts))];
  };
  const weight = await choose(gpu, `conv2d.backwardWeight|${shapeKey(s)}${prologueKey(prologue)}`, s, { x, dy, dw, coef: prologue?.coef ?? null }, build, opts.variant);
  return [...weight, ...bias];
}
