// Element-wise ops (shaders/elementwise.wgsl): add, scale, axpy, SiLU and its backward.
import type { Gpu } from '../gpu/gpu.ts';
import { grid1d, Params, type Dispatch } from '../gpu/kernel.ts';
import { ShapeError } from '../gpu/errors.ts';
import type { Tensor } from '../gpu/tensor.ts';

export type ElementwiseOp = 'add' | 'scale' | 'axpy' | 'silu' | 'silu_backward';

const WG = 256;

/**
 * A dispatch computing `out = op(a, b, alpha)` over all elements.
 * add: a + b; scale: alpha a; axpy: alpha a + b; silu: silu(a); silu_backward: b * silu'(a).
 */
export async function elementwise(gpu: Gpu, op: ElementwiseOp, out: Tensor, a: Tensor, b: Tensor | null = null, alpha = 1): Promise<Dispatch> {
  const needsB = op === 'add' || op === 'axpy' || op === 'silu_backward';
  if (needsB && !b) throw new ShapeError(`${op} operand b`, 'a tensor', 'none');
  for (const [name, t] of [['a', a], ['b', b]] as const)
    if (t && t.size !== out.size) throw new ShapeError(`${op} operand ${name}`, out.shape, t.shape);
  const k = await gpu.kernel({ shader: 'elementwise', entry: op, bindings: ['uniform', 'read', 'read', 'rw'], constants: { WG } });
  const params = gpu.uniform(new Params().u32(out.size).f32(alpha), `${op}:params`);
  return k.bind([params, a, b ?? a, out], grid1d(out.size, WG), op);
}
