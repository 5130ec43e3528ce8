// The four objectives behind the lab's equivalences, on fixed evaluation points, for any parameters:
//   clean points x ~ p (exact-trace tangents):  J_ESM(p) and J_ISM
//   noisy points x~ = x + sigma z (the same x~ for both):  J_ESM(q_sigma) and J_DSM
// with the constants that link them (src/lab/constants.ts): J_ESM(p) = J_ISM + C_ISM and
// J_ESM(q_sigma) = J_DSM + C_DSM. The points are drawn once on the GPU from a fixed RNG key, so
// every evaluation of every parameter value sees the same samples (common random numbers: the
// differences J_ESM - J_DSM of two parameter values differ only by the theta-dependent terms).
// A noise-conditional model is evaluated at conditioning sigma `sigma` on the noisy points and at
// `cleanSigma` (NCSN's smallest level, by default) on the clean ones.
import type { Gpu } from '../gpu/gpu.ts';
import type { Tensor } from '../gpu/tensor.ts';
import { dsmConstant, fisherInformation, ismConstant, type FisherEstimate } from './constants.ts';
import type { GaussianMixture } from './mixture.ts';
import { ObjectivePlan } from './objectives.ts';
import type { ScoreModel } from './score-model.ts';

export interface LabEvaluatorOptions {
  /** Points per evaluation set (default 4096). */
  points?: number;
  /** The DSM pair's noise level. */
  sigma: number;
  /** A conditional model's sigma on the clean points (default sigma). */
  cleanSigma?: number;
  seed?: number;
  /** Precomputed Fisher informations of p and q_sigma (they cost a quadrature). */
  fisher?: { p?: FisherEstimate; smoothed?: FisherEstimate };
}

export interface Evaluation {
  /** 1/2 E_p ||s - grad log p||^2: the distance to the true score. */
  esm: number;
  ism: number;
  /** 1/2 E_{q_sigma} ||s - grad log q_sigma||^2. */
  esmSmoothed: number;
  dsm: number;
}

export interface PerPoint {
  esm: Float32Array;
  ism: Float32Array;
  esmSmoothed: Float32Array;
  dsm: Float32Array;
}

export class LabEvaluator {
  private constructor(
    private readonly gpu: Gpu,
    readonly clean: ObjectivePlan,
    readonly noisy: ObjectivePlan,
    /** J_ESM(p) - J_ISM = F(p) / 2. */
    readonly cIsm: number,
    /** J_ESM(q_sigma) - J_DSM = F(q_sigma) / 2 - D / (2 sigma^2). */
    readonly cDsm: number,
    readonly fisher: { p: FisherEstimate; smoothed: FisherEstimate },
    readonly sigma: number,
    /**
     * The same constants on the evaluation points themselves: mean 1/2 ||grad log p||^2 over the clean
     * points, mean (1/2 ||grad log q_sigma||^2 - 1/2 ||z / sigma||^2) over the noisy ones. They differ
     * from cIsm, cDsm by the Monte Carlo error of the evaluation set, the same for every theta.
     */
    readonly sampleConstants: { cIsm: number; cDsm: number },
  ) {}

  static async create(gpu: Gpu, model: ScoreModel, density: GaussianMixture, o: LabEvaluatorOptions): Promise<LabEvaluator> {
    const n = o.points ?? 4096;
    const seed = (o.seed ?? 0x5ca1ab1e) >>> 0;
    const source = density.packSampler();
    const smoothed = density.smoothed(o.sigma);
    const clean = await ObjectivePlan.create(gpu, model, { primal: n, tangentMode: 'basis', noise: false, sigmas: [o.cleanSigma ?? o.sigma], source, seed }, [
      { mode: 0, coef: 0.5, target: density },
      { mode: 2, traceScale: 1 },
    ]);
    let noisy: ObjectivePlan;
    try {
      noisy = await ObjectivePlan.create(gpu, model, { primal: n, noise: true, sigmas: [o.sigma], source, seed: seed + 1 }, [
        { mode: 0, coef: 0.5, target: smoothed },
        { mode: 1, coef: 0.5 },
      ]);
    } catch (e) {
      clean.destroy();
      throw e;
    }
    const fisher = { p: o.fisher?.p ?? fisherInformation(density), smoothed: o.fisher?.smoothed ?? fisherInformation(smoothed) };
    // The evaluation points are fixed: draw them once and read what the constants need.
    gpu.recorder('lab evaluate: points').run(clean.forward).run(noisy.forward).submit();
    const d = density.dim;
    const cleanPts = await gpu.read(clean.batch.model.input);
    const noisyPts = await gpu.read(noisy.batch.model.input);
    const z = await gpu.read(noisy.batch.noise);
    let cIsm = 0;
    let cDsm = 0;
    const x = new Float64Array(d);
    const g = new Float64Array(d);
    for (let b = 0; b < n; b++) {
      for (let j = 0; j < d; j++) x[j] = cleanPts[b * model.spec.inputDim + j]!;
      density.score(x, g);
      for (let j = 0; j < d; j++) cIsm += (0.5 * g[j]! * g[j]!) / n;
      for (let j = 0; j < d; j++) x[j] = noisyPts[b * model.spec.inputDim + j]!;
      smoothed.score(x, g);
      for (let j = 0; j < d; j++) cDsm += (0.5 * (g[j]! * g[j]! - (z[b * d + j]! / o.sigma) ** 2)) / n;
    }
    return new LabEvaluator(gpu, clean, noisy, ismConstant(density, fisher.p), dsmConstant(density, o.sigma, fisher.smoothed), fisher, o.sigma, { cIsm, cDsm });
  }

  private record(): void {
    this.gpu.recorder('lab evaluate').run(this.clean.forward).run(this.noisy.forward).submit();
  }

  private get heads(): [Tensor, Tensor, Tensor, Tensor] {
    return [this.clean.heads[0]!, this.clean.heads[1]!, this.noisy.heads[0]!, this.noisy.heads[1]!].map((h) => h.loss) as [Tensor, Tensor, Tensor, Tensor];
  }

  /** The four objectives at the model's current parameters. */
  async evaluate(): Promise<Evaluation> {
    this.record();
    const [esm, ism, esmSmoothed, dsm] = await Promise.all(this.heads.map(async (t) => (await this.gpu.read(t))[0]!));
    return { esm: esm!, ism: ism!, esmSmoothed: esmSmoothed!, dsm: dsm! };
  }

  /** Their per-point values (for standard errors). */
  async perPoint(): Promise<PerPoint> {
    this.record();
    const h = [this.clean.heads[0]!, this.clean.heads[1]!, this.noisy.heads[0]!, this.noisy.heads[1]!];
    const [esm, ism, esmSmoothed, dsm] = await Promise.all(h.map((x) => this.gpu.read(x.perSample)));
    return { esm: esm!, ism: ism!, esmSmoothed: esmSmoothed!, dsm: dsm! };
  }

  destroy(): void {
    this.clean.destroy();
    this.noisy.destroy();
  }
}
