// The contracts between corruptions, losses, denoisers and samplers (SPEC.md sections 1, 2, 4).
//
// Per-sample corruption levels live on the GPU as a `levels` tensor of shape [B, LEVEL_STRIDE]
// (src/kernels/levels.ts: t, the corruption's level c, the noise sigma, the loss weight). The host
// fills it (t is drawn per sample by a seeded host RNG during training, and is the same for every
// sample during sampling) and uploads it with queue.writeBuffer before the step's one submit;
// everything else runs on the GPU.
import type { Gpu } from '../gpu/gpu.ts';
import type { Dispatch } from '../gpu/kernel.ts';
import type { Tensor } from '../gpu/tensor.ts';

export { LEVEL_STRIDE } from '../kernels/levels.ts';

/**
 * Structure a corruption may declare so that losses and samplers take an exact faster path instead
 * of the generic apply / adjoint one (they ask for a capability, never for a class).
 */
export interface CorruptionCapabilities {
  /** C_t = I at every t: the soft loss is the x0 loss, and nothing needs applying. */
  readonly identity?: boolean;
  /**
   * C_t = D^T diag(exp(-(lambda_k + lambda_l) c^2 / 2)) D per channel, c = levels[b, 1] (the
   * heat-kernel DCT blur, dct.ts): the soft loss is one fused DCT-domain kernel (Parseval), and the
   * momentum samplers combine a C_s x + b C_t x into one filter.
   */
  readonly heatSpectrum?: boolean;
}

/** A linear corruption C_t acting per sample on a batch [B, C, H, W]. */
export interface Corruption {
  readonly name: string;
  /** C_t^T = C_t for every t (blur, masking, identity). */
  readonly selfAdjoint: boolean;
  /** Fast paths this corruption allows (none when absent). */
  readonly capabilities?: CorruptionCapabilities;
  /** The corruption level c at time t (e.g. sigmaB(t)); written into levels[b, 1]. */
  level(t: number): number;
  /** Dispatches computing out = C_{levels[b]} x for every sample b. `out` must not alias `x`. */
  apply(gpu: Gpu, x: Tensor, out: Tensor, levels: Tensor): Promise<Dispatch[]>;
  /** Dispatches computing out = C_{levels[b]}^T x. */
  adjoint(gpu: Gpu, x: Tensor, out: Tensor, levels: Tensor): Promise<Dispatch[]>;
  /** JSON description (name, schedule, options) for checkpoints. */
  toJSON(): Record<string, unknown>;
}

/**
 * A denoiser (x_t, t) -> x0_hat: the trained U-Net (h_theta = phi_theta + x_t), its EMA copy, or an
 * analytic function. `plan` builds, once, the dispatches that compute x0hat from xt for the batch,
 * reading the per-sample levels; samplers run them every step.
 */
export interface Denoiser {
  plan(gpu: Gpu, xt: Tensor, levels: Tensor, x0hat: Tensor): Promise<Dispatch[]>;
}
