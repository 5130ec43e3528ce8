// float64 references for softmax and mean softmax cross-entropy over rows of logits z [n, k].

/** Softmax of each row (max subtracted first). */
export function softmaxRef(z: Float64Array, n: number, k: number): Float64Array {
  const out = new Float64Array(n * k);
  for (let r = 0; r < n; r++) {
    let m = -Infinity;
    for (let c = 0; c < k; c++) m = Math.max(m, z[r * k + c]!);
    let s = 0;
    for (let c = 0; c < k; c++) s += Math.exp(z[r * k + c]! - m);
    for (let c = 0; c < k; c++) out[r * k + c] = Math.exp(z[r * k + c]! - m) / s;
  }
  return out;
}

/** Mean over rows of -log softmax(z)[label], and the fraction of rows whose first argmax is the label. */
export function crossEntropyRef(z: Float64Array, labels: ArrayLike<number>, n: number, k: number): { loss: number; accuracy: number } {
  const p = softmaxRef(z, n, k);
  let loss = 0;
  let correct = 0;
  for (let r = 0; r < n; r++) {
    loss -= Math.log(p[r * k + labels[r]!]!);
    let best = 0;
    for (let c = 1; c < k; c++) if (z[r * k + c]! > z[r * k + best]!) best = c;
    if (best === labels[r]) correct++;
  }
  return { loss: loss / n, accuracy: correct / n };
}

/** d(mean loss)/dz = (softmax(z) - onehot(label)) / n. */
export function crossEntropyBackwardRef(z: Float64Array, labels: ArrayLike<number>, n: number, k: number): Float64Array {
  const d = softmaxRef(z, n, k);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < k; c++) d[r * k + c]! /= n;
    d[r * k + labels[r]!]! -= 1 / n;
  }
  return d;
}
