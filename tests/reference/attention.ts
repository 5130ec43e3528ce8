// float64 references for src/kernels/attention.ts.
// Layouts as the kernels: q, k, v, o channel-major [n, c, L], head h = channels h*d .. h*d+d-1.

export interface AttnShape {
  n: number;
  c: number;
  L: number;
  heads: number;
}

const at = (s: AttnShape, b: number, h: number, t: number, i: number) => {
  const d = s.c / s.heads;
  return (b * s.c + h * d + t) * s.L + i;
};

/** Scaled scores S_ij = scale q_i . k_j and P = softmax_j(S) for head (b, h). */
function probs(q: Float64Array, k: Float64Array, s: AttnShape, b: number, h: number, scale: number) {
  const { L } = s;
  const d = s.c / s.heads;
  const P = new Float64Array(L * L);
  const lse = new Float64Array(L);
  for (let i = 0; i < L; i++) {
    let m = -Infinity;
    for (let j = 0; j < L; j++) {
      let acc = 0;
      for (let t = 0; t < d; t++) acc += q[at(s, b, h, t, i)]! * k[at(s, b, h, t, j)]!;
      P[i * L + j] = acc * scale;
      m = Math.max(m, acc * scale);
    }
    let z = 0;
    for (let j = 0; j < L; j++) z += Math.exp(P[i * L + j]! - m);
    for (let j = 0; j < L; j++) P[i * L + j] = Math.exp(P[i * L + j]! - m) / z;
    lse[i] = m + Math.log(z);
  }
  return { P, lse };
}

export const defaultScale = (s: AttnShape) => 1 / Math.sqrt(s.c / s.heads);

export function attentionRef(q: Float64Array, k: Float64Array, v: Float64Array, s: AttnShape, scale = defaultScale(s)) {
  const { n, heads, L } = s;
  const d = s.c / heads;
  const o = new Float64Array(n * s.c * L);
  const lse = new Float64Array(n * heads * L);
  for (let b = 0; b < n; b++)
    for (let h = 0; h < heads; h++) {
      const { P, lse: l } = probs(q, k, s, b, h, scale);
      lse.set(l, (b * heads + h) * L);
      for (let i = 0; i < L; i++)
        for (let t = 0; t < d; t++) {
          let acc = 0;
          for (let j = 0; j < L; j++) acc += P[i * L + j]! * v[at(s, b, h, t, j)]!;
          o[at(s, b, h, t, i)] = acc;
        }
    }
  return { o, lse };
}

/** Textbook backward through P (no saved statistics): dP = dO v^T, dS = P (dP - rowsum(P dP)). */
export function attentionBackwardRef(q: Float64Array, k: Float64Array, v: Float64Array, dO: Float64Array, s: AttnShape, scale = defaultScale(s)) {
  const { n, heads, L } = s;
  const d = s.c / heads;
  const dq = new Float64Array(q.length);
  const dk = new Float64Array(k.length);
  const dv = new Float64Array(v.length);
  for (let b = 0; b < n; b++)
    for (let h = 0; h < heads; h++) {
      const { P } = probs(q, k, s, b, h, scale);
      const dS = new Float64Array(L * L);
      for (let i = 0; i < L; i++) {
        let rs = 0;
        for (let j = 0; j < L; j++) {
          let dp = 0;
          for (let t = 0; t < d; t++) dp += dO[at(s, b, h, t, i)]! * v[at(s, b, h, t, j)]!;
          dS[i * L + j] = dp;
          rs += P[i * L + j]! * dp;
        }
        for (let j = 0; j < L; j++) dS[i * L + j] = P[i * L + j]! * (dS[i * L + j]! - rs);
      }
      for (let i = 0; i < L; i++)
        for (let j = 0; j < L; j++)
          for (let t = 0; t < d; t++) {
            dq[at(s, b, h, t, i)] += scale * dS[i * L + j]! * k[at(s, b, h, t, j)]!;
            dk[at(s, b, h, t, j)] += scale * dS[i * L + j]! * q[at(s, b, h, t, i)]!;
            dv[at(s, b, h, t, j)] += P[i * L + j]! * dO[at(s, b, h, t, i)]!;
          }
    }
  return { dq, dk, dv };
}
