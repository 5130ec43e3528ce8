// Per-position linear maps over [n, c, L] feature maps (shaders/projection.wgsl): the 1x1 QKV
// projection (w [3c, c]) and output projection (w [c, c]) of an attention block, PyTorch linear layout
// (w [out, in], bias [out]). Equivalent to a 1x1 convolution with weight [out, in, 1, 1].
// Variants: 'tiled' (GPUs) and 'direct' (CPU adapters); without opts.variant the first build times
// both once (running the kernels on whatever the buffers hold) and caches the faster per shape.
import type { Gpu } from '../gpu/gpu.ts';
import { grid1d, Params, type Dispatch } from '../gpu/kernel.ts';
import { LimitError, ShapeError, ValueError } from '../gpu/errors.ts';
import { sameShape, type Tensor } from '../gpu/tensor.ts';
import { pickVariant, type Operands } from '../gpu/autotune.ts';

export interface ProjectionShape {
  n: number;
  cin: number;
  cout: number;
  /** Positions per sample (h*w). */
  L: number;
}

export const PROJECTION_VARIANTS = ['tiled', 'direct'] as const;
export type ProjectionVariant = (typeof PROJECTION_VARIANTS)[number];

export interface ProjectionOptions {
  /** 'tiled': shared-memory tiles (GPUs); 'direct': one invocation per output, no barriers (CPU adapters). Default: timed once. */
  variant?: ProjectionVariant;
}

export interface ProjectionBackwardOptions extends ProjectionOptions {
  /** Add the input gradient into dx instead of overwriting it (dw, db are always overwritten). */
  accumulate?: boolean;
}

/** Tile edge: T x T = 256 invocations, SwiftShader's maximum. */
const T = 16;

function check(s: ProjectionShape, x: Tensor, w: Tensor): void {
  for (const k of ['n', 'cin', 'cout', 'L'] as const)
    if (!Number.isInteger(s[k]) || s[k] < 1) throw new ValueError(`projection ${k} must be a positive integer, got ${s[k]}`);
  if (!sameShape(x.shape, [s.n, s.cin, s.L])) throw new ShapeError('projection input x', [s.n, s.cin, s.L], x.shape);
  if (!sameShape(w.shape, [s.cout, s.cin])) throw new ShapeError('projection weight w', [s.cout, s.cin], w.shape);
  if (s.n > 65535) throw new LimitError('maxComputeWorkgroupsPerDimension (projection batch)', s.n, 65535, 'the batch size');
}

interface Product {
  M: number;
  N: number;
  K: number;
  kIn: number;
  a: [z: number, m: number, ko: number, ki: number];
  b: [z: number, n: number, ko: number, ki: number];
  c: [z: number, m: number];
  Z: number;
}

function productParams(gpu: Gpu, g: Product, label: string): GPUBuffer {
  return gpu.uniform(new Params().u32(g.M, g.N, g.K, g.kIn, ...g.a, ...g.b, ...g.c, g.Z, 0), label);
}

async function product(gpu: Gpu, g: Product, a: Tensor, b: Tensor, bias: Tensor | null, out: Tensor, accumulate: boolean, label: string, variant: ProjectionVariant): Promise<Dispatch> {
  const direct = variant === 'direct';
  const k = await gpu.kernel({
    shader: 'projection',
    entry: direct ? 'matmul_direct' : 'matmul',
    bindings: ['uniform', 'read', 'read', 'read', 'rw'],
    flags: { HAS_BIAS: !!bias, ACCUMULATE: accumulate },
    constants: { T },
  });
  const groups = direct ? [Math.ceil(g.N / 64), g.M, g.Z] : [Math.ceil(g.N / T), Math.ceil(g.M / T), g.Z];
  return k.bind([productParams(gpu, g, label), a, b, bias ?? a, out], groups, `${label} (${variant})`);
}

function choose<T extends Operands>(gpu: Gpu, key: string, variant: ProjectionVariant | undefined, operands: T, build: (g: Gpu, v: ProjectionVariant, t: T) => Promise<Dispatch[]>): Promise<Dispatch[]> {
  if (variant !== undefined && !PROJECTION_VARIANTS.includes(variant)) throw new ValueError(`Unknown projection variant ${variant}; known: ${PROJECTION_VARIANTS.join(', ')}`);
  return pickVariant(gpu, key, PROJECTION_VARIANTS.map((name) => ({ name, build: (g: Gpu, t: T) => build(g, name, t) })), operands, variant).then((c) => c.dispatches);
}

const shapeKey = (s: ProjectionShape) => `${s.n}x${s.cin}->${s.cout}x${s.L}`;

/** y [n, cout, L] = w [cout, cin] x [n, cin, L] + b [cout] at every position. */
export async function projectionForward(gpu: Gpu, x: Tensor, w: Tensor, b: Tensor, y: Tensor, s: ProjectionShape, opts: ProjectionOptions = {}): Promise<Dispatch[]> {
  check(s, x, w);
  const { n, cin, cout, L } = s;
  if (b.size !== cout) throw new ShapeError('projection bias', [cout], b.shape);
  if (!sameShape(y.shape, [n, cout, L])) throw new ShapeError('projection output y', [n, cout, L], y.shape);
  const g: Product = { M: cout, N: L, K: cin, kIn: cin, a: [0, cin, 0, 1], b: [cin * L, 1, 0, L], c: [cout * L, L], Z: n };
  return choose(gpu, `projection-forward:${shapeKey(s)}`, opts.variant, { w, x, b, y }, async (gg, v, t) => [await product(gg, g, t.w, t.x, t.b, t.y, false, 'projection forward', v)]);
}

/**
 * Gradients of y = w x + b: dx [n, cin, L] (skipped when null; added into with opts.accumulate),
 * dw [cout, cin] and db [cout] (overwritten: each parameter is used once per step).
 */
export async function projectionBackward(
  gpu: Gpu,
  x: Tensor,
  w: Tensor,
  dy: Tensor,
  dx: Tensor | null,
  dw: Tensor,
  db: Tensor,
  s: ProjectionShape,
  opts: ProjectionBackwardOptions = {},
): Promise<Dispatch[]> {
  check(s, x, w);
  const { n, cin, cout, L } = s;
  if (!sameShape(dy.shape, [n, cout, L])) throw new ShapeError('projection output gradient dy', [n, cout, L], dy.shape);
  if (dx && !sameShape(dx.shape, [n, cin, L])) throw new ShapeError('projection input gradient dx', [n, cin, L], dx.shape);
  if (!sameShape(dw.shape, [cout, cin])) throw new ShapeError('projection weight gradient dw', [cout, cin], dw.shape);
  if (db.size !== cout) throw new ShapeError('projection bias gradient db', [cout], db.shape);
  const kb = await gpu.kernel({ shader: 'projection', entry: 'bias_grad', bindings: ['uniform', 'read', 'read', 'read', 'rw'], flags: { HAS_BIAS: false, ACCUMULATE: false } });
  const gb: Product = { M: cout, N: L, K: 0, kIn: 1, a: [0, 0, 0, 0], b: [0, 0, 0, 0], c: [cout * L, L], Z: n };
  // dx[b] = w^T dy[b]: A(m = i, k = o) = w[o, i].
  const gx: Product = { M: cin, N: L, K: cout, kIn: cout, a: [0, 1, 0, cin], b: [cout * L, 1, 0, L], c: [cin * L, L], Z: n };
  // dw = sum over (b, l) of dy[b, o, l] x[b, i, l]: K = n * L split as (b, l).
  const gw: Product = { M: cout, N: cin, K: n * L, kIn: L, a: [0, L, cout * L, 1], b: [0, L, cin * L, 1], c: [0, cin], Z: 1 };
  return choose(gpu, `projection-backward:${shapeKey(s)}${dx ? '' : ':nodx'}`, opts.variant, { x, w, dy, dx, dw, db }, async (g, v, t) => {
    const ds: Dispatch[] = [];
    if (t.dx) ds.push(await product(g, gx, t.w, t.dy, null, t.dx, !!opts.accumulate, 'projection dx', v));
    ds.push(await product(g, gw, t.dy, t.x, null, t.dw, false, 'projection dw', v));
    ds.push(kb.bind([productParams(g, gb, 'projection db'), t.dy, t.dy, t.dy, t.db], grid1d(cout, 64), 'projection db'));
    return ds;
  });
}
