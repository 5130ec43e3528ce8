// float64 reference for src/kernels/adamw.ts: one AdamW step with global-norm clipping, linear warmup,
// bias correction, decoupled (masked) weight decay and the EMA update, as PyTorch's AdamW +
// clip_grad_norm_ + an EMA of the weights.

export interface AdamWRefOptions {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  clipNorm: number;
  warmupSteps: number;
  emaDecay: number;
}

export interface AdamWRefState {
  p: Float64Array;
  m: Float64Array;
  v: Float64Array;
  ema: Float64Array;
  step: number;
}

/** One step in place; returns the gradient norm and the clip factor used. `decays(i)` says whether element i decays. */
export function adamwStepRef(s: AdamWRefState, g: ArrayLike<number>, o: AdamWRefOptions, decays: (i: number) => boolean) {
  let sq = 0;
  for (let i = 0; i < g.length; i++) sq += g[i]! * g[i]!;
  const norm = Math.sqrt(sq);
  const clip = o.clipNorm > 0 ? Math.min(1, o.clipNorm / (norm + 1e-6)) : 1;
  s.step += 1;
  const t = s.step;
  const lr = o.warmupSteps > 0 ? o.lr * Math.min(1, t / o.warmupSteps) : o.lr;
  const bc1 = 1 - o.beta1 ** t;
  const bc2 = 1 - o.beta2 ** t;
  for (let i = 0; i < g.length; i++) {
    const gi = g[i]! * clip;
    s.m[i] = o.beta1 * s.m[i]! + (1 - o.beta1) * gi;
    s.v[i] = o.beta2 * s.v[i]! + (1 - o.beta2) * gi * gi;
    let p = s.p[i]!;
    if (decays(i)) p *= 1 - lr * o.weightDecay;
    p -= (lr * (s.m[i]! / bc1)) / (Math.sqrt(s.v[i]! / bc2) + o.eps);
    s.p[i] = p;
    s.ema[i] = o.emaDecay * s.ema[i]! + (1 - o.emaDecay) * p;
  }
  return { norm, clip, lr };
}
