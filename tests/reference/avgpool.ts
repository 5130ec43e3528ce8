// float64 references for global average pooling x [n, c, hw] -> y [n, c] and its backward.

export function avgPoolRef(x: Float64Array, rows: number, hw: number): Float64Array {
  const y = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let j = 0; j < hw; j++) s += x[r * hw + j]!;
    y[r] = s / hw;
  }
  return y;
}

/** Gradient of L = <dy, avgPool(x)>: dy[r] / hw at every position of plane r. */
export function avgPoolBackwardRef(dy: Float64Array, rows: number, hw: number): Float64Array {
  const dx = new Float64Array(rows * hw);
  for (let r = 0; r < rows; r++) for (let j = 0; j < hw; j++) dx[r * hw + j] = dy[r]! / hw;
  return dx;
}
