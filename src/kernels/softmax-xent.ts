// Softmax and softmax cross-entropy over rows of logits [n, k] (shaders/softmax_xent.wgsl): the
// classifier's output probabilities, and its training loss with the gradient of the mean loss.
// Rows are short (k = 10 classes), so one invocation handles a whole row; the mean over rows is one
// workgroup (n is a batch: at most a few thousand rows).
import type { Gpu } from '../gpu/gpu.ts';
import { grid1d, Params, type Dispatch } from '../gpu/kernel.ts';
import { ShapeError, ValueError } from '../gpu/errors.ts';
import type { Tensor } from '../gpu/tensor.ts';

const WG = 64;

export interface SoftmaxShape {
  /** Rows (samples). */
  n: number;
  /** Columns (classes). */
  k: number;
}

/** Tensors of a cross-entropy plan: logits, labels (u32) in; probabilities, gradient, per-row and mean out. */
export interface XentTensors {
  logits: Tensor;
  /** [n] u32 class indices, each < k. */
  labels: Tensor;
  probs: Tensor;
  /** d(mean loss)/d(logits), overwritten. */
  dLogits: Tensor;
  /** [n, 2] scratch: (loss, correct) per row. */
  rows: Tensor;
  /** [2]: (mean loss, accuracy). */
  out: Tensor;
}

function check(s: SoftmaxShape): void {
  for (const key of ['n', 'k'] as const)
    if (!Number.isInteger(s[key]) || s[key] < 1) throw new ValueError(`softmax ${key} must be a positive integer, got ${s[key]}`);
}

function expectSize(what: string, t: Tensor, n: number, dtype: 'f32' | 'u32' = 'f32'): void {
  if (t.size !== n) throw new ShapeError(what, `${n} elements`, t.shape);
  if (t.dtype !== dtype) throw new ShapeError(`${what} dtype`, dtype, t.dtype);
}

/** probs [n, k] = softmax of each row of logits [n, k]. */
export async function softmaxRows(gpu: Gpu, logits: Tensor, probs: Tensor, s: SoftmaxShape): Promise<Dispatch[]> {
  check(s);
  expectSize('softmax logits', logits, s.n * s.k);
  expectSize('softmax probs', probs, s.n * s.k);
  const p = gpu.uniform(new Params().u32(s.n, s.k), 'softmax:params');
  const k = await gpu.kernel({ shader: 'softmax_xent', entry: 'softmax_rows', bindings: ['uniform', 'read', 'rw'], constants: { WG } });
  return [k.bind([p, logits, probs], grid1d(s.n, WG), 'softmax')];
}

/**
 * Mean softmax cross-entropy of logits against labels: probs, dLogits = (probs - onehot) / n,
 * rows[i] = (loss_i, correct_i) and out = (mean loss, accuracy). Two dispatches.
 */
export async function softmaxCrossEntropy(gpu: Gpu, t: XentTensors, s: SoftmaxShape): Promise<Dispatch[]> {
  check(s);
  expectSize('cross-entropy logits', t.logits, s.n * s.k);
  expectSize('cross-entropy labels', t.labels, s.n, 'u32');
  expectSize('cross-entropy probs', t.probs, s.n * s.k);
  expectSize('cross-entropy dLogits', t.dLogits, s.n * s.k);
  expectSize('cross-entropy rows', t.rows, s.n * 2);
  if (t.out.size < 2) throw new ShapeError('cross-entropy out', '[2] (mean loss, accuracy)', t.out.shape);
  const p = gpu.uniform(new Params().u32(s.n, s.k), 'xent:params');
  const rows = await gpu.kernel({ shader: 'softmax_xent', entry: 'xent_rows', bindings: ['uniform', 'read', 'read', 'rw', 'rw', 'rw'], constants: { WG } });
  const mean = await gpu.kernel({ shader: 'softmax_xent', entry: 'xent_mean', bindings: ['uniform', 'read', 'rw'], constants: { WG } });
  return [rows.bind([p, t.logits, t.labels, t.probs, t.dLogits, t.rows], grid1d(s.n, WG), 'xent:rows'), mean.bind([p, t.rows, t.out], [1, 1, 1], 'xent:mean')];
}
