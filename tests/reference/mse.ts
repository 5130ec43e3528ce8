// float64 reference for the mean squared error: loss = mean((y - t)^2), dy = 2 (y - t) / n.
export function mseRef(y: ArrayLike<number>, target: ArrayLike<number>): { loss: number; dy: Float64Array } {
  const n = y.length;
  let sum = 0;
  const dy = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const e = y[i]! - target[i]!;
    sum += e * e;
    dy[i] = (2 * e) / n;
  }
  return { loss: sum / n, dy };
}
