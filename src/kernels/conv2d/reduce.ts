// The two reductions of shaders/conv2d_reduce.wgsl: the bias gradient (every algorithm's), and the sum
// of per-split (tiled) or per-image (gemm) weight-gradient parts into dw.
import type { Gpu } from '../../gpu/gpu.ts';
import { grid1d, Params, type Dispatch } from '../../gpu/kernel.ts';
import type { Tensor } from '../../gpu/tensor.ts';
import { checkGrid, type Conv2dShape } from './shape.ts';

const REDUCE_WG = 64;

/** db[o] = sum over n, oy, ox of dy[n, o, oy, ox] (overwritten). */
export async function biasGrad(gpu: Gpu, dy: Tensor, db: Tensor, s: Conv2dShape, ohw: number): Promise<Dispatch> {
  const k = await gpu.kernel({ shader: 'conv2d_reduce', entry: 'bias_grad', bindings: ['uniform', 'read', 'rw'], constants: { WG: REDUCE_WG } });
  const u = gpu.uniform(new Params().u32(s.n, s.cout, ohw, 0, 0, 0, 0, 0), 'conv2d.biasGrad:params');
  return k.bind([u, dy, db], checkGrid(gpu, [s.cout, 1, 1], 'conv2d bias gradient'), 'conv2d.biasGrad');
}

/** dw[i] = sum over p < parts of part[p, i], i < len (overwritten). */
export async function sumParts(gpu: Gpu, part: Tensor, dw: Tensor, parts: number, len: number, label: string): Promise<Dispatch> {
  const sum = await gpu.kernel({ shader: 'conv2d_reduce', entry: 'sum_splits', bindings: ['uniform', 'read', 'rw'], constants: { WG: REDUCE_WG } });
  const u = gpu.uniform(new Params().u32(0, 0, 0, parts, len, 0, 0, 0), `${label}:params`);
  return sum.bind([u, part, dw], grid1d(len, REDUCE_WG), label);
}
