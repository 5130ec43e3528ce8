// A Gaussian mixture's exact score on the GPU (shaders/lab_mixture.wgsl): the component table lives
// in one tensor; setMixture() rewrites it in place (e.g. the smoothed mixture of the next Langevin
// level, which has the same number of components).
import type { Gpu } from '../gpu/gpu.ts';
import { grid1d, Params, type Dispatch } from '../gpu/kernel.ts';
import { ShapeError, ValueError } from '../gpu/errors.ts';
import type { Tensor } from '../gpu/tensor.ts';
import { componentStride, MAX_GPU_DIM, type GaussianMixture } from './mixture.ts';

const WG = 64;

export class GpuMixture {
  readonly gpu: Gpu;
  readonly table: Tensor;
  readonly dim: number;
  readonly components: number;

  constructor(parent: Gpu, mixture: GaussianMixture) {
    if (mixture.dim > MAX_GPU_DIM) throw new ValueError(`The GPU score takes dimensions up to ${MAX_GPU_DIM}, got ${mixture.dim}.`);
    this.gpu = parent.scope('lab:mixture');
    this.dim = mixture.dim;
    this.components = mixture.size;
    this.table = this.gpu.upload(mixture.pack(), [mixture.size, componentStride(mixture.dim)], 'lab:mixture');
  }

  /** Replace the components (same dimension and count). */
  setMixture(mixture: GaussianMixture): void {
    if (mixture.dim !== this.dim || mixture.size !== this.components)
      throw new ShapeError('GpuMixture.setMixture', `${this.components} components in ${this.dim}-D`, `${mixture.size} in ${mixture.dim}-D`);
    this.gpu.write(this.table, mixture.pack());
  }

  /**
   * A dispatch writing the score at the first `n` rows of `points` (row stride `rowStride` >= dim,
   * extra columns ignored) into `score` [n, dim].
   */
  async score(points: Tensor, n: number, rowStride: number, score: Tensor): Promise<Dispatch> {
    if (rowStride < this.dim || points.size < n * rowStride) throw new ShapeError('mixture score points', `${n} rows of ${rowStride} >= ${this.dim}`, points.shape);
    if (score.size < n * this.dim) throw new ShapeError('mixture score output', [n, this.dim], score.shape);
    const k = await this.gpu.kernel({ shader: 'lab_mixture', entry: 'mixture_score', bindings: ['uniform', 'read', 'read', 'rw'], constants: { WG } });
    const p = this.gpu.uniform(new Params().u32(n, this.dim, rowStride, this.components, componentStride(this.dim)), 'lab:mixture-score');
    return k.bind([p, this.table, points, score], grid1d(n, WG), 'lab mixture score');
  }

  destroy(): void {
    this.gpu.destroy();
  }
}
