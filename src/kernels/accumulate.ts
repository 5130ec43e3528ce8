// y += x in place (shaders/accumulate.wgsl): gradient accumulation where the producing op has no
// accumulate option of its own.
import type { Gpu } from '../gpu/gpu.ts';
import { grid1d, Params, type Dispatch } from '../gpu/kernel.ts';
import { ShapeError } from '../gpu/errors.ts';
import type { Tensor } from '../gpu/tensor.ts';

const WG = 256;

/** A dispatch computing y += x over all elements; x and y must not share a buffer. */
export async function addInto(gpu: Gpu, x: Tensor, y: Tensor): Promise<Dispatch> {
  if (x.size !== y.size) throw new ShapeError('addInto operand x', y.shape, x.shape);
  const k = await gpu.kernel({ shader: 'accumulate', entry: 'add_into', bindings: ['uniform', 'read', 'rw'], constants: { WG } });
  const params = gpu.uniform(new Params().u32(y.size), 'add_into:params');
  return k.bind([params, x, y], grid1d(y.size, WG), 'add_into');
}
