// Dense layer y = x w^T + b for the small time-embedding MLP (shaders/linear.wgsl): one invocation
// per output element, no tiling (n <= 64, in/out <= 512 keeps every loop short).
import type { Gpu } from '../gpu/gpu.ts';
import { grid1d, Params, type Dispatch } from '../gpu/kernel.ts';
import { ShapeError, ValueError } from '../gpu/errors.ts';
import type { Tensor } from '../gpu/tensor.ts';

const WG = 64;

export interface LinearShape {
  n: number;
  in: number;
  out: number;
}

function validate(what: string, s: LinearShape, tensors: [string, Tensor | null, number][]): void {
  for (const k of ['n', 'in', 'out'] as const)
    if (!Number.isInteger(s[k]) || s[k] < 1) throw new ValueError(`${what} ${k} must be a positive integer, got ${s[k]}`);
  for (const [name, t, n] of tensors) if (t && t.size !== n) throw new ShapeError(`${what} ${name}`, `${n} elements`, t.shape);
}

const flagsOf = (hasBias: boolean, accumulate: boolean) => ({ HAS_BIAS: hasBias, ACCUMULATE: accumulate });

/** y [n, out] = x [n, in] w^T (w [out, in]) + b [out] (b may be null). */
export async function linearForward(gpu: Gpu, x: Tensor, w: Tensor, b: Tensor | null, y: Tensor, s: LinearShape): Promise<Dispatch[]> {
  validate('linear', s, [['x', x, s.n * s.in], ['w', w, s.out * s.in], ['b', b, s.out], ['y', y, s.n * s.out]]);
  const p = gpu.uniform(new Params().u32(s.n, s.in, s.out), 'linear:params');
  const k = await gpu.kernel({ shader: 'linear', entry: 'linear_forward', bindings: ['uniform', 'read', 'read', 'read', 'rw'], flags: flagsOf(!!b, false), constants: { WG } });
  return [k.bind([p, x, w, b ?? w, y], grid1d(s.n * s.out, WG), 'linear')];
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
  opts: { accumulate?: boolean } = {},
): Promise<Dispatch[]> {
  validate('linear backward', s, [['x', x, s.n * s.in], ['w', w, s.out * s.in], ['dy', dy, s.n * s.out], ['dx', dx, s.n * s.in], ['dw', dw, s.out * s.in], ['db', db, s.out]]);
  const p = gpu.uniform(new Params().u32(s.n, s.in, s.out), 'linear-backward:params');
  const flags = flagsOf(false, !!opts.accumulate);
  const kernel = (entry: string, bindings: ('uniform' | 'read' | 'rw')[]) => gpu.kernel({ shader: 'linear', entry, bindings, flags, constants: { WG } });
  const out: Dispatch[] = [];
  if (dx) out.push((await kernel('linear_dx', ['uniform', 'read', 'read', 'rw'])).bind([p, dy, w, dx], grid1d(s.n * s.in, WG), 'linear-dx'));
  out.push((await kernel('linear_dw', ['uniform', 'read', 'read', 'rw'])).bind([p, dy, x, dw], grid1d(s.out * s.in, WG), 'linear-dw'));
  if (db) out.push((await kernel('linear_db', ['uniform', 'read', 'rw'])).bind([p, dy, db], grid1d(s.out, WG), 'linear-db'));
  return out;
}
