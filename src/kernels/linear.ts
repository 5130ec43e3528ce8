// Dense layer y = x w^T + b (the time-embedding MLP) as what it is: a 1x1 convolution of n images of
// 1x1 pixels with `in` channels. The engine has one 1x1 linear map, the convolution's (k = 1), with
// its variants and autotune (src/kernels/conv2d.ts); this file only reshapes the PyTorch Linear
// layouts x [n, in], w [out, in], y [n, out] onto it.
import type { Gpu } from '../gpu/gpu.ts';
import type { Dispatch } from '../gpu/kernel.ts';
import { ShapeError, ValueError } from '../gpu/errors.ts';
import type { Tensor } from '../gpu/tensor.ts';
import { conv2dBackwardInput, conv2dBackwardWeight, conv2dForward, type Conv2dOptions, type Conv2dShape } from './conv2d.ts';

export interface LinearShape {
  n: number;
  in: number;
  out: number;
}

function validate(what: string, s: LinearShape, tensors: [string, Tensor | null, number][]): Conv2dShape {
  for (const k of ['n', 'in', 'out'] as const)
    if (!Number.isInteger(s[k]) || s[k] < 1) throw new ValueError(`${what} ${k} must be a positive integer, got ${s[k]}`);
  for (const [name, t, n] of tensors) if (t && t.size !== n) throw new ShapeError(`${what} ${name}`, `${n} elements`, t.shape);
  return { n: s.n, cin: s.in, h: 1, w: 1, cout: s.out, k: 1, stride: 1, pad: 0 };
}

/** The [rows, features] tensor as rows images of features channels and 1x1 pixels. */
const asImages = (t: Tensor, rows: number, features: number) => t.reshape([rows, features, 1, 1]);

/** y [n, out] = x [n, in] w^T (w [out, in]) + b [out] (b may be null). */
export async function linearForward(gpu: Gpu, x: Tensor, w: Tensor, b: Tensor | null, y: Tensor, s: LinearShape, opts: Conv2dOptions = {}): Promise<Dispatch[]> {
  const c = validate('linear', s, [['x', x, s.n * s.in], ['w', w, s.out * s.in], ['b', b, s.out], ['y', y, s.n * s.out]]);
  return conv2dForward(gpu, asImages(x, s.n, s.in), asImages(w, s.out, s.in), b?.reshape([s.out]) ?? null, asImages(y, s.n, s.out), c, opts);
}

/**
 * Gradients of linearForward: dx [n, in] (skipped when null; added to with `accumulate`), dw [out, in]
 * and db [out] (overwritten; db skipped when null).
 */
export async function linearBackward(
  gpu: Gpu,
  x: Tensor,
  w: Tensor,
  dy: Tensor,
  dx: Tensor | null,
  dw: Tensor,
  db: Tensor | null,
  s: LinearShape,
  opts: Conv2dOptions & { accumulate?: boolean } = {},
): Promise<Dispatch[]> {
  const c = validate('linear backward', s, [['x', x, s.n * s.in], ['w', w, s.out * s.in], ['dy', dy, s.n * s.out], ['dx', dx, s.n * s.in], ['dw', dw, s.out * s.in], ['db', db, s.out]]);
  const dy4 = asImages(dy, s.n, s.out);
  const out: Dispatch[] = [];
  if (dx) out.push(...(await conv2dBackwardInput(gpu, dy4, asImages(w, s.out, s.in), asImages(dx, s.n, s.in), c, { ...opts })));
  out.push(...(await conv2dBackwardWeight(gpu, asImages(x, s.n, s.in), dy4, asImages(dw, s.out, s.in), db?.reshape([s.out]) ?? null, c, { variant: opts.variant, matmul: opts.matmul })));
  return out;
}
