// A data set as the prior fit and the level scheduler's statistics pass see it: one GPU tensor
// [N, C, H, W], or batches of them (sync or async, e.g. a streamer that uploads as it goes).
import { ShapeError, ValueError } from '../gpu/errors.ts';
import type { Tensor } from '../gpu/tensor.ts';

export type ImageBatches = Tensor | Iterable<Tensor> | AsyncIterable<Tensor>;

/** Calls `fn` for each batch in order, checking that every batch has the same C, H, W. */
export async function forEachBatch(source: ImageBatches, fn: (batch: Tensor, dims: [number, number, number, number]) => Promise<void>): Promise<number> {
  const list: Iterable<Tensor> | AsyncIterable<Tensor> = 'buffer' in source ? [source as Tensor] : source;
  let chw: number[] | null = null;
  let count = 0;
  for await (const t of list) {
    if (t.shape.length !== 4) throw new ShapeError('data batch', '[N, C, H, W]', t.shape);
    const [n, c, h, w] = t.shape as [number, number, number, number];
    if (chw && (chw[0] !== c || chw[1] !== h || chw[2] !== w)) throw new ShapeError('data batch', [n, ...chw], t.shape);
    chw = [c, h, w];
    count += n;
    await fn(t, [n, c, h, w]);
  }
  if (!count) throw new ValueError('The data set is empty.');
  return count;
}
