// Mean squared error loss and its gradient (shaders/mse.wgsl): loss = mean((y - target)^2) and
// dy = 2 (y - target) / n, in two dispatches (block partial sums, then their sum) so that the float32
// sum stays accurate for millions of elements.
import type { Gpu } from '../gpu/gpu.ts';
import { grid1d, Params, type Dispatch } from '../gpu/kernel.ts';
import { ShapeError, ValueError } from '../gpu/errors.ts';
import type { Tensor } from '../gpu/tensor.ts';

const WG = 256;
/** Elements per partial sum: 16 per invocation, then a tree over 256. */
const BLOCK = 4096;

/** loss [1] = mean((y - target)^2) over n elements; dy = 2 (y - target) / n (overwritten). */
export async function mseLoss(gpu: Gpu, y: Tensor, target: Tensor, loss: Tensor, dy: Tensor, s: { n: number }): Promise<Dispatch[]> {
  if (!Number.isInteger(s.n) || s.n < 1) throw new ValueError(`mseLoss n must be a positive integer, got ${s.n}`);
  for (const [name, t] of [['y', y], ['target', target], ['dy', dy]] as const)
    if (t.size !== s.n) throw new ShapeError(`mseLoss ${name}`, `${s.n} elements`, t.shape);
  if (loss.size !== 1) throw new ShapeError('mseLoss loss', [1], loss.shape);
  const blocks = Math.ceil(s.n / BLOCK);
  const partials = gpu.tensor([blocks], 'mse:partials');
  const p = gpu.uniform(new Params().u32(s.n, blocks).f32(2 / s.n), 'mse:params');
  const constants = { WG, BLOCK };
  const part = await gpu.kernel({ shader: 'mse', entry: 'mse_partials', bindings: ['uniform', 'read', 'read', 'rw', 'rw'], constants });
  const finish = await gpu.kernel({ shader: 'mse', entry: 'mse_finish', bindings: ['uniform', 'read', 'rw'], constants });
  return [part.bind([p, y, target, dy, partials], grid1d(blocks, 1), 'mse:partials'), finish.bind([p, partials, loss], [1, 1, 1], 'mse:finish')];
}
