// Classifier features and class probabilities of a set of images, on the GPU, in batches: the
// inference plan is made once for `batch` images; a last partial batch is padded with blank images
// whose rows are dropped. Images are clipped to [0, 1] first (samplers do not clip, and a PNG of the
// same samples would hold the clipped values), so that scoring samples and scoring their PNGs agree.
import type { Gpu } from '../gpu/gpu.ts';
import { ShapeError, ValueError } from '../gpu/errors.ts';
import { Classifier } from './classifier.ts';
import type { ClassifierWeights } from './classifier-weights.ts';

export interface ImageFeatures {
  count: number;
  /** [count, F] penultimate features. */
  features: Float32Array;
  /** [count, K] softmax probabilities. */
  probs: Float32Array;
  featureDim: number;
  classes: number;
}

export class FeatureExtractor {
  private readonly staging: Float32Array;

  private constructor(
    private readonly gpu: Gpu,
    readonly net: Classifier,
  ) {
    this.staging = new Float32Array(net.x.size);
  }

  static async create(gpu: Gpu, weights: ClassifierWeights, batch = 250): Promise<FeatureExtractor> {
    if (!Number.isInteger(batch) || batch < 1) throw new ValueError(`The feature batch must be a positive integer, got ${batch}.`);
    const net = await Classifier.create(gpu, weights.config, { batch, weights: weights.flat });
    return new FeatureExtractor(gpu, net);
  }

  /** Elements of one image ([C, S, S]) the classifier expects. */
  get imageElements(): number {
    const c = this.net.config;
    return c.inChannels * c.imageSize * c.imageSize;
  }

  /** Features and probabilities of `images` ([count, C, S, S] floats, count = length / imageElements). */
  async run(images: Float32Array): Promise<ImageFeatures> {
    const per = this.imageElements;
    if (images.length % per !== 0 || images.length === 0) {
      const c = this.net.config;
      throw new ShapeError('images for the classifier', `a whole number of ${c.inChannels}x${c.imageSize}x${c.imageSize} images`, `${images.length} values`);
    }
    const count = images.length / per;
    const { net, gpu } = this;
    const f = net.featureDim;
    const k = net.config.classes;
    const features = new Float32Array(count * f);
    const probs = new Float32Array(count * k);
    for (let start = 0; start < count; start += net.batch) {
      const n = Math.min(net.batch, count - start);
      const src = images.subarray(start * per, (start + n) * per);
      for (let i = 0; i < src.length; i++) {
        const v = src[i]!;
        // NaN -> 0 like the PNG writer; clip to the data range.
        this.staging[i] = v > 0 ? (v < 1 ? v : 1) : 0;
      }
      this.staging.fill(0, src.length);
      gpu.write(net.x, this.staging);
      gpu.recorder('classifier').run(net.forwardDispatches).submit();
      features.set((await gpu.read(net.features)).subarray(0, n * f), start * f);
      probs.set((await gpu.read(net.probs)).subarray(0, n * k), start * k);
    }
    return { count, features, probs, featureDim: f, classes: k };
  }

  destroy(): void {
    this.net.destroy();
  }
}
