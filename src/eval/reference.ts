// The image sets a score compares: the reference (the classifier's held-out split: never trained on,
// so it stands for "real data" to both the classifier and the metrics), and real images the metrics
// have not seen as the floor a perfect generator would reach (the classifier's training split).
import { ValueError } from '../gpu/errors.ts';
import type { Dataset } from '../data/dataset.ts';
import { HostRng, mixSeed, permutation } from '../base/host-rng.ts';
import type { ClassifierInfo } from './classifier-weights.ts';
import { stratifiedSplit, type Split } from './split.ts';

/** Images at `indices` as one float array [n, C, S, S]. */
export function imagesAt(data: Dataset, indices: ArrayLike<number>): Float32Array {
  const per = data.channels * data.size * data.size;
  const out = new Float32Array(indices.length * per);
  for (let i = 0; i < indices.length; i++) {
    if (data.copyInto) data.copyInto(indices[i]!, out, i * per);
    else out.set(data.get(indices[i]!), i * per);
  }
  return out;
}

/** The split the classifier was trained with (from its weights' info). */
export function classifierSplit(labels: ArrayLike<number>, info: ClassifierInfo): Split {
  return stratifiedSplit(labels, info.heldOutFraction, info.splitSeed);
}

/** The reference images: the held-out part of the classifier's split (MNIST: 2,000 digits). */
export function referenceImages(data: Dataset, labels: ArrayLike<number>, info: ClassifierInfo): Float32Array {
  return imagesAt(data, classifierSplit(labels, info).heldOut);
}

/** The order in which `--real` draws images: a seeded permutation of `n` (one stream for every caller). */
function seededOrder(n: number, seed: number): Uint32Array {
  return permutation(n, new HostRng(mixSeed(seed, 0x7ea1)));
}

/**
 * `count` real images from the classifier's training split, in a seeded order (the first `count` of a
 * permutation, so a smaller count is a prefix of a larger one): the floor of every score.
 */
export function realImages(data: Dataset, labels: ArrayLike<number>, info: ClassifierInfo, count: number, seed = 0): Float32Array {
  const train = classifierSplit(labels, info).train;
  if (!Number.isInteger(count) || count < 1 || count > train.length) throw new ValueError(`--count ${count}: the training split has ${train.length} real images.`, `Use a count between 4 and ${train.length}.`);
  return imagesAt(data, Array.from(seededOrder(train.length, seed).subarray(0, count), (j) => train[j]!));
}

/**
 * `count` images of a data set in a seeded order (a smaller count is a prefix of a larger one): the
 * floor of the DCT distance for data sets without a held-out split. They are part of the reference
 * they are compared with, so the floor is optimistic (lower than a held-out set would score).
 */
export function datasetSample(data: Dataset, count: number, seed = 0): Float32Array {
  if (!Number.isInteger(count) || count < 2 || count > data.length) throw new ValueError(`--count ${count}: ${data.name} has ${data.length} images.`, `Use a count between 2 and ${data.length}.`);
  return imagesAt(data, Array.from(seededOrder(data.length, seed).subarray(0, count)));
}
