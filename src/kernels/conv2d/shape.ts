// What every convolution algorithm shares: the shape (PyTorch semantics: cross-correlation, zero
// padding, NCHW, weight [cout, cin, k, k]), its validation, the uniform block of
// shaders/conv2d_params.wgsl (packed by convParams in the same field order), the workgroup-count check
// and the autotune key.
import type { Gpu } from '../../gpu/gpu.ts';
import { LimitError, ShapeError, ValueError } from '../../gpu/errors.ts';
import { Params } from '../../gpu/kernel.ts';
import { expectShape, type Tensor } from '../../gpu/tensor.ts';

export interface Conv2dShape {
  n: number;
  cin: number;
  h: number;
  w: number;
  cout: number;
  k: 1 | 3;
  stride: 1 | 2;
  pad: number;
}

/** Output size with PyTorch's rounding: floor((h + 2 pad - k) / stride) + 1. */
export function conv2dOutSize(s: Conv2dShape): { ho: number; wo: number } {
  return { ho: Math.floor((s.h + 2 * s.pad - s.k) / s.stride) + 1, wo: Math.floor((s.w + 2 * s.pad - s.k) / s.stride) + 1 };
}

function validate(s: Conv2dShape): { ho: number; wo: number } {
  const dims = [s.n, s.cin, s.h, s.w, s.cout];
  if (!dims.every((d) => Number.isInteger(d) && d >= 1)) throw new ShapeError('conv2d shape (n, cin, h, w, cout)', 'positive integers', dims);
  if (s.k !== 1 && s.k !== 3) throw new ValueError(`conv2d kernel size must be 1 or 3, got ${s.k}`);
  if (s.stride !== 1 && s.stride !== 2) throw new ValueError(`conv2d stride must be 1 or 2, got ${s.stride}`);
  if (!Number.isInteger(s.pad) || s.pad < 0) throw new ValueError(`conv2d pad must be a non-negative integer, got ${s.pad}`);
  const out = conv2dOutSize(s);
  if (out.ho < 1 || out.wo < 1) throw new ShapeError(`conv2d output of a ${s.h}x${s.w} input (k ${s.k}, stride ${s.stride}, pad ${s.pad})`, 'at least 1x1', [out.ho, out.wo]);
  return out;
}

/** Validates the shape and every tensor given against it (ShapeError / ValueError naming the bad one). */
export function checkConvTensors(s: Conv2dShape, t: { x?: Tensor; w?: Tensor; b?: Tensor | null; y?: Tensor }): void {
  const { ho, wo } = validate(s);
  if (t.x) expectShape('conv2d input x [n, cin, h, w]', t.x, [s.n, s.cin, s.h, s.w]);
  if (t.w) expectShape('conv2d weight [cout, cin, k, k]', t.w, [s.cout, s.cin, s.k, s.k]);
  if (t.b) expectShape('conv2d bias [cout]', t.b, [s.cout]);
  if (t.y) expectShape('conv2d output [n, cout, ho, wo]', t.y, [s.n, s.cout, ho, wo]);
}

/** The Params struct of shaders/conv2d_params.wgsl. */
export function convParams(s: Conv2dShape, extra: { accumulate?: boolean; hasBias?: boolean; splits?: number; kchunk?: number } = {}): Params {
  const { ho, wo } = conv2dOutSize(s);
  return new Params()
    .u32(s.n, s.cin, s.h, s.w, s.cout, ho, wo, s.k)
    .u32(s.stride, s.pad, extra.accumulate ? 1 : 0, extra.hasBias ? 1 : 0)
    .u32(extra.splits ?? 1, extra.kchunk ?? 0, 0, 0);
}

/** The workgroup grid, or a LimitError naming the setting to lower. */
export function checkGrid(gpu: Gpu, grid: readonly number[], what: string): [number, number, number] {
  const max = gpu.limits.maxComputeWorkgroupsPerDimension;
  for (const g of grid) if (g > max) throw new LimitError(`maxComputeWorkgroupsPerDimension (${what})`, g, max, 'the batch size or image size');
  return [grid[0]!, grid[1]!, grid[2]!];
}

/** The autotune key of a shape. */
export const shapeKey = (s: Conv2dShape) => `${s.n}x${s.cin}x${s.h}x${s.w}->${s.cout} k${s.k}s${s.stride}p${s.pad}`;

/** Preprocessor flags selecting one pass in the shaders that hold all three. */
export const PASS_FLAGS = {
  FORWARD: { FORWARD: true, DGRAD: false, WGRAD: false },
  DGRAD: { FORWARD: false, DGRAD: true, WGRAD: false },
  WGRAD: { FORWARD: false, DGRAD: false, WGRAD: true },
} as const;

/** Pipeline constants: kernel size, stride and padding, so the tap loops unroll. */
export const shapeConstants = (s: Conv2dShape) => ({ KS: s.k, ST: s.stride, PD: s.pad });

export const roundUp = (v: number, m: number) => Math.ceil(v / m) * m;

/** A 1x1, stride-1, unpadded convolution: its unfolded matrix is the input itself. */
export const isPointwise = (s: Conv2dShape) => s.k === 1 && s.stride === 1 && s.pad === 0;
