// float64 references for the dense layer: x [n, in], w [out, in], b [out], y [n, out].
export interface LinearRefShape {
  n: number;
  in: number;
  out: number;
}

export function linearRef(x: Float64Array, w: Float64Array, b: Float64Array | null, s: LinearRefShape): Float64Array {
  const y = new Float64Array(s.n * s.out);
  for (let r = 0; r < s.n; r++)
    for (let o = 0; o < s.out; o++) {
      let acc = b ? b[o]! : 0;
      for (let i = 0; i < s.in; i++) acc += x[r * s.in + i]! * w[o * s.in + i]!;
      y[r * s.out + o] = acc;
    }
  return y;
}

/** Gradients of L = <dy, linear(x, w, b)>. */
export function linearBackwardRef(x: Float64Array, w: Float64Array, dy: Float64Array, s: LinearRefShape): { dx: Float64Array; dw: Float64Array; db: Float64Array } {
  const dx = new Float64Array(s.n * s.in);
  const dw = new Float64Array(s.out * s.in);
  const db = new Float64Array(s.out);
  for (let r = 0; r < s.n; r++)
    for (let o = 0; o < s.out; o++) {
      const g = dy[r * s.out + o]!;
      db[o] += g;
      for (let i = 0; i < s.in; i++) {
        dx[r * s.in + i] += g * w[o * s.in + i]!;
        dw[o * s.in + i] += g * x[r * s.in + i]!;
      }
    }
  return { dx, dw, db };
}
