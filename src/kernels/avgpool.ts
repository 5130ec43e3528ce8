// Global average pooling [n, c, h, w] -> [n, c] and its backward (shaders/avgpool.wgsl): the step from
// a classifier's last feature maps to its feature vector.
import type { Gpu } from '../gpu/gpu.ts';
import { grid1d, Params, type Dispatch } from '../gpu/kernel.ts';
import { ShapeError, ValueError } from '../gpu/errors.ts';
import type { Tensor } from '../gpu/tensor.ts';

const WG = 64;

export interface AvgPoolShape {
  n: number;
  c: number;
  /** Spatial positions per plane (h * w). */
  hw: number;
}

function check(s: AvgPoolShape): void {
  for (const key of ['n', 'c', 'hw'] as const)
    if (!Number.isInteger(s[key]) || s[key] < 1) throw new ValueError(`average pooling ${key} must be a positive integer, got ${s[key]}`);
}

function expectSize(what: string, t: Tensor, n: number): void {
  if (t.size !== n) throw new ShapeError(what, `${n} elements`, t.shape);
}

/** y [n, c] = mean of x [n, c, hw] over hw. */
export async function avgPoolForward(gpu: Gpu, x: Tensor, y: Tensor, s: AvgPoolShape): Promise<Dispatch[]> {
  check(s);
  expectSize('average pooling x [n, c, h, w]', x, s.n * s.c * s.hw);
  expectSize('average pooling y [n, c]', y, s.n * s.c);
  const p = gpu.uniform(new Params().u32(s.n * s.c, s.hw), 'avgpool:params');
  const k = await gpu.kernel({ shader: 'avgpool', entry: 'avgpool_forward', bindings: ['uniform', 'read', 'rw'], flags: { ACCUMULATE: false }, constants: { WG } });
  return [k.bind([p, x, y], grid1d(s.n * s.c, WG), 'avgpool:forward')];
}

/** dx [n, c, hw] = dy [n, c] / hw broadcast (overwritten, or added with `accumulate`). */
export async function avgPoolBackward(gpu: Gpu, dy: Tensor, dx: Tensor, s: AvgPoolShape, opts: { accumulate?: boolean } = {}): Promise<Dispatch[]> {
  check(s);
  expectSize('average pooling dy [n, c]', dy, s.n * s.c);
  expectSize('average pooling dx [n, c, h, w]', dx, s.n * s.c * s.hw);
  const p = gpu.uniform(new Params().u32(s.n * s.c, s.hw), 'avgpool-backward:params');
  const k = await gpu.kernel({ shader: 'avgpool', entry: 'avgpool_backward', bindings: ['uniform', 'read', 'rw'], flags: { ACCUMULATE: !!opts.accumulate }, constants: { WG } });
  return [k.bind([p, dy, dx], grid1d(s.n * s.c * s.hw, WG), 'avgpool:backward')];
}
