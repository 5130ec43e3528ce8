// float64 references for the training losses (src/diffusion/losses.ts, shaders/losses.wgsl).
// A corruption is given as per-batch functions op(x) = C x and adj(x) = C^T x on [B, C, H, W] arrays.
export type Op = (x: Float64Array) => Float64Array;

export interface LossRef {
  loss: number;
  perSample: Float64Array;
  grad: Float64Array;
}

const add = (a: Float64Array, b: Float64Array, s = 1) => a.map((v, i) => v + s * b[i]!);

function perSampleSums(v: Float64Array, batch: number, f: (x: number) => number): Float64Array {
  const n = v.length / batch;
  const out = new Float64Array(batch);
  for (let i = 0; i < v.length; i++) out[Math.floor(i / n)]! += f(v[i]!);
  return out;
}

/** Soft score matching with x0 weight lambda: per_sample = w/n (||C e||^2 + lambda ||e||^2),
 *  grad = 2 w/(B n) (C^T C e + lambda e), e = phi + xt - x0 (lambda = 0: the paper's soft loss). */
export function softLossRef(phi: Float64Array, xt: Float64Array, x0: Float64Array, batch: number, weights: readonly number[], op: Op, adj: Op, lambda = 0): LossRef {
  const n = phi.length / batch;
  const e = add(add(phi, xt), x0, -1);
  const u = op(e);
  const ee = perSampleSums(e, batch, (v) => v * v);
  const perSample = perSampleSums(u, batch, (v) => v * v).map((s, b) => (weights[b]! * (s + lambda * ee[b]!)) / n);
  const g = (i: number) => (2 * weights[Math.floor(i / n)]!) / (batch * n);
  const grad = add(adj(u.map((v, i) => g(i) * v)), e.map((v, i) => g(i) * lambda * v));
  return { loss: perSample.reduce((a, b) => a + b, 0) / batch, perSample, grad };
}

/** DSM epsilon form: r = (C(phi + xt) - xt)/sigma + z, per_sample = w/(2n) ||r||^2, grad = w/(B n sigma) C^T r. */
export function dsmLossRef(
  phi: Float64Array, xt: Float64Array, z: Float64Array, batch: number, sigmas: readonly number[], weights: readonly number[], op: Op, adj: Op,
): LossRef {
  const n = phi.length / batch;
  const u = op(add(phi, xt));
  const r = u.map((v, i) => (v - xt[i]!) / sigmas[Math.floor(i / n)]! + z[i]!);
  const perSample = perSampleSums(r, batch, (v) => v * v).map((s, b) => (0.5 * weights[b]! * s) / n);
  const scaled = r.map((v, i) => {
    const b = Math.floor(i / n);
    return (weights[b]! * v) / (batch * n * sigmas[b]!);
  });
  return { loss: perSample.reduce((a, b) => a + b, 0) / batch, perSample, grad: adj(scaled) };
}

/** x_t = C x0 + sigma_b noise. */
export function corruptRef(x0: Float64Array, noise: Float64Array, batch: number, sigmas: readonly number[], op: Op): Float64Array {
  const n = x0.length / batch;
  return add(op(x0), noise.map((v, i) => sigmas[Math.floor(i / n)]! * v));
}
