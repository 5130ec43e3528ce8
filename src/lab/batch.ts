// A batch of the lab on the GPU (shaders/lab_batch.wgsl): points drawn from a source (a mixture, or
// the empirical distribution of a training set), optionally noised at a per-point level, with the
// tangent directions an objective needs, written straight into a model plan's input rows; then the
// model's forward pass. The RNG key is (seed, step): setStep() before each training step's submit;
// an evaluation batch keeps one step and so sees the same points every time.
import type { Gpu } from '../gpu/gpu.ts';
import { grid1d, Params, type Dispatch } from '../gpu/kernel.ts';
import { ValueError } from '../gpu/errors.ts';
import type { Tensor } from '../gpu/tensor.ts';
import { RngState } from '../diffusion/rng.ts';
import { componentStride } from './mixture.ts';
import type { ModelPlan, ScoreModel, PlanOptions } from './score-model.ts';

export const TANGENT_MODES = { none: 0, basis: 1, gaussian: 2, rademacher: 3 } as const;
export type TangentMode = keyof typeof TANGENT_MODES;

export interface BatchOptions {
  /** Points per batch. */
  primal: number;
  /** Tangent directions per point (basis: exactly the dimension). */
  tangents?: number;
  tangentMode?: TangentMode;
  /** x~ = x + sigma z (else x~ = x; sigma is still written and fed to a conditional model). */
  noise?: boolean;
  /** Levels; each point draws one uniformly. */
  sigmas: readonly number[];
  /** Sampler layout (GaussianMixture.packSampler() or packEmpirical()). */
  source: Float32Array;
  seed: number;
  /** The model's output transform off (the tied autoencoder's reconstruction). */
  model?: PlanOptions;
}

const WG = 64;

export class BatchPlan {
  private constructor(
    private readonly gpu: Gpu,
    readonly model: ModelPlan,
    readonly rng: RngState,
    readonly clean: Tensor,
    readonly noise: Tensor,
    readonly sigma: Tensor,
    /** The draw, then the model's forward pass. */
    readonly dispatches: Dispatch[],
    readonly options: Required<Omit<BatchOptions, 'model'>>,
  ) {}

  static async create(parent: Gpu, scoreModel: ScoreModel, o: BatchOptions): Promise<BatchPlan> {
    const spec = scoreModel.spec;
    const d = spec.dim;
    const tangentMode = o.tangentMode ?? (o.tangents ? 'gaussian' : 'none');
    const tangents = tangentMode === 'none' ? 0 : tangentMode === 'basis' ? d : (o.tangents ?? 1);
    if (o.tangents !== undefined && tangentMode === 'basis' && o.tangents !== d) throw new ValueError(`Basis tangents give the exact trace with ${d} directions, not ${o.tangents}.`);
    if (o.sigmas.length < 1 || !o.sigmas.every((s) => Number.isFinite(s) && s > 0)) throw new ValueError(`Noise levels must be positive numbers, got [${o.sigmas.join(', ')}].`);
    const stride = componentStride(d);
    if (o.source.length < stride || o.source.length % stride !== 0) throw new ValueError(`The batch source table has ${o.source.length} floats, not a multiple of ${stride} (a ${d}-D sampler layout).`);
    const gpu = parent.scope('lab:batch');
    let model: ModelPlan | undefined;
    let rng: RngState | undefined;
    try {
      model = await scoreModel.plan(o.primal, tangents, o.model ?? {});
      rng = new RngState(gpu, o.seed >>> 0, 0);
      const source = gpu.upload(o.source, [o.source.length], 'lab:batch:source');
      const sigmas = gpu.upload(Float32Array.from(o.sigmas), [o.sigmas.length], 'lab:batch:sigmas');
      const clean = gpu.tensor([o.primal, d], 'lab:batch:clean');
      const noise = gpu.tensor([o.primal, d], 'lab:batch:noise');
      const sigma = gpu.tensor([o.primal], 'lab:batch:sigma');
      const params = gpu.uniform(
        new Params().u32(o.primal, d, spec.inputDim, o.source.length / stride, stride, tangents, TANGENT_MODES[tangentMode], o.sigmas.length, o.noise ? 1 : 0),
        'lab:batch',
      );
      const k = await gpu.kernel({ shader: 'lab_batch', entry: 'prepare_batch', bindings: ['uniform', 'uniform', 'read', 'read', 'rw', 'rw', 'rw', 'rw'], constants: { WG } });
      const draw = k.bind([params, rng.buffer, source, sigmas, model.input, clean, noise, sigma], grid1d(o.primal, WG), 'lab batch');
      const options = { primal: o.primal, tangents, tangentMode, noise: !!o.noise, sigmas: [...o.sigmas], source: o.source, seed: o.seed };
      const plan = new BatchPlan(gpu, model, rng, clean, noise, sigma, [draw, ...model.forward], options);
      return plan;
    } catch (e) {
      model?.destroy();
      rng?.destroy();
      gpu.destroy();
      throw e;
    }
  }

  /** The RNG step of the next draw (written before the next submit). */
  setStep(step: number): void {
    this.rng.set(this.rng.seed, step >>> 0);
  }

  destroy(): void {
    this.model.destroy();
    this.rng.destroy();
    this.gpu.destroy();
  }
}
