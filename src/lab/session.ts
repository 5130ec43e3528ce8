// One run of the score-matching lab, shared by `softdiff lab` and the demo page: a density, an
// objective and a model; training with the four evaluation objectives recorded along the way
// (J_ESM(p) against J_ISM + C_ISM, J_ESM(q_sigma) against J_DSM + C_DSM: each pair coincides);
// the true, target and learned vector fields on a grid; Langevin samples from the learned model;
// the pictures (src/lab/render.ts) and a JSON report.
import type { Gpu } from '../gpu/gpu.ts';
import { ValueError } from '../gpu/errors.ts';
import type { Image8 } from '../io/grid.ts';
import { namedDensity, parseMixture } from './densities.ts';
import { LabEvaluator } from './evaluate.ts';
import { LangevinSampler } from './langevin.ts';
import { GaussianMixture } from './mixture.ts';
import { DEFAULT_SIGMA, geometricSigmas, objectiveSetup, type ObjectiveName, type Projection } from './objectives.ts';
import { COLORS, blank, densityImage, drawArrows, drawPoints, fieldGrid, hconcat, lineChart, chartSvg, viewBox, type Box, type Series } from './render.ts';
import { LabTrainer, TRAINER_DEFAULTS, type ModelConfig } from './trainer.ts';

export interface LabSettings {
  /** A named density (rings, grid, spiral, moons, gaussian) or a mixture as JSON. */
  density: string;
  dim?: number;
  objective: ObjectiveName;
  /** DSM / smoothed / Parzen / DAE noise level, and the sigma of the J_ESM(q_sigma) vs J_DSM pair. */
  sigma?: number;
  /** NCSN levels: geometric from sigmaMax down to sigmaMin. */
  sigmaMax?: number;
  sigmaMin?: number;
  levels?: number;
  projections?: number;
  projection?: Projection;
  model?: ModelConfig;
  batch?: number;
  lr?: number;
  /** The learning rate decays geometrically to lr * lrDecay over the run (default 0.1). */
  lrDecay?: number;
  seed?: number;
  trainSize?: number;
  /** Points in each evaluation set (default 4096). */
  evalPoints?: number;
  langevin?: { chains?: number; steps?: number; eps?: number };
}

export interface CurvePoint {
  step: number;
  /** The training objective on the last batch. */
  loss: number;
  esm: number;
  ism: number;
  esmSmoothed: number;
  dsm: number;
  /**
   * Standard errors of the means of the per-point differences J_ESM(p) - J_ISM and
   * J_ESM(q_sigma) - J_DSM: how far each pair may sit from its constant by Monte Carlo error alone.
   */
  seIsmPair: number;
  seDsmPair: number;
}

/** Mean of a and standard error of the mean of a - b (float64). */
function pairStats(a: Float32Array, b: Float32Array): { mean: number; se: number } {
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    s += d;
    s2 += d * d;
  }
  const m = s / a.length;
  return { mean: m, se: Math.sqrt(Math.max(0, s2 / a.length - m * m) / a.length) };
}

const mean = (a: Float32Array) => a.reduce((s, v) => s + v, 0) / a.length;

export interface FieldData {
  points: Float32Array;
  truth: Float32Array;
  /** The score the objective targets when it is not p's (q_sigma's, or the Parzen estimate's). */
  target: Float32Array | null;
  learned: Float32Array;
  cell: number;
}

export function resolveDensity(spec: string, dim = 2): GaussianMixture {
  const s = spec.trim();
  return s.startsWith('{') ? parseMixture(s, 'the density JSON') : namedDensity(s, dim);
}

export class LabSession {
  readonly curve: CurvePoint[] = [];
  private trainSeconds = 0;
  private constructor(
    private readonly gpu: Gpu,
    readonly settings: LabSettings,
    readonly density: GaussianMixture,
    readonly trainer: LabTrainer,
    readonly evaluator: LabEvaluator,
    /** NCSN's levels (else null). */
    readonly sigmas: number[] | null,
  ) {}

  static async create(gpu: Gpu, settings: LabSettings): Promise<LabSession> {
    const density = resolveDensity(settings.density, settings.dim ?? 2);
    const sigma = settings.sigma ?? DEFAULT_SIGMA;
    const sigmas = settings.objective === 'ncsn' ? geometricSigmas(settings.sigmaMax ?? 3, settings.sigmaMin ?? 0.05, settings.levels ?? 10) : null;
    const objective = { objective: settings.objective, sigma, sigmas: sigmas ?? undefined, projections: settings.projections, projection: settings.projection };
    objectiveSetup(objective, density.dim); // validates before any GPU work
    const trainer = await LabTrainer.create(gpu, density, { objective, model: settings.model, batch: settings.batch, lr: settings.lr, seed: settings.seed, trainSize: settings.trainSize });
    let evaluator: LabEvaluator;
    try {
      evaluator = await LabEvaluator.create(gpu, trainer.model, density, { points: settings.evalPoints ?? 4096, sigma, cleanSigma: sigmas ? sigmas[sigmas.length - 1] : sigma, seed: ((settings.seed ?? 0) ^ 0xe7a1) >>> 0 });
    } catch (e) {
      trainer.destroy();
      throw e;
    }
    return new LabSession(gpu, settings, density, trainer, evaluator, sigmas);
  }

  get step(): number {
    return this.trainer.step;
  }

  /** The evaluation objectives now, with the last batch's loss, appended to the curve. */
  async record(): Promise<CurvePoint> {
    const pp = await this.evaluator.perPoint();
    const loss = this.step > 0 ? await this.trainer.loss() : Number.NaN;
    const p: CurvePoint = {
      step: this.step,
      loss,
      esm: mean(pp.esm),
      ism: mean(pp.ism),
      esmSmoothed: mean(pp.esmSmoothed),
      dsm: mean(pp.dsm),
      seIsmPair: pairStats(pp.esm, pp.ism).se,
      seDsmPair: pairStats(pp.esmSmoothed, pp.dsm).se,
    };
    this.curve.push(p);
    return p;
  }

  /**
   * Train `steps` more steps of a run of `total`, recording every `every` steps (and at the end);
   * the learning rate follows lr * lrDecay^(step / total). `shouldStop` is checked between chunks.
   */
  async train(steps: number, o: { every?: number; total?: number; onPoint?: (p: CurvePoint) => void; shouldStop?: () => boolean } = {}): Promise<void> {
    const every = Math.max(1, o.every ?? 100);
    const total = o.total ?? this.step + steps;
    const lr = this.settings.lr ?? TRAINER_DEFAULTS.lr;
    const decay = this.settings.lrDecay ?? 0.1;
    if (!(decay > 0 && decay <= 1)) throw new ValueError(`lrDecay must be in (0, 1], got ${decay}.`);
    const record = async () => {
      const p = await this.record();
      o.onPoint?.(p);
    };
    if (this.curve.length === 0) await record();
    const end = this.step + steps;
    while (this.step < end && !o.shouldStop?.()) {
      const n = Math.min(every - (this.step % every), end - this.step);
      this.trainer.optimizer.setLearningRate(lr * decay ** (this.step / Math.max(1, total)));
      const t0 = performance.now();
      this.trainer.run(n);
      await this.gpu.done();
      this.trainSeconds += (performance.now() - t0) / 1000;
      if (this.step % every === 0 || this.step === end) await record();
    }
  }

  /** The model at the sampling end: NCSN's smallest level, else the model itself. */
  private get modelSigma(): number {
    return this.sigmas ? this.sigmas[this.sigmas.length - 1]! : (this.settings.sigma ?? DEFAULT_SIGMA);
  }

  /** The mixture whose score the objective targets, when it is not p. */
  targetDensity(): GaussianMixture | null {
    const sigma = this.settings.sigma ?? DEFAULT_SIGMA;
    switch (this.settings.objective) {
      case 'esm-smoothed':
      case 'dsm':
      case 'dae':
        return this.density.smoothed(sigma);
      case 'esm-parzen':
        return GaussianMixture.parzen(this.trainer.trainingSet!, this.density.dim, sigma);
      default:
        return null;
    }
  }

  get box(): Box {
    return viewBox(this.density);
  }

  /** True, target and learned scores on an n x n grid over the view (other coordinates at the mean). */
  async field(n = 21, size = 384): Promise<FieldData> {
    const d = this.density.dim;
    const { points, cell } = fieldGrid(this.box, n, size);
    const count = n * n;
    const mean = this.density.mean();
    const full = (k: number) => {
      const x = Float64Array.from(mean);
      x[0] = points[2 * k]!;
      x[1] = points[2 * k + 1]!;
      return x;
    };
    const two = (mix: GaussianMixture) => {
      const out = new Float32Array(2 * count);
      for (let k = 0; k < count; k++) {
        const g = mix.score(full(k));
        out[2 * k] = g[0]!;
        out[2 * k + 1] = g[1]!;
      }
      return out;
    };
    const target = this.targetDensity();
    const model = this.trainer.model;
    const plan = await model.plan(count, 0);
    try {
      const din = model.spec.inputDim;
      const rows = new Float32Array(count * din);
      for (let k = 0; k < count; k++) {
        rows.set(full(k), k * din);
        if (din > d) rows[k * din + d] = Math.log(this.modelSigma);
      }
      this.gpu.write(plan.input, rows);
      this.gpu.recorder('lab field').run(plan.forward).submit();
      const out = await this.gpu.read(plan.output);
      const learned = new Float32Array(2 * count);
      for (let k = 0; k < count; k++) {
        learned[2 * k] = out[k * d]!;
        learned[2 * k + 1] = out[k * d + 1]!;
      }
      return { points, truth: two(this.density), target: target ? two(target) : null, learned, cell };
    } finally {
      plan.destroy();
    }
  }

  /** Langevin defaults for the learned model: annealed over NCSN's levels, else plain. */
  langevinDefaults(): { chains: number; steps: number; eps: number; sigmas?: number[] } {
    const l = this.settings.langevin ?? {};
    if (this.sigmas) {
      const last = this.sigmas[this.sigmas.length - 1]!;
      return { chains: l.chains ?? 2048, steps: l.steps ?? 100, eps: l.eps ?? 0.1 * last * last, sigmas: this.sigmas };
    }
    const target = this.targetDensity() ?? this.density;
    return { chains: l.chains ?? 2048, steps: l.steps ?? 500, eps: l.eps ?? 0.1 * target.minStd() ** 2 };
  }

  /** Langevin samples from the learned model [chains * dim]. */
  async samples(): Promise<Float32Array> {
    const o = this.langevinDefaults();
    const s = await LangevinSampler.create(this.gpu, { model: this.trainer.model }, { ...o, seed: this.settings.seed ?? 0, box: this.density.bounds(3) });
    try {
      return await s.run();
    } finally {
      s.destroy();
    }
  }

  /** The curves as chart series: each J_ESM with its equivalent (dashed) shifted by the constant. */
  series(): Series[] {
    const x = this.curve.map((p) => p.step);
    const ev = this.evaluator;
    return [
      { label: 'J_ESM(p)', color: COLORS.esm, x, y: this.curve.map((p) => p.esm) },
      { label: 'J_ISM + C_ISM', color: COLORS.ism, dash: 6, x, y: this.curve.map((p) => p.ism + ev.cIsm) },
      { label: `J_ESM(q_${ev.sigma})`, color: COLORS.esmSmoothed, x, y: this.curve.map((p) => p.esmSmoothed) },
      { label: 'J_DSM + C_DSM', color: COLORS.dsm, dash: 6, x, y: this.curve.map((p) => p.dsm + ev.cDsm) },
    ];
  }

  /**
   * The three field panels over a backdrop. Arrow lengths saturate at the median magnitude of a
   * reference field: p's score for the true panel; the target's (q_sigma's, or p's when the
   * objective targets p) for the target and learned panels, so that those two read on one scale.
   */
  fieldPanels(field: FieldData, backdrop: Image8): { truth: Image8; target: Image8 | null; learned: Image8 } {
    const median = (v: Float32Array) => {
      const m = Array.from({ length: v.length / 2 }, (_, k) => Math.hypot(v[2 * k]!, v[2 * k + 1]!)).sort((a, b) => a - b);
      return m[Math.floor(m.length / 2)]! || 1;
    };
    const refTruth = median(field.truth);
    const refTarget = field.target ? median(field.target) : refTruth;
    const panel = (v: Float32Array, c: (typeof COLORS)[keyof typeof COLORS], ref: number) => {
      const img: Image8 = { ...backdrop, data: backdrop.data.slice() };
      drawArrows(img, this.box, field.points, v, c, field.cell, ref);
      return img;
    };
    return {
      truth: panel(field.truth, COLORS.truth, refTruth),
      target: field.target ? panel(field.target, COLORS.target, refTarget) : null,
      learned: panel(field.learned, COLORS.learned, refTarget),
    };
  }

  /** density, field (true | target | learned), samples and curves pictures. */
  pictures(field: FieldData, samples: Float32Array, size = 384): { density: Image8; field: Image8; samples: Image8; curves: Image8; curvesSvg: string } {
    const box = this.box;
    const density = densityImage(this.density, box, size);
    const backdrop = densityImage(this.density, box, size, 0.55);
    const p = this.fieldPanels(field, backdrop);
    const panels = p.target ? [p.truth, p.target, p.learned] : [p.truth, p.learned];
    const sampleImg: Image8 = { ...backdrop, data: backdrop.data.slice() };
    drawPoints(sampleImg, box, samples, COLORS.sample, 1.2, 0.8, this.density.dim);
    const series = this.series();
    return {
      density,
      field: hconcat(panels),
      samples: sampleImg,
      curves: this.curve.length > 1 ? lineChart(series) : blank(640, 320),
      curvesSvg: chartSvg(series, `${this.settings.objective} on ${this.densityLabel}`, 'training step'),
    };
  }

  get densityLabel(): string {
    return this.settings.density.trim().startsWith('{') ? 'a user mixture' : this.settings.density;
  }

  /** Everything measured, as plain JSON. */
  report(samples?: Float32Array): Record<string, unknown> {
    const ev = this.evaluator;
    const last = this.curve[this.curve.length - 1];
    const d = this.density.dim;
    let sampleMoments: Record<string, unknown> | undefined;
    if (samples) {
      const n = samples.length / d;
      const mean = new Array(d).fill(0);
      for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += samples[i * d + j]! / n;
      const cov = new Array(d * d).fill(0);
      for (let i = 0; i < n; i++) for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) cov[a * d + b] += ((samples[i * d + a]! - mean[a]) * (samples[i * d + b]! - mean[b])) / n;
      sampleMoments = { ...this.langevinDefaults(), chains: n, mean, covariance: cov, exactMean: [...this.density.mean()], exactCovariance: [...this.density.covariance()] };
    }
    return {
      density: { spec: this.settings.density, dim: d, components: this.density.size },
      objective: this.settings.objective,
      settings: this.settings,
      model: { kind: this.trainer.model.spec.kind, parameters: this.trainer.model.parameterCount, conditional: this.trainer.model.spec.output.conditional },
      sigmas: this.sigmas,
      constants: {
        sigma: ev.sigma,
        fisherP: ev.fisher.p,
        fisherSmoothed: ev.fisher.smoothed,
        cIsm: ev.cIsm,
        cDsm: ev.cDsm,
        evalSetConstants: ev.sampleConstants,
        note: 'J_ESM(p) = J_ISM + cIsm; J_ESM(q_sigma) = J_DSM + cDsm (expectations). The curves are means over fixed evaluation points; on those points the constants are evalSetConstants, which differ from cIsm, cDsm by the evaluation set\'s Monte Carlo error (the same at every step)',
      },
      evalPoints: this.settings.evalPoints ?? 4096,
      final: last && {
        ...last,
        ismPlusC: last.ism + ev.cIsm,
        dsmPlusC: last.dsm + ev.cDsm,
        /** (J_ESM - (J + C)) in standard errors of the per-point differences: |z| < ~3 is agreement. */
        ismPairZ: (last.esm - last.ism - ev.cIsm) / last.seIsmPair,
        dsmPairZ: (last.esmSmoothed - last.dsm - ev.cDsm) / last.seDsmPair,
      },
      curve: this.curve,
      samples: sampleMoments,
      timing: { trainSeconds: this.trainSeconds, steps: this.step, stepsPerSecond: this.step / Math.max(this.trainSeconds, 1e-9), adapter: this.gpu.adapter.description || this.gpu.adapter.key },
    };
  }

  destroy(): void {
    this.evaluator.destroy();
    this.trainer.destroy();
  }
}
