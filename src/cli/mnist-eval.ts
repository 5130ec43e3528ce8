// The MNIST side of quality scoring shared by `softdiff eval` and `softdiff train`: the evaluator on
// the held-out digits with the shipped classifier, the JSON fields of a score, and the scores of a
// training run's EMA weights (--eval-every and the final scores).
import type { Gpu } from '../gpu/gpu.ts';
import { ValueError } from '../gpu/errors.ts';
import type { SamplerKind } from '../diffusion/samplers.ts';
import { loadMnist } from '../node/datasets.ts';
import { readClassifierWeights } from '../node/classifier-asset.ts';
import type { ClassifierWeights } from '../eval/classifier-weights.ts';
import { Evaluator, type QualityScores } from '../eval/evaluator.ts';
import { realImages, referenceImages } from '../eval/reference.ts';
import { EvalSampler } from '../eval/sample-set.ts';
import type { Trainer } from '../train/trainer.ts';

/** Defaults of `softdiff eval`: 1,000 samples (see docs/quality.md for the count dependence), batch 100. */
export const EVAL_DEFAULTS = { count: 1000, steps: 50, seed: 0, batch: 100 } as const;
/**
 * Samples scored at the end of `softdiff train` on MNIST (the main job): 100 samples with the preview
 * sampler cost about as much as six preview grids (docs/quality.md gives the time); the Fréchet
 * distance at 100 samples is biased upwards, so the real digits' distance at the same count is printed
 * beside it.
 */
export const FINAL_EVAL_COUNT = 100;
/** Most images one evaluation samples or reads (float32 images of 32x32x3: 1.2 GB at this bound). */
export const MAX_EVAL_IMAGES = 100_000;

/** Classifier weights (default: the shipped ones), checked to be an MNIST classifier. */
export async function mnistClassifier(path?: string): Promise<ClassifierWeights & { path: string }> {
  const weights = await readClassifierWeights(path);
  if (weights.info.dataset !== 'mnist') throw new ValueError(`${weights.path} was trained on '${weights.info.dataset}'; the scores are against MNIST.`, 'Pass an MNIST classifier with --classifier (or none: the shipped one).');
  return weights;
}

/** An evaluator on the held-out MNIST digits (the classifier's split; its statistics stored with the weights when they are). */
export async function mnistEvaluator(gpu: Gpu, weights: ClassifierWeights): Promise<Evaluator> {
  if (weights.reference) return Evaluator.create(gpu, { weights });
  const data = loadMnist();
  return Evaluator.create(gpu, { weights, reference: referenceImages(data, data.labels, weights.info) });
}

/** The scores as the JSON line's fields (rounded for reading; the histogram as is). */
export function scoreFields(s: QualityScores): Record<string, unknown> {
  const r = (v: number, digits: number) => Number(v.toPrecision(digits));
  return { count: s.count, fd: r(s.fd, 5), precision: r(s.precision, 4), recall: r(s.recall, 4), classEntropy: r(s.classEntropy, 4), confidence: r(s.confidence, 4), dctFd: r(s.dctFd, 5), classHistogram: s.classHistogram };
}

/**
 * Quality scores of a training run's EMA weights, for `softdiff train` (--eval-every and the final
 * scores): MNIST runs only. The evaluator and the sampler (the run's preview sampler and steps, batch
 * min(count, 100)) are planned at the first call and reused; the real-digit floor at the same count is
 * computed once per count.
 */
export class TrainingScores {
  private sampler: EvalSampler | null = null;
  private readonly floors = new Map<number, number>();

  private constructor(
    private readonly gpu: Gpu,
    private readonly trainer: Trainer,
    private readonly evaluator: Evaluator,
    private readonly weights: ClassifierWeights,
  ) {}

  static async create(gpu: Gpu, trainer: Trainer, classifierPath?: string): Promise<TrainingScores> {
    const ds = trainer.dataset;
    if (!ds.name.startsWith('mnist')) throw new ValueError(`Quality scores are for MNIST runs; this run trains on '${ds.name}'.`, 'Drop --eval-every (and set --final-eval 0), or train on mnist.');
    const weights = await mnistClassifier(classifierPath);
    return new TrainingScores(gpu, trainer, await mnistEvaluator(gpu, weights), weights);
  }

  /** Scores of `count` samples of the current EMA weights (seed 0), and the real digits' FD at that count. */
  async score(count: number): Promise<{ scores: QualityScores; realFd: number; seconds: number; sampler: SamplerKind; steps: number }> {
    const t0 = performance.now();
    const o = this.trainer.options;
    const batch = Math.min(count, EVAL_DEFAULTS.batch);
    if (!this.sampler || this.sampler.batch !== batch) {
      this.sampler?.destroy();
      this.sampler = await EvalSampler.create(this.gpu, { config: o.model, corruption: this.trainer.corruption, noise: this.trainer.noise, priorBank: this.trainer.prior, steps: o.sampleSteps, sampler: o.sampler, langevinStepsPerLevel: 5, batch });
    }
    this.sampler.setWeights(await this.trainer.readFlat('ema'));
    const scores = await this.evaluator.score(await this.sampler.sample(count, 0));
    let realFd = this.floors.get(count);
    if (realFd === undefined) {
      const data = loadMnist();
      realFd = (await this.evaluator.score(realImages(data, data.labels, this.weights.info, count, 0))).fd;
      this.floors.set(count, realFd);
    }
    return { scores, realFd, seconds: (performance.now() - t0) / 1000, sampler: o.sampler, steps: o.sampleSteps };
  }

  destroy(): void {
    this.sampler?.destroy();
    this.evaluator.destroy();
  }
}
