// Scoring a set of images against a fixed reference set: the classifier features of the reference
// (its Gaussian fit and k-NN radii) and its DCT statistics are computed once; each `score` call then
// costs one classifier pass over the images (GPU), one DCT statistics pass (GPU) and the float64
// metrics on the host. Browser-safe: the caller supplies the images as floats (the CLI reads them from
// MNIST, PNG files or a sampler; the demo from its worker).
import type { Gpu } from '../gpu/gpu.ts';
import { ShapeError, ValueError } from '../gpu/errors.ts';
import { datasetSpectrum, type DatasetSpectrum } from '../diffusion/level-scheduler.ts';
import type { ClassifierWeights, ReferenceStatistics } from './classifier-weights.ts';
import { FeatureExtractor } from './features.ts';
import { classStatistics, diagonalFrechetDistance, frechetDistance, gaussianFit, kthNeighbourRadii2, precisionRecall, type GaussianFit } from './metrics.ts';

/** k of the k-NN manifolds (Kynkäänniemi et al. 2019). */
export const PR_NEIGHBOURS = 3;

export interface QualityScores {
  count: number;
  /** Fréchet distance of the classifier's penultimate features to the reference set's (lower is better). */
  fd: number;
  /** Share of the images on the reference manifold (fidelity; higher is better). */
  precision: number;
  /** Share of the reference on the images' manifold (coverage; higher is better). */
  recall: number;
  /** Entropy of the predicted-class histogram / log K (1: all classes equally often; 0: one class). */
  classEntropy: number;
  /** Images per predicted class. */
  classHistogram: number[];
  /** Mean of the classifier's largest class probability (real held-out digits: about 0.97). */
  confidence: number;
  /** Fréchet distance of diagonal Gaussian fits of the DCT coefficients (classifier-free, any data set). */
  dctFd: number;
}

export interface EvaluatorOptions {
  weights: ClassifierWeights;
  /**
   * Reference images [M, C, S, S] in [0, 1] (MNIST: the held-out 20%). Default: the reference
   * statistics stored with the weights (referenceStatistics), which need no pass over the images.
   */
  reference?: Float32Array;
  /** Images per classifier pass (default 250). */
  batch?: number;
}

export class Evaluator {
  private constructor(
    private readonly gpu: Gpu,
    private readonly extractor: FeatureExtractor,
    readonly referenceCount: number,
    private readonly refFeatures: Float32Array,
    private readonly refFit: GaussianFit,
    private readonly refRadii2: Float64Array,
    private readonly refSpectrum: DatasetSpectrum,
  ) {}

  static async create(gpu: Gpu, o: EvaluatorOptions): Promise<Evaluator> {
    const extractor = await FeatureExtractor.create(gpu, o.weights, o.batch ?? 250);
    try {
      const c = o.weights.config;
      const stats = o.reference ? await referenceStatistics(gpu, extractor, o.reference) : o.weights.reference;
      if (!stats) throw new ValueError('The classifier weights hold no reference statistics; pass the reference images.', 'Use weights written by `softdiff classifier` (they store the held-out set), or give `reference`.');
      if (stats.count <= PR_NEIGHBOURS) throw new ValueError(`The reference set has ${stats.count} images; the metrics need more than ${PR_NEIGHBOURS}.`);
      const dim = extractor.net.featureDim;
      const fit = gaussianFit(stats.features, dim);
      const radii = kthNeighbourRadii2(stats.features, dim, PR_NEIGHBOURS);
      const spectrum: DatasetSpectrum = { channels: c.inChannels, height: c.imageSize, width: c.imageSize, count: stats.count, mean: stats.dctMean, variance: stats.dctVariance };
      return new Evaluator(gpu, extractor, stats.count, stats.features, fit, radii, spectrum);
    } catch (e) {
      extractor.destroy();
      throw e;
    }
  }

  /** Elements of one image the scores expect ([C, S, S]). */
  get imageElements(): number {
    return this.extractor.imageElements;
  }

  /** Scores of `images` ([count, C, S, S] floats; clipped to [0, 1] as a PNG would be). */
  async score(images: Float32Array): Promise<QualityScores> {
    const per = this.imageElements;
    if (images.length % per !== 0) throw new ShapeError('images to score', `a whole number of ${per}-value images`, `${images.length} values`);
    const count = images.length / per;
    if (count <= PR_NEIGHBOURS) throw new ValueError(`Scoring needs more than ${PR_NEIGHBOURS} images, got ${count}.`, 'Use a few hundred or more: the Fréchet distance is biased upwards at small counts (docs/quality.md).');
    const f = await this.extractor.run(images);
    const { precision, recall } = precisionRecall(this.refFeatures, f.features, f.featureDim, PR_NEIGHBOURS, this.refRadii2);
    const cls = classStatistics(f.probs, f.classes);
    const cfg = this.extractor.net.config;
    const spectrum = await dctSpectrum(this.gpu, clip01(images), cfg.inChannels, cfg.imageSize, this.extractor.net.batch);
    return {
      count,
      fd: frechetDistance(gaussianFit(f.features, f.featureDim), this.refFit),
      precision,
      recall,
      classEntropy: cls.entropy,
      classHistogram: cls.histogram,
      confidence: cls.confidence,
      dctFd: diagonalFrechetDistance(spectrum, this.refSpectrum),
    };
  }

  destroy(): void {
    this.extractor.destroy();
  }
}

/** The reference set's features and DCT statistics with these weights (what `softdiff classifier` stores). */
export async function referenceStatistics(gpu: Gpu, extractor: FeatureExtractor, images: Float32Array): Promise<ReferenceStatistics> {
  const c = extractor.net.config;
  const f = await extractor.run(images);
  const s = await dctSpectrum(gpu, clip01(images), c.inChannels, c.imageSize, extractor.net.batch);
  return { features: f.features, count: f.count, dctMean: s.mean, dctVariance: s.variance };
}

/** A copy clipped to [0, 1] (NaN -> 0), as the classifier and a PNG see the images. */
export function clip01(images: Float32Array): Float32Array {
  return images.map((v) => (v > 0 ? (v < 1 ? v : 1) : 0));
}

/**
 * The level scheduler's statistics (mean and variance of every DCT coefficient, SPEC section 5) of a set
 * of images, uploaded in batches: the Gaussian fit behind the classifier-free distance.
 */
export async function dctSpectrum(gpu: Gpu, images: Float32Array, channels: number, size: number, batch: number): Promise<DatasetSpectrum> {
  const per = channels * size * size;
  const count = images.length / per;
  const scope = gpu.scope('dct-spectrum');
  try {
    const uploaded = [];
    for (let start = 0; start < count; start += batch) {
      const n = Math.min(batch, count - start);
      uploaded.push(scope.upload(images.subarray(start * per, (start + n) * per), [n, channels, size, size], 'eval:dct-batch'));
    }
    return await datasetSpectrum(scope, uploaded);
  } finally {
    scope.destroy();
  }
}
