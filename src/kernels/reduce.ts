// Reductions (shaders/reduce.wgsl): sum, mean and sum of squares of a whole tensor into one element,
// in passes of partial sums entirely on the GPU; and the same per row of a [rows, cols] tensor.
// Used for losses, global gradient norms and normalisation statistics.
import type { Gpu } from '../gpu/gpu.ts';
import { grid1d, Params, type Dispatch } from '../gpu/kernel.ts';
import { ShapeError, ValueError } from '../gpu/errors.ts';
import type { Tensor } from '../gpu/tensor.ts';

export type ReduceOp = 'sum' | 'mean' | 'sumsq';

export interface ReduceOptions {
  /**
   * Elements (vec4s when the size is a multiple of 4) each invocation adds serially in a pass: default
   * 16 on GPUs, 256 on software adapters; 1 gives one workgroup per 256.
   */
  itemsPerThread?: number;
  /** Invocations per workgroup, a power of two from 32 to 256 (default 256). */
  workgroupSize?: number;
}

const WG = 256;
const SOFTWARE_ITEMS = 256;

/** Tensors a reduction allocated for its partial sums (owned by the dispatches; release when done). */
export interface ReducePlan {
  dispatches: Dispatch[];
  scratch: Tensor[];
  /** The per-invocation chunk used (the adapter's default unless given). */
  itemsPerThread: number;
  workgroupSize: number;
}

/**
 * Dispatches writing op(x) into out[0]: sum x_i, (1/n) sum x_i, or sum x_i^2. Partial sums go through
 * two scratch tensors allocated in `gpu` (its scope owns them; ping-pong: a pass may not read and write
 * one buffer).
 */
export async function reduce(gpu: Gpu, op: ReduceOp, x: Tensor, out: Tensor, opts: ReduceOptions = {}): Promise<Dispatch[]> {
  return (await planReduce(gpu, op, x, out, opts)).dispatches;
}

export async function planReduce(gpu: Gpu, op: ReduceOp, x: Tensor, out: Tensor, opts: ReduceOptions = {}): Promise<ReducePlan> {
  checkOp(op);
  if (x.size < 1) throw new ShapeError(`reduce ${op} input`, 'at least one element', x.shape);
  if (out.size < 1) throw new ShapeError(`reduce ${op} output`, '[1]', out.shape);
  if (out.buffer === x.buffer) throw new ValueError(`reduce ${op}: out must not share a buffer with x.`);
  // Software adapters pay per workgroup and per barrier: few large chunks win there (bench/reduce:
  // 16M floats on lavapipe, 16 items 880 ms, 256 items (vec4) 120-160 ms).
  const items = opts.itemsPerThread ?? (gpu.adapter.software ? SOFTWARE_ITEMS : 16);
  if (!Number.isInteger(items) || items < 1) throw new ValueError(`reduce: itemsPerThread must be a positive integer, got ${items}`);
  const wg = opts.workgroupSize ?? WG;
  if (![32, 64, 128, 256].includes(wg)) throw new ValueError(`reduce: workgroupSize must be 32, 64, 128 or 256, got ${wg}`);
  const chunk = wg * items;
  const scale = op === 'mean' ? 1 / x.size : 1;
  const dispatches: Dispatch[] = [];
  const scratch: Tensor[] = [];
  let src = x;
  // Pass 0 reads vec4s when it can (a quarter of the loads; software adapters are load-bound).
  let vec4 = x.size % 4 === 0;
  let n = vec4 ? x.size / 4 : x.size;
  let square = op === 'sumsq';
  for (let pass = 0; ; pass++) {
    const groups = Math.ceil(n / chunk);
    const last = groups === 1;
    let dst: Tensor;
    if (last) dst = out;
    else {
      // Pass p writes scratch[p % 2]; the first pass's is the largest, so later passes fit in it.
      if (scratch.length < 2) scratch.push(gpu.tensor([groups], `reduce:${op}:partials${scratch.length}`));
      dst = scratch[pass % 2]!.view(0, [groups]);
    }
    const k = await gpu.kernel({ shader: 'reduce', entry: 'reduce_partial', bindings: ['uniform', 'read', 'rw'], flags: { SQUARE: square, VEC4: vec4 }, constants: { WG: wg, ITEMS: items } });
    const params = gpu.uniform(new Params().u32(n, 0).f32(last ? scale : 1), `reduce:${op}:pass${pass}`);
    dispatches.push(k.bind([params, src, dst], grid1d(groups * wg, wg), `reduce:${op}:pass${pass}`));
    if (last) break;
    src = dst;
    n = groups;
    square = false;
    vec4 = false;
  }
  return { dispatches, scratch, itemsPerThread: items, workgroupSize: wg };
}

/**
 * A dispatch writing op over each row: out[r] = sum_c x[r, c], its mean, or sum of squares.
 * x: [rows, cols]; out: [rows]. One workgroup per row (rows above 65535 fold into a 2-D grid).
 */
export async function reduceRows(gpu: Gpu, op: ReduceOp, x: Tensor, out: Tensor): Promise<Dispatch> {
  checkOp(op);
  if (x.shape.length !== 2) throw new ShapeError(`reduceRows ${op} input`, '[rows, cols]', x.shape);
  const [rows, cols] = x.shape as [number, number];
  if (rows < 1 || cols < 1) throw new ShapeError(`reduceRows ${op} input`, '[rows >= 1, cols >= 1]', x.shape);
  if (out.size !== rows) throw new ShapeError(`reduceRows ${op} output`, [rows], out.shape);
  if (out.buffer === x.buffer) throw new ValueError(`reduceRows ${op}: out must not share a buffer with x.`);
  // Narrow rows need fewer invocations: the smallest power of two >= cols, from 32 to 256.
  const wg = Math.min(WG, Math.max(32, 2 ** Math.ceil(Math.log2(cols))));
  const k = await gpu.kernel({ shader: 'reduce', entry: 'reduce_rows', bindings: ['uniform', 'read', 'rw'], flags: { SQUARE: op === 'sumsq', VEC4: false }, constants: { WG: wg } });
  const params = gpu.uniform(new Params().u32(rows, cols).f32(op === 'mean' ? 1 / cols : 1), `reduceRows:${op}`);
  return k.bind([params, x, out], grid1d(rows * wg, wg), `reduceRows:${op}`);
}

function checkOp(op: string): void {
  if (op !== 'sum' && op !== 'mean' && op !== 'sumsq') throw new ValueError(`reduce: unknown op ${op}; use sum, mean or sumsq`);
}
