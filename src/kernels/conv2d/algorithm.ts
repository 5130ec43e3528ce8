// The one interface every convolution algorithm implements (direct.ts, tiled.ts, gemm.ts,
// winograd.ts). src/kernels/conv2d.ts validates the tensors, picks an algorithm per shape and pass
// (autotune) and adds the bias gradient; an algorithm only builds the dispatches of one pass for
// tensors that are already checked. What it allocates (uniforms, split-K partials) belongs to the
// `gpu` scope it is given; scratch matrices are leased from the device's shared scratch
// (gpu.scratch) by role, so that every convolution on a device uses the same few matrices.
import type { Gpu } from '../../gpu/gpu.ts';
import type { Dispatch } from '../../gpu/kernel.ts';
import type { Tensor } from '../../gpu/tensor.ts';
import type { Conv2dShape } from './shape.ts';
import type { MatmulVariant } from '../matmul.ts';

export type ForwardOperands = { x: Tensor; w: Tensor; b: Tensor | null; y: Tensor };
export type BackwardInputOperands = { dy: Tensor; w: Tensor; dx: Tensor };
export type BackwardWeightOperands = { x: Tensor; dy: Tensor; dw: Tensor };

/** Choices passed down to the kernels an algorithm builds on. */
export interface AlgorithmOptions {
  /** Force the matmul variant of the algorithms that multiply matrices ('gemm', 'winograd'). */
  matmul?: MatmulVariant;
}

export interface Conv2dAlgorithm {
  readonly name: string;
  /** Whether it computes this shape itself (the op falls back to 'direct' where it does not). */
  applies(s: Conv2dShape): boolean;
  /** Floats of the largest scratch matrix one of its passes binds (0: it needs none). */
  scratchFloats(s: Conv2dShape): number;
  /** y = conv(x, w) + b. */
  forward(gpu: Gpu, t: ForwardOperands, s: Conv2dShape, o?: AlgorithmOptions): Promise<Dispatch[]>;
  /** dx = conv^T(dy, w), or dx += with `accumulate`. */
  backwardInput(gpu: Gpu, t: BackwardInputOperands, s: Conv2dShape, accumulate: boolean, o?: AlgorithmOptions): Promise<Dispatch[]>;
  /** dw = sum over n, oy, ox of dy * x window (overwritten). */
  backwardWeight(gpu: Gpu, t: BackwardWeightOperands, s: Conv2dShape, o?: AlgorithmOptions): Promise<Dispatch[]>;
}
