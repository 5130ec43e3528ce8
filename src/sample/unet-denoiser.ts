// The trained network as a sampler's Denoiser: x0hat = phi_theta(x_t, t) + x_t (SPEC section 2). It
// plans an inference-only U-Net (no gradients, no optimizer state) that reads the sampler's x_t and
// levels tensors directly, then one element-wise add. Weights come from a flat array in the
// network's layout (a checkpoint's EMA weights) or are copied on the GPU from a training run's buffer.
// The network is planned in the scope the denoiser is planned on (the sampler's), so it is released
// with the sampler; destroy() releases it earlier.
import type { Gpu } from '../gpu/gpu.ts';
import type { Dispatch } from '../gpu/kernel.ts';
import { EngineError } from '../gpu/errors.ts';
import type { Tensor } from '../gpu/tensor.ts';
import { elementwise } from '../kernels/elementwise.ts';
import type { UNetConfig } from '../nn/config.ts';
import { UNet } from '../nn/unet.ts';
import type { Denoiser } from '../diffusion/types.ts';

export class UNetDenoiser implements Denoiser {
  private net: UNet | null = null;

  constructor(
    readonly config: UNetConfig,
    /** Initial flat weights in the network's layout (padding included); null = set later. */
    private weights: Float32Array | null = null,
  ) {}

  async plan(gpu: Gpu, xt: Tensor, levels: Tensor, x0hat: Tensor): Promise<Dispatch[]> {
    if (this.net) throw new EngineError('A UNetDenoiser is planned once (one sampler per denoiser).');
    this.net = await UNet.create(gpu, this.config, { batch: xt.shape[0]!, training: false, x: xt, levels });
    if (this.weights) this.net.setParameters(this.weights);
    return [...this.net.forwardDispatches, await elementwise(gpu, 'add', x0hat, this.net.phi, xt)];
  }

  /** Flat parameter count including alignment padding (the size setWeights expects). */
  get flatSize(): number {
    if (!this.net) throw new EngineError('The denoiser is not planned yet.');
    return this.net.plan.graph.params.size;
  }

  /** Replace the weights (host array in the network's flat layout). */
  setWeights(flat: Float32Array): void {
    this.weights = flat;
    this.net?.setParameters(flat);
  }

  /** Copy the weights on the GPU from a tensor in the same flat layout (e.g. the trainer's EMA). */
  copyWeightsFrom(source: Tensor): void {
    if (!this.net) throw new EngineError('The denoiser is not planned yet.');
    this.net.copyParametersFrom(source);
  }

  destroy(): void {
    this.net?.destroy();
    this.net = null;
  }
}
