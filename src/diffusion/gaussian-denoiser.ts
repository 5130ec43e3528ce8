// The exact denoiser for Gaussian data x0 ~ N(0, diag(s)) in the DCT basis under the DCT blur (or the
// identity corruption): X0hat = d s / (d^2 s + sigma^2) Xt per frequency (SPEC.md section 6). A GPU
// Denoiser, so samplers can be tested against exact answers and benchmarked without a network.
import type { Gpu } from '../gpu/gpu.ts';
import { grid1d, Params, type Dispatch } from '../gpu/kernel.ts';
import { ShapeError, ValueError } from '../gpu/errors.ts';
import { sameShape, type Tensor } from '../gpu/tensor.ts';
import { dctForward, dctInverse, imageDims } from './dct.ts';
import { LEVEL_STRIDE } from '../kernels/levels.ts';
import type { Denoiser } from './types.ts';

const WG = 256;

export interface GaussianDenoiserOptions {
  /** Per-channel, per-frequency data variance s, [C, H, W] (DCT basis), all >= 0. */
  variance: Float32Array | Float64Array;
  channels: number;
  height: number;
  width: number;
  /** 'blur': C_t is the DCT blur with sigmaB = levels[b, 1]; 'identity': C_t = I. */
  corruption: 'blur' | 'identity';
}

export class GaussianDenoiser implements Denoiser {
  constructor(readonly opts: GaussianDenoiserOptions) {
    const { variance, channels, height, width } = opts;
    if (variance.length !== channels * height * width) throw new ShapeError('Gaussian denoiser variance', [channels, height, width], `${variance.length} values`);
    if (!variance.every((v) => Number.isFinite(v) && v >= 0)) throw new ValueError('Gaussian denoiser variances must be finite and >= 0.');
  }

  /** Dispatches computing x0hat = IDCT(d s / (d^2 s + sigma^2) DCT(xt)): 5 dispatches; the variances and 2 temporaries belong to `gpu` (the planning scope). */
  async plan(gpu: Gpu, xt: Tensor, levels: Tensor, x0hat: Tensor): Promise<Dispatch[]> {
    const { channels, height, width } = this.opts;
    const [b, c, h, w] = imageDims('Gaussian denoiser x_t', xt);
    if (c !== channels || h !== height || w !== width) throw new ShapeError('Gaussian denoiser x_t', [b, channels, height, width], xt.shape);
    if (!sameShape(x0hat.shape, xt.shape)) throw new ShapeError('Gaussian denoiser x0hat', xt.shape, x0hat.shape);
    if (!sameShape(levels.shape, [b, LEVEL_STRIDE])) throw new ShapeError('Gaussian denoiser levels', [b, LEVEL_STRIDE], levels.shape);
    const variance = gpu.upload(Float32Array.from(this.opts.variance), [c, h, w], 'gaussian-variance');
    const spectrum = gpu.tensor(xt.shape, 'gaussian-denoiser:dct');
    const filtered = gpu.tensor(xt.shape, 'gaussian-denoiser:filtered');
    const k = await gpu.kernel({ shader: 'gaussian_denoiser', entry: 'gaussian_posterior_mean', bindings: ['uniform', 'read', 'read', 'read', 'rw'], constants: { WG } });
    const params = gpu.uniform(new Params().u32(xt.size, c, h, w, this.opts.corruption === 'blur' ? 1 : 0), 'gaussian-denoiser:params');
    return [
      ...(await dctForward(gpu, xt, spectrum)),
      k.bind([params, levels, variance, spectrum, filtered], grid1d(xt.size, WG), 'gaussian_posterior_mean'),
      ...(await dctInverse(gpu, filtered, x0hat)),
    ];
  }
}
