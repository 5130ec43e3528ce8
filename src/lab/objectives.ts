// The score-matching objectives of the lab (shaders/lab_objective.wgsl; docs/score-matching.md has
// one paragraph and the formula for each). All of them are a batch (src/lab/batch.ts), the model's
// forward pass over it, possibly an exact target score (src/lab/mixture-gpu.ts), and a per-point
// value whose mean is the objective:
//   esm           1/2 E_p ||s(x) - grad log p(x)||^2
//   esm-smoothed  1/2 E_{q_s} ||s(x~) - grad log q_s(x~)||^2          (q_s = p * N(0, s^2 I))
//   esm-parzen    the same with q_s the Parzen estimate on a finite training set
//   ism           E_p [tr J_s(x) + 1/2 ||s(x)||^2]                    (exact trace: D basis JVPs)
//   ssm           E_v E_p [v^T J_s v + 1/2 (v^T s)^2]                 (M Gaussian or Rademacher v)
//   ssm-vr        E_v E_p [v^T J_s v] + 1/2 E_p ||s||^2               (variance-reduced sliced SM)
//   dsm           1/2 E_p E_z ||s(x + s z) + z / s||^2
//   ncsn          1/2 E_level E_p E_z ||sigma s(x + sigma z, sigma) + z||^2   (lambda = sigma^2)
//   dae           E ||r(x~) - x||^2 on the tied autoencoder's reconstruction r
// An ObjectivePlan holds one batch and any number of heads on it (training uses one, with the
// gradient into the model's dOutput; evaluation several, e.g. ESM(q_s) and DSM on the same x~).
import type { Gpu } from '../gpu/gpu.ts';
import { grid1d, Params, type Dispatch } from '../gpu/kernel.ts';
import { ValueError } from '../gpu/errors.ts';
import type { Tensor } from '../gpu/tensor.ts';
import { planReduce } from '../kernels/reduce.ts';
import { BatchPlan, type BatchOptions, type TangentMode } from './batch.ts';
import { GaussianMixture, packEmpirical } from './mixture.ts';
import { GpuMixture } from './mixture-gpu.ts';
import type { ScoreModel } from './score-model.ts';

export const OBJECTIVES = ['esm', 'esm-smoothed', 'esm-parzen', 'ism', 'ssm', 'ssm-vr', 'dsm', 'ncsn', 'dae'] as const;
export type ObjectiveName = (typeof OBJECTIVES)[number];
export const PROJECTIONS = ['gaussian', 'rademacher'] as const;
export type Projection = (typeof PROJECTIONS)[number];

export interface ObjectiveConfig {
  objective: ObjectiveName;
  /** Noise level of dsm, esm-smoothed, esm-parzen and dae (default 0.3). */
  sigma?: number;
  /** NCSN's levels, largest first (default geometricSigmas(3, 0.05, 10)). */
  sigmas?: readonly number[];
  /** Sliced SM: projections per point (default 1) and their distribution (default gaussian). */
  projections?: number;
  projection?: Projection;
}

/** The target of a regression head: a mixture's exact score, the clean point, or none. */
export type Target = GaussianMixture | 'clean' | null;

export interface HeadSpec {
  /** 0 regress (target), 1 dsm (-z / sigma), 2 trace (ISM / sliced). */
  mode: 0 | 1 | 2;
  sliced?: boolean;
  /** Weight sigma^weightPower (NCSN: 2). */
  weightPower?: number;
  /** Regress/dsm: coef ||s - t||^2 (1/2 for score matching, 1 for the autoencoder loss). */
  coef?: number;
  /** Trace: c in c sum_m v_m . J v_m (1 for the exact trace, 1 / M for sliced). */
  traceScale?: number;
  target?: Target;
}

export interface ObjectiveHead {
  spec: HeadSpec;
  /** Per-point values [B]. */
  perSample: Tensor;
  /** Their mean [1]. */
  loss: Tensor;
}

/** sigma_max (sigma_min / sigma_max)^(i / (L - 1)), i = 0..L-1: NCSN's geometric levels, largest first. */
export function geometricSigmas(max: number, min: number, levels: number): number[] {
  if (!(max > 0 && min > 0 && max >= min)) throw new ValueError(`Noise levels need 0 < sigma_min <= sigma_max, got ${min} and ${max}.`);
  if (!Number.isInteger(levels) || levels < 1 || levels > 1000) throw new ValueError(`The number of noise levels must be an integer in [1, 1000], got ${levels}.`);
  if (levels === 1) return [max];
  return Array.from({ length: levels }, (_, i) => max * (min / max) ** (i / (levels - 1)));
}

export const DEFAULT_SIGMA = 0.3;
export const defaultSigmas = () => geometricSigmas(3, 0.05, 10);

/** What the objective needs of its batch, and its head. */
export interface ObjectiveSetup {
  tangents: number;
  tangentMode: TangentMode;
  noise: boolean;
  sigmas: number[];
  /** Train on a finite training set (esm-parzen) instead of fresh draws from p. */
  needsTrainingSet: boolean;
  /** The model's raw output (dae). */
  raw: boolean;
  conditional: boolean;
  head: Omit<HeadSpec, 'target'> & { target: 'p' | 'smoothed' | 'parzen' | 'clean' | null };
}

export function objectiveSetup(cfg: ObjectiveConfig, dim: number): ObjectiveSetup {
  const sigma = cfg.sigma ?? DEFAULT_SIGMA;
  if (!(Number.isFinite(sigma) && sigma > 0)) throw new ValueError(`sigma must be a positive number, got ${sigma}.`);
  const base = { tangents: 0, tangentMode: 'none' as TangentMode, noise: false, sigmas: [sigma], needsTrainingSet: false, raw: false, conditional: false };
  const regress = (target: ObjectiveSetup['head']['target']) => ({ mode: 0 as const, coef: 0.5, target });
  const m = cfg.projections ?? 1;
  if (!Number.isInteger(m) || m < 1 || m > 64) throw new ValueError(`Sliced score matching takes 1 to 64 projections per point, got ${m}.`);
  const projection = cfg.projection ?? 'gaussian';
  if (!PROJECTIONS.includes(projection)) throw new ValueError(`Unknown projection '${projection}'.`, `Use ${PROJECTIONS.join(' or ')}.`);
  switch (cfg.objective) {
    case 'esm':
      return { ...base, head: regress('p') };
    case 'esm-smoothed':
      return { ...base, noise: true, head: regress('smoothed') };
    case 'esm-parzen':
      return { ...base, noise: true, needsTrainingSet: true, head: regress('parzen') };
    case 'ism':
      return { ...base, tangents: dim, tangentMode: 'basis', head: { mode: 2, sliced: false, traceScale: 1, target: null } };
    case 'ssm':
    case 'ssm-vr':
      return { ...base, tangents: m, tangentMode: projection, head: { mode: 2, sliced: cfg.objective === 'ssm', traceScale: 1 / m, target: null } };
    case 'dsm':
      return { ...base, noise: true, head: { mode: 1, coef: 0.5, target: null } };
    case 'ncsn': {
      const sigmas = [...(cfg.sigmas ?? defaultSigmas())];
      if (!sigmas.every((s) => Number.isFinite(s) && s > 0)) throw new ValueError(`NCSN levels must be positive numbers, got [${sigmas.join(', ')}].`);
      return { ...base, noise: true, sigmas, conditional: true, head: { mode: 1, coef: 0.5, weightPower: 2, target: null } };
    }
    case 'dae':
      return { ...base, noise: true, raw: true, head: { mode: 0, coef: 1, target: 'clean' } };
    default:
      throw new ValueError(`Unknown objective '${cfg.objective as string}'.`, `Use one of ${OBJECTIVES.join(', ')}.`);
  }
}

const WG = 64;

/** One batch, the model's forward pass over it, and objective heads. */
export class ObjectivePlan {
  private constructor(
    private readonly gpu: Gpu,
    private readonly mixtures: GpuMixture[],
    readonly batch: BatchPlan,
    readonly heads: ObjectiveHead[],
    /** Draw, forward, targets, objectives, means. */
    readonly forward: Dispatch[],
  ) {}

  /** The model's backward pass from the dOutput the last head wrote (a training plan has one head). */
  get backward(): Dispatch[] {
    return this.batch.model.backward;
  }

  static async create(parent: Gpu, model: ScoreModel, batchOptions: BatchOptions, heads: HeadSpec[]): Promise<ObjectivePlan> {
    const gpu = parent.scope('lab:objective');
    const mixtures: GpuMixture[] = [];
    let batch: BatchPlan | undefined;
    try {
      batch = await BatchPlan.create(gpu, model, batchOptions);
      const { primal, tangents } = batch.options;
      const spec = model.spec;
      const mp = batch.model;
      const forward = [...batch.dispatches];
      const out: ObjectiveHead[] = [];
      const k = await gpu.kernel({ shader: 'lab_objective', entry: 'objective', bindings: ['uniform', 'read', 'read', 'read', 'read', 'read', 'rw', 'rw'], constants: { WG } });
      for (const [i, h] of heads.entries()) {
        if (h.mode === 2 && tangents === 0) throw new ValueError('A trace objective needs tangent directions in its batch.');
        let target: Tensor = batch.clean;
        if (h.target instanceof GaussianMixture) {
          const gm = new GpuMixture(gpu, h.target);
          mixtures.push(gm);
          target = gpu.tensor([primal, spec.dim], `lab:objective:target${i}`);
          forward.push(await gm.score(mp.input, primal, spec.inputDim, target));
        }
        const perSample = gpu.tensor([primal], `lab:objective:per-sample${i}`);
        const loss = gpu.tensor([1], `lab:objective:loss${i}`);
        const params = gpu.uniform(
          new Params()
            .u32(primal, spec.dim, tangents, spec.inputDim, h.mode, h.sliced ? 1 : 0, h.weightPower ?? 0)
            .f32(h.coef ?? 0.5, h.traceScale ?? 1, 1 / primal),
          `lab:objective${i}`,
        );
        forward.push(k.bind([params, mp.output, mp.input, target, batch.noise, batch.sigma, mp.dOutput, perSample], grid1d(primal, WG), `lab objective${i}`));
        const reduce = await planReduce(gpu, 'mean', perSample, loss);
        forward.push(...reduce.dispatches);
        out.push({ spec: h, perSample, loss });
      }
      return new ObjectivePlan(gpu, mixtures, batch, out, forward);
    } catch (e) {
      for (const m of mixtures) m.destroy();
      batch?.destroy();
      gpu.destroy();
      throw e;
    }
  }

  setStep(step: number): void {
    this.batch.setStep(step);
  }

  destroy(): void {
    for (const m of this.mixtures) m.destroy();
    this.batch.destroy();
    this.gpu.destroy();
  }
}

export interface TrainingObjectiveOptions {
  batch: number;
  seed: number;
  /** A finite training set [n * dim] (required by esm-parzen; otherwise fresh draws from p). */
  trainingSet?: Float32Array;
}

/** The plan one training step runs for `cfg` on `density`. */
export async function trainingObjective(gpu: Gpu, model: ScoreModel, density: GaussianMixture, cfg: ObjectiveConfig, o: TrainingObjectiveOptions): Promise<ObjectivePlan> {
  const setup = objectiveSetup(cfg, density.dim);
  checkModelFits(model, cfg.objective, setup);
  if (setup.needsTrainingSet && !o.trainingSet) throw new ValueError(`The ${cfg.objective} objective needs a finite training set.`, 'Give trainingSet (e.g. 1000 draws from the density).');
  const source = o.trainingSet ? packEmpirical(o.trainingSet, density.dim) : density.packSampler();
  const sigma = setup.sigmas[0]!;
  const t = setup.head.target;
  const target: Target =
    t === 'p' ? density : t === 'smoothed' ? density.smoothed(sigma) : t === 'parzen' ? GaussianMixture.parzen(o.trainingSet!, density.dim, sigma) : t;
  return ObjectivePlan.create(
    gpu,
    model,
    { primal: o.batch, tangents: setup.tangents, tangentMode: setup.tangentMode, noise: setup.noise, sigmas: setup.sigmas, source, seed: o.seed, model: { raw: setup.raw } },
    [{ ...setup.head, target }],
  );
}

/** The objective and the model must agree: NCSN needs a noise-conditional model, DAE the tied one. */
export function checkModelFits(model: ScoreModel, objective: ObjectiveName, setup: ObjectiveSetup): void {
  const cond = model.spec.output.conditional;
  if (setup.conditional && !cond) throw new ValueError(`The ${objective} objective trains a noise-conditional model.`, 'Create the MLP with conditional: true.');
  if (!setup.conditional && cond) throw new ValueError(`A noise-conditional model is trained with the ncsn objective, not ${objective}.`);
  if (setup.raw && model.spec.kind !== 'tied') throw new ValueError('The dae objective is the loss of the tied-weight autoencoder.', 'Use the tied model with dae, or dsm for an MLP.');
}
