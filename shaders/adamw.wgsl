// AdamW over every parameter at once: params, grads, m, v and ema are flat buffers of one FlatLayout
// (n elements; alignment padding is zero and stays zero). One optimizer step is three dispatches:
//   sumsq_partial  partials[w] = sum of grad^2 over a grid-stride slice         (P workgroups, P <= WG)
//   finalize       one workgroup: ||g|| = sqrt(sum partials); step += 1; the step's scalars -> state
//   update         per element: clip, Adam moments, bias correction, decoupled weight decay, EMA
// Nothing is read back: the scalars pass from finalize to update through the `state` buffer.
//   clip   = clip_norm > 0 ? min(1, clip_norm / (||g|| + 1e-6)) : 1        (PyTorch clip_grad_norm_)
//   lr_t   = lr * min(1, step / warmup)     (warmup = 0: lr)
//   g = clip * grad;  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
//   p = p - lr_t * wd * mask * p - lr_t * (m / (1 - b1^step)) / (sqrt(v / (1 - b2^step)) + eps)
//   (1 - b^step is evaluated as 1 - exp(step * ln b) with a series near 0; beta = 0 gives 1)
//   ema = ema_decay * ema + (1 - ema_decay) * p
// A non-finite gradient norm skips the step (step not advanced, nothing updated, `skipped` counts it).
// mask: one bit per element (bit i & 31 of word i >> 5), 1 = weight decay applies.
// Bindings per entry below; 0 is always the Options uniform.

override WG: u32 = 256;

#include grid
#include workgroup_reduce

struct Options {
  n: u32, partials: u32, warmup: u32, pad: u32,
  lr: f32, beta1: f32, beta2: f32, eps: f32,
  weight_decay: f32, clip_norm: f32, ema_decay: f32, ln_beta1: f32,
  ln_beta2: f32,                                // log(beta) from the host in float64
}

struct State {
  step: u32, skipped: u32, skip: u32, pad: u32,
  grad_norm: f32, clip: f32, lr: f32, bc1: f32,
  bc2: f32,
}

@group(0) @binding(0) var<uniform> opt: Options;

// 1 - exp(x) for x <= 0 without cancellation near 0 (1 - beta2^t at beta2 = 0.999 is 1e-3; pow()
// there is off by 1e-4 relative on some adapters): a Taylor series for |x| < 0.1, else directly.
fn one_minus_exp(x: f32) -> f32 {
  if (x > -0.1) {
    return -x * (1.0 + x * (0.5 + x * (1.0 / 6.0 + x * (1.0 / 24.0 + x * (1.0 / 120.0 + x / 720.0)))));
  }
  return 1.0 - exp(x);
}


#if PARTIAL
// Bindings: 1 grads (read), 2 partials (rw) [P].
@group(0) @binding(1) var<storage, read> grads: array<f32>;
@group(0) @binding(2) var<storage, read_write> partials: array<f32>;

// partials[w] = sum of grads[i]^2 over i = w*WG + lid + k*P*WG.
@compute @workgroup_size(WG)
fn sumsq_partial(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  var s = 0.0;
  for (var i = wid.x * WG + lid; i < opt.n; i += opt.partials * WG) {
    let g = grads[i];
    s += g * g;
  }
  let total = workgroup_sum(lid, s);
  if (lid == 0u) { partials[wid.x] = total; }
}
#endif

#if FINALIZE
// Bindings: 1 partials (read), 2 state (rw).
@group(0) @binding(1) var<storage, read> partials_in: array<f32>;
@group(0) @binding(2) var<storage, read_write> state: State;

// One workgroup: the global gradient norm and this step's scalars (clip, lr_t, bias corrections).
@compute @workgroup_size(WG)
fn finalize(@builtin(local_invocation_index) lid: u32) {
  let sumsq = workgroup_sum(lid, select(0.0, partials_in[lid], lid < opt.partials));
  if (lid != 0u) { return; }
  let norm = sqrt(sumsq);
  state.grad_norm = norm;
  if (!(sumsq <= 3.0e38)) { // NaN or infinity
    state.skip = 1u;
    state.skipped += 1u;
    return;
  }
  state.skip = 0u;
  let t = state.step + 1u;
  state.step = t;
  state.clip = select(1.0, min(1.0, opt.clip_norm / (norm + 1e-6)), opt.clip_norm > 0.0);
  state.lr = select(opt.lr, opt.lr * min(1.0, f32(t) / f32(opt.warmup)), opt.warmup > 0u);
  state.bc1 = one_minus_exp(f32(t) * opt.ln_beta1);
  state.bc2 = one_minus_exp(f32(t) * opt.ln_beta2);
}
#endif

#if UPDATE
// Bindings: 1 state (read), 2 grads (read), 3 mask (read), 4 params, 5 m, 6 v, 7 ema (rw).
@group(0) @binding(1) var<storage, read> st: State;
@group(0) @binding(2) var<storage, read> grad: array<f32>;
@group(0) @binding(3) var<storage, read> mask: array<u32>;
@group(0) @binding(4) var<storage, read_write> param: array<f32>;
@group(0) @binding(5) var<storage, read_write> m1: array<f32>;
@group(0) @binding(6) var<storage, read_write> m2: array<f32>;
@group(0) @binding(7) var<storage, read_write> ema: array<f32>;

// One element's AdamW step and EMA update. Dispatch grid1d(n, WG).
@compute @workgroup_size(WG)
fn update(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= opt.n || st.skip != 0u) { return; }
  let g = grad[i] * st.clip;
  let m = opt.beta1 * m1[i] + (1.0 - opt.beta1) * g;
  let v = opt.beta2 * m2[i] + (1.0 - opt.beta2) * g * g;
  m1[i] = m;
  m2[i] = v;
  let decays = (mask[i >> 5u] >> (i & 31u)) & 1u;
  var p = param[i];
  if (decays != 0u) { p -= st.lr * opt.weight_decay * p; }
  p -= st.lr * (m / st.bc1) / (sqrt(v / st.bc2) + opt.eps);
  param[i] = p;
  ema[i] = opt.ema_decay * ema[i] + (1.0 - opt.ema_decay) * p;
}
#endif
