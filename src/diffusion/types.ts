// The contracts between corruptions, losses, denoisers and samplers (SPEC.md sections 1, 2, 4).
//
// Per-sample corruption levels live on the GPU as a `levels` tensor of shape [B, LEVEL_STRIDE]:
//   levels[b, 0] = t          in [0, 1]
//   levels[b, 1] = c          the corruption's own level at t (blur std sigmaB(t) in pixels for the
//                             DCT blur; the ramp position for masking; unused for identity)
//   levels[b, 2] = sigma      the noise std sigma(t)
//   levels[b, 3] = weight     the loss weight w(t) (training) or 0
// The host fills it (t is drawn per sample by a seeded host RNG during training, and is the same for
// every sample during sampling) and uploads it with queue.writeBuffer before the step's one submit;
// everything else runs on the GPU.
import type { Gpu } from '../gpu/gpu.ts';
import type { Dispatch } from '../gpu/kernel.ts';
import type { Tensor } from '../gpu/tensor.ts';

export const LEVEL_STRIDE = 4;

/** A linear corruption C_t acting per sample on a batch [B, C, H, W]. */
export interface Corruption {
  readonly name: string;
  /** C_t^T = C_t for every t (blur, masking, identity). */
  readonly selfAdjoint: boolean;
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
