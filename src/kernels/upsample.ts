// Nearest-neighbour 2x upsampling and its backward (shaders/upsample.wgsl).
import type { Gpu } from '../gpu/gpu.ts';
import { grid1d, Params, type Dispatch } from '../gpu/kernel.ts';
import { ShapeError, ValueError } from '../gpu/errors.ts';
import type { Tensor } from '../gpu/tensor.ts';

const WG = 256;

/** Shape of the input x: [n, c, h, w]; the output is [n, c, 2h, 2w]. */
export interface Upsample2xShape {
  n: number;
  c: number;
  h: number;
  w: number;
}

function validate(what: string, small: Tensor, big: Tensor, s: Upsample2xShape): void {
  for (const [k, v] of Object.entries(s))
    if (!Number.isInteger(v) || v < 1) throw new ValueError(`${what} ${k} must be a positive integer, got ${v}`);
  const n = s.n * s.c * s.h * s.w;
  if (small.size !== n) throw new ShapeError(`${what} low-resolution tensor`, [s.n, s.c, s.h, s.w], small.shape);
  if (big.size !== 4 * n) throw new ShapeError(`${what} high-resolution tensor`, [s.n, s.c, 2 * s.h, 2 * s.w], big.shape);
}

/** y [n, c, 2h, 2w] = nearest 2x upsample of x [n, c, h, w]. */
export async function upsample2xForward(gpu: Gpu, x: Tensor, y: Tensor, s: Upsample2xShape): Promise<Dispatch[]> {
  validate('upsample2x', x, y, s);
  const p = gpu.uniform(new Params().u32(s.n * s.c, s.h, s.w), 'upsample2x:params');
  const k = await gpu.kernel({ shader: 'upsample', entry: 'upsample2x', bindings: ['uniform', 'read', 'rw'], flags: { ACCUMULATE: false }, constants: { WG } });
  return [k.bind([p, x, y], grid1d(y.size, WG), 'upsample2x')];
}

/** dx [n, c, h, w] (=, or += with `accumulate`) the sum of each 2x2 block of dy [n, c, 2h, 2w]. */
export async function upsample2xBackward(gpu: Gpu, dy: Tensor, dx: Tensor, s: Upsample2xShape, opts: { accumulate?: boolean } = {}): Promise<Dispatch[]> {
  validate('upsample2xBackward', dx, dy, s);
  const p = gpu.uniform(new Params().u32(s.n * s.c, s.h, s.w), 'upsample2x-backward:params');
  const k = await gpu.kernel({ shader: 'upsample', entry: 'upsample2x_backward', bindings: ['uniform', 'read', 'rw'], flags: { ACCUMULATE: !!opts.accumulate }, constants: { WG } });
  return [k.bind([p, dy, dx], grid1d(dx.size, WG), 'upsample2x-backward')];
}
