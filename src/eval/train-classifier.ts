// Training the feature network on the training part of a stratified split, on the GPU: one submit
// per step (forward, softmax cross-entropy and its gradient, backward, AdamW). The host draws the
// batch (a seeded permutation per epoch) and shifts each image by up to `shift` pixels (zero fill),
// so that the features do not hinge on exact centring, which samples do not guarantee. The learning
// rate warms up linearly, then decays linearly to zero; the final weights are the ones kept.
import type { Gpu } from '../gpu/gpu.ts';
import { ValueError } from '../gpu/errors.ts';
import type { Dataset } from '../data/dataset.ts';
import { HostRng, mixSeed, permutation } from '../base/host-rng.ts';
import { AdamW } from '../kernels/adamw.ts';
import { softmaxCrossEntropy } from '../kernels/softmax-xent.ts';
import { Classifier, MNIST_CLASSIFIER, type ClassifierConfig } from './classifier.ts';
import { FeatureExtractor } from './features.ts';
import type { Split } from './split.ts';

export interface ClassifierTrainingOptions {
  config?: ClassifierConfig;
  epochs?: number;
  batch?: number;
  /** Peak learning rate (AdamW). */
  lr?: number;
  weightDecay?: number;
  warmupSteps?: number;
  /** Largest random translation in pixels (0: none). */
  shift?: number;
  seed?: number;
  /** Loss and batch accuracy every `logEvery` steps. */
  logEvery?: number;
  onLog?: (r: { step: number; steps: number; epoch: number; loss: number; accuracy: number }) => void;
}

export interface TrainedClassifier {
  config: ClassifierConfig;
  flat: Float32Array;
  heldOutAccuracy: number;
  trainAccuracy: number;
  steps: number;
  options: Required<Omit<ClassifierTrainingOptions, 'onLog' | 'config'>>;
}

export async function trainClassifier(gpu: Gpu, data: Dataset, labels: ArrayLike<number>, split: Split, opts: ClassifierTrainingOptions = {}): Promise<TrainedClassifier> {
  const config = opts.config ?? MNIST_CLASSIFIER;
  const o = { epochs: 10, batch: 64, lr: 3e-3, weightDecay: 1e-4, warmupSteps: 100, shift: 2, seed: 0, logEvery: 25, ...opts };
  if (data.channels !== config.inChannels || data.size !== config.imageSize)
    throw new ValueError(`The classifier takes ${config.inChannels}x${config.imageSize}x${config.imageSize} images; the data set has ${data.channels}x${data.size}x${data.size}.`);
  if (labels.length !== data.length) throw new ValueError(`${labels.length} labels for ${data.length} images.`);
  for (let i = 0; i < labels.length; i++)
    if (!(Number.isInteger(labels[i]) && labels[i]! >= 0 && labels[i]! < config.classes)) throw new ValueError(`Label ${labels[i]} of image ${i} is not in 0..${config.classes - 1}.`);
  if (!(Number.isInteger(o.epochs) && o.epochs >= 1 && Number.isInteger(o.batch) && o.batch >= 1)) throw new ValueError('epochs and batch must be positive integers.');
  if (!(Number.isInteger(o.shift) && o.shift >= 0 && o.shift < config.imageSize / 2)) throw new ValueError(`shift must be an integer in [0, ${config.imageSize / 2}), got ${o.shift}.`);

  const b = o.batch;
  const per = config.inChannels * config.imageSize * config.imageSize;
  const stepsPerEpoch = Math.floor(split.train.length / b);
  const steps = stepsPerEpoch * o.epochs;
  if (stepsPerEpoch < 1) throw new ValueError(`The training split (${split.train.length} images) is smaller than one batch (${b}).`);

  // Everything of the run (network, optimizer, loss, batch tensors) lives in one scope.
  const scope = gpu.scope('classifier-training');
  try {
    const net = await Classifier.create(scope, config, { batch: b, training: true, seed: o.seed });
    const labelsT = scope.tensor([b], 'classifier:labels', 'u32');
    const rows = scope.tensor([b, 2], 'classifier:xent-rows');
    const out = scope.tensor([2], 'classifier:xent-out');
    const optimizer = await AdamW.create(scope, net.flatLayout, net.flatParams, net.flatGrads, { lr: o.lr, weightDecay: o.weightDecay, clipNorm: 1, emaDecay: 0 });
    const step = [
      ...net.forwardDispatches,
      ...(await softmaxCrossEntropy(scope, { logits: net.logits, labels: labelsT, probs: net.probs, dLogits: net.dLogits, rows, out }, { n: b, k: config.classes })),
      ...net.backwardDispatches,
      ...optimizer.dispatches(),
    ];
    const x = new Float32Array(b * per);
    const y = new Uint32Array(b);
    const image = new Float32Array(per);
    const rng = new HostRng(mixSeed(o.seed, 1));
    let s = 0;
    for (let epoch = 0; epoch < o.epochs; epoch++) {
      const order = permutation(split.train.length, rng);
      for (let j = 0; j < stepsPerEpoch; j++, s++) {
        for (let i = 0; i < b; i++) {
          const idx = split.train[order[j * b + i]!]!;
          data.copyInto ? data.copyInto(idx, image, 0) : image.set(data.get(idx));
          shiftInto(image, x, i * per, config.inChannels, config.imageSize, rng.int(2 * o.shift + 1) - o.shift, rng.int(2 * o.shift + 1) - o.shift);
          y[i] = labels[idx]!;
        }
        gpu.write(net.x, x);
        gpu.write(labelsT, y);
        optimizer.setLearningRate(learningRate(o.lr, o.warmupSteps, s, steps));
        gpu.recorder('classifier-step').run(step).submit();
        if ((s + 1) % o.logEvery === 0 || s === steps - 1) {
          const [loss, accuracy] = await gpu.read(out);
          if (!Number.isFinite(loss)) throw new ValueError(`The classifier's loss is ${loss} at step ${s + 1}.`, `Lower the learning rate (now ${o.lr}).`);
          o.onLog?.({ step: s + 1, steps, epoch, loss: loss!, accuracy: accuracy! });
        }
      }
    }
    const flat = await net.readFlat();
    const { config: _c, onLog: _l, ...rest } = o;
    const weights = { config, flat, info: { dataset: data.name, heldOutFraction: 0, splitSeed: 0, heldOutAccuracy: 0 } };
    const heldOutAccuracy = await accuracy(gpu, weights, data, labels, split.heldOut);
    const trainAccuracy = await accuracy(gpu, weights, data, labels, split.train);
    return { config, flat, heldOutAccuracy, trainAccuracy, steps, options: rest };
  } finally {
    scope.destroy();
  }
}

/** Linear warmup over `warmup` steps, then linear decay to zero at the last step. */
export function learningRate(lr: number, warmup: number, step: number, steps: number): number {
  if (step < warmup) return (lr * (step + 1)) / warmup;
  return (lr * (steps - step)) / Math.max(1, steps - warmup);
}

/** Fraction of `indices` whose most probable class is their label. */
export async function accuracy(gpu: Gpu, weights: Parameters<typeof FeatureExtractor.create>[1], data: Dataset, labels: ArrayLike<number>, indices: ArrayLike<number>): Promise<number> {
  const fx = await FeatureExtractor.create(gpu, weights);
  try {
    const per = fx.imageElements;
    const images = new Float32Array(indices.length * per);
    for (let i = 0; i < indices.length; i++) images.set(data.get(indices[i]!), i * per);
    const { probs, classes } = await fx.run(images);
    let correct = 0;
    for (let i = 0; i < indices.length; i++) if (argmax(probs, i * classes, classes) === labels[indices[i]!]) correct++;
    return correct / indices.length;
  } finally {
    fx.destroy();
  }
}

export function argmax(a: ArrayLike<number>, offset: number, n: number): number {
  let best = 0;
  for (let k = 1; k < n; k++) if (a[offset + k]! > a[offset + best]!) best = k;
  return best;
}

/** Copy a [C, S, S] image into out[offset..] translated by (dx, dy) pixels, zero-filled. */
export function shiftInto(img: Float32Array, out: Float32Array, offset: number, channels: number, size: number, dx: number, dy: number): void {
  for (let c = 0; c < channels; c++)
    for (let yy = 0; yy < size; yy++) {
      const sy = yy - dy;
      for (let xx = 0; xx < size; xx++) {
        const sx = xx - dx;
        out[offset + (c * size + yy) * size + xx] = sy >= 0 && sy < size && sx >= 0 && sx < size ? img[(c * size + sy) * size + sx]! : 0;
      }
    }
}
