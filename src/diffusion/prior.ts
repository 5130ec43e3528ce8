// The samplers' prior p_1 (SPEC.md section 4; the paper leaves it open).
// GaussianPrior (default): a Gaussian with full covariance fitted over a data set to the DCT
//   coefficients of C_1 x0 that survive the strongest blur (d_1 > threshold, 1e-3: about a dozen per
//   channel); a draw is mean + L z on those coefficients (L its Cholesky factor, computed on the host in
//   float64; the product runs on the GPU), 0 elsewhere, inverse DCT, plus sigma_1 eta.
// BlurredImagePrior (option): C_1 x0 + sigma_1 eta for data set images x0 picked by the GPU RNG.
// Both implement PriorSource: dispatches that write one draw per sample into `out`, keyed by the
// sampler's RNG state (streams RngStream.prior and RngStream.priorNoise).
import type { Gpu } from '../gpu/gpu.ts';
import { grid1d, Params, type Dispatch, type Resource } from '../gpu/kernel.ts';
import { ShapeError, ValueError } from '../gpu/errors.ts';
import type { Tensor } from '../gpu/tensor.ts';
import { blurSpectrum, dctForward, dctInverse, imageDims } from './dct.ts';
import { forEachBatch, type ImageBatches } from './batches.ts';
import { RngStream, type RngState } from './rng.ts';
import type { PriorSource } from './samplers.ts';
import { LEVEL_STRIDE } from '../kernels/levels.ts';
import type { Corruption } from './types.ts';

const WG = 64;

async function priorKernel(gpu: Gpu, entry: string, resources: Resource[], params: Params, outputs: number, quads = false): Promise<Dispatch> {
  const k = await gpu.kernel({ shader: 'prior', entry, bindings: ['uniform', 'uniform', 'read', 'read', 'read', 'rw'], constants: { WG } });
  return k.bind([gpu.uniform(params, `${entry}:params`), ...resources], grid1d(quads ? Math.ceil(outputs / 4) : outputs, WG), entry);
}

function priorParams(o: { n: number; chw?: number; m?: number; count?: number; sigma?: number }): Params {
  return new Params().u32(o.n, o.chw ?? 0, o.m ?? 0, o.count ?? 0, RngStream.prior, RngStream.priorNoise).f32(o.sigma ?? 0).u32(0);
}

/** out[i] += sigma * eta_i (stream priorNoise): the sigma_1 eta of every prior draw. */
export async function addPriorNoise(gpu: Gpu, out: Tensor, rng: RngState, sigma: number): Promise<Dispatch> {
  return priorKernel(gpu, 'add_noise', [rng.buffer, dummy(gpu), dummy(gpu), dummy(gpu), out], priorParams({ n: out.size, sigma }), out.size, true);
}

/** A placeholder for a binding an entry point does not read (4 floats, owned by the planning scope). */
function dummy(gpu: Gpu): Tensor {
  return gpu.tensor([4], 'prior:unused');
}

export interface GaussianPriorJSON {
  kind: 'gaussian';
  channels: number;
  height: number;
  width: number;
  sigmaB1: number;
  sigma1: number;
  threshold: number;
  /** Flat (c, k, l) positions of the kept coefficients. */
  index: number[];
  mean: number[];
  /** Row-major m x m covariance of the kept coefficients of C_1 x0. */
  covariance: number[];
}

export interface GaussianPriorFitOptions {
  /** The blur std at t = 1 (corruption.level(1)). */
  sigmaB1: number;
  /** The noise std at t = 1. */
  sigma1: number;
  /** Keep coefficients with d_1 > threshold (default 1e-3). */
  threshold?: number;
}

export class GaussianPrior implements PriorSource {
  readonly m: number;
  readonly cholesky: Float64Array;
  private constructor(readonly json: GaussianPriorJSON) {
    this.m = json.index.length;
    this.cholesky = choleskyLower(Float64Array.from(json.covariance), this.m);
  }

  static fromJSON(json: GaussianPriorJSON): GaussianPrior {
    const m = json.index.length;
    if (json.mean.length !== m || json.covariance.length !== m * m) throw new ShapeError('Gaussian prior', `mean ${m}, covariance ${m * m}`, `${json.mean.length}, ${json.covariance.length}`);
    return new GaussianPrior(json);
  }

  /** Kept coefficients: flat (c, k, l) positions where d_1 > threshold (the same in every channel). */
  static keptIndex(c: number, h: number, w: number, sigmaB1: number, threshold = 1e-3): number[] {
    const d = blurSpectrum(h, w, sigmaB1);
    const idx: number[] = [];
    for (let ch = 0; ch < c; ch++) for (let q = 0; q < h * w; q++) if (d[q]! > threshold) idx.push(ch * h * w + q);
    return idx;
  }

  /** One GPU pass over the data: DCT, gather the kept coefficients times d_1, accumulate mean and covariance in float64. */
  static async fit(gpu: Gpu, data: ImageBatches, opts: GaussianPriorFitOptions): Promise<GaussianPrior> {
    const threshold = opts.threshold ?? 1e-3;
    let dims: [number, number, number] | null = null;
    let index: number[] = [];
    let scale: Float64Array = new Float64Array();
    let sum = new Float64Array();
    let outer = new Float64Array();
    let count = 0;
    await forEachBatch(data, async (batch, [n, c, h, w]) => {
      if (!dims) {
        dims = [c, h, w];
        index = GaussianPrior.keptIndex(c, h, w, opts.sigmaB1, threshold);
        if (!index.length) throw new ValueError(`No DCT coefficient survives the blur sigmaB = ${opts.sigmaB1} (d > ${threshold}).`, 'Lower the threshold.');
        const d = blurSpectrum(h, w, opts.sigmaB1);
        scale = Float64Array.from(index, (q) => d[q % (h * w)]!);
        sum = new Float64Array(index.length);
        outer = new Float64Array(index.length ** 2);
      }
      const m = index.length;
      const scope = gpu.scope('prior-fit');
      let y: Float32Array;
      try {
        const X = scope.tensor(batch.shape, 'prior-fit:dct');
        const Y = scope.tensor([n, m], 'prior-fit:kept');
        const idx = scope.upload(Uint32Array.from(index), [m], 'prior-fit:index');
        const sc = scope.upload(Float32Array.from(scale), [m], 'prior-fit:scale');
        const ds = [...(await dctForward(scope, batch, X)), await priorKernel(scope, 'gather_coefficients', [dummyState(scope), X, idx, sc, Y], priorParams({ n: n * m, chw: c * h * w, m }), n * m)];
        scope.recorder('prior-fit').run(ds).submit();
        y = await scope.read(Y);
      } finally {
        scope.destroy();
      }
      for (let b = 0; b < n; b++)
        for (let i = 0; i < m; i++) {
          const yi = y[b * m + i]!;
          sum[i]! += yi;
          for (let j = 0; j <= i; j++) outer[i * m + j]! += yi * y[b * m + j]!;
        }
      count += n;
    });
    const m = index.length;
    const mean = Array.from(sum, (s) => s / count);
    const covariance = new Array<number>(m * m);
    for (let i = 0; i < m; i++)
      for (let j = 0; j <= i; j++) covariance[i * m + j] = covariance[j * m + i] = outer[i * m + j]! / count - mean[i]! * mean[j]!;
    const [c, h, w] = dims!;
    return new GaussianPrior({ kind: 'gaussian', channels: c, height: h, width: w, sigmaB1: opts.sigmaB1, sigma1: opts.sigma1, threshold, index, mean, covariance });
  }

  /** Dispatches writing mean + L z on the kept coefficients, inverse DCT, + sigma_1 eta into out [B, C, H, W]. */
  async plan(gpu: Gpu, out: Tensor, rng: RngState): Promise<Dispatch[]> {
    const { channels, height, width, index, mean, sigma1 } = this.json;
    const [b, c, h, w] = imageDims('prior output', out);
    if (c !== channels || h !== height || w !== width) throw new ShapeError('prior output', [b, channels, height, width], out.shape);
    const chw = c * h * w;
    const slot = new Uint32Array(chw);
    index.forEach((q, j) => (slot[q] = j + 1));
    const L = gpu.upload(Float32Array.from(this.cholesky), [this.m, this.m], 'prior:cholesky');
    const slots = gpu.upload(slot, [chw], 'prior:slots');
    const mu = gpu.upload(Float32Array.from(mean), [this.m], 'prior:mean');
    const coefs = gpu.tensor(out.shape, 'prior:coefficients');
    return [
      await priorKernel(gpu, 'scatter_sample', [rng.buffer, L, slots, mu, coefs], priorParams({ n: out.size, chw, m: this.m }), out.size),
      ...(await dctInverse(gpu, coefs, out)),
      await addPriorNoise(gpu, out, rng, sigma1),
    ];
  }

  toJSON(): GaussianPriorJSON {
    return structuredClone(this.json);
  }
}

/** Lower Cholesky factor of a symmetric positive semi-definite matrix; a tiny diagonal jitter keeps rank-deficient fits usable. */
export function choleskyLower(a: Float64Array, m: number): Float64Array {
  let trace = 0;
  for (let i = 0; i < m; i++) trace += a[i * m + i]!;
  const jitter = 1e-10 * Math.max(trace / Math.max(m, 1), 1e-30);
  const l = new Float64Array(m * m);
  for (let i = 0; i < m; i++)
    for (let j = 0; j <= i; j++) {
      let s = a[i * m + j]! + (i === j ? jitter : 0);
      for (let k = 0; k < j; k++) s -= l[i * m + k]! * l[j * m + k]!;
      if (i === j) {
        if (!(s > 0)) throw new ValueError(`Prior covariance is not positive definite (pivot ${s} at ${i}).`);
        l[i * m + i] = Math.sqrt(s);
      } else l[i * m + j] = s / l[j * m + j]!;
    }
  return l;
}

/** The option: x_1 = C_1 x0 + sigma_1 eta for data set images x0 (a GPU tensor [N, C, H, W]) chosen by the RNG. */
export class BlurredImagePrior implements PriorSource {
  constructor(
    readonly images: Tensor,
    readonly corruption: Corruption,
    readonly sigma1: number,
  ) {
    imageDims('prior images', images);
  }

  async plan(gpu: Gpu, out: Tensor, rng: RngState): Promise<Dispatch[]> {
    const [b, c, h, w] = imageDims('prior output', out);
    const [count, ...rest] = this.images.shape;
    if (rest.join() !== [c, h, w].join()) throw new ShapeError('prior images', [count!, c, h, w], this.images.shape);
    const picked = gpu.tensor(out.shape, 'prior:picked');
    const levels = gpu.upload(Float32Array.from({ length: b * LEVEL_STRIDE }, (_, i) => (i % LEVEL_STRIDE === 0 ? 1 : i % LEVEL_STRIDE === 1 ? this.corruption.level(1) : i % LEVEL_STRIDE === 2 ? this.sigma1 : 0)), [b, LEVEL_STRIDE], 'prior:levels');
    return [
      await priorKernel(gpu, 'gather_images', [rng.buffer, this.images, dummy(gpu), dummy(gpu), picked], priorParams({ n: out.size, chw: c * h * w, count: count! }), out.size),
      ...(await this.corruption.apply(gpu, picked, out, levels)),
      await addPriorNoise(gpu, out, rng, this.sigma1),
    ];
  }
}

/** A zero RNG key for the entry points that draw nothing (owned by the planning scope). */
function dummyState(gpu: Gpu): GPUBuffer {
  return gpu.uniform(new Uint32Array(4).buffer, 'prior:no-rng');
}
