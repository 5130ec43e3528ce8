// MNIST digits as a data set: 28x28 grey images padded with zeros to 32x32 (the U-Net halves the
// resolution several times, so it wants a power of two). Browser-safe: takes the raw pixel arrays;
// src/node/datasets.ts reads them from the `mnist` package (10,000 digits, about 1,000 per class).
import { ValueError } from '../gpu/errors.ts';
import { PackedDataset, toByte } from './dataset.ts';

export const MNIST_SOURCE_SIZE = 28;
export const MNIST_SIZE = 32;

export interface MnistDataset extends PackedDataset {
  /** The digit (0..9) of each image. */
  readonly labels: Uint8Array;
}

/**
 * `digits[d]` holds the images of digit d, flattened [count, 28, 28], values in [0, 1] (ink = 1),
 * as the `mnist` package ships them. Images keep that order: all zeros, then all ones, ...
 */
export function mnistDataset(digits: readonly ArrayLike<number>[], name = 'mnist'): MnistDataset {
  const src = MNIST_SOURCE_SIZE * MNIST_SOURCE_SIZE;
  const pad = (MNIST_SIZE - MNIST_SOURCE_SIZE) / 2;
  let total = 0;
  digits.forEach((raw, d) => {
    if (raw.length % src !== 0) throw new ValueError(`MNIST digit ${d}: ${raw.length} values is not a whole number of 28x28 images.`);
    total += raw.length / src;
  });
  const pixels = new Uint8Array(total * MNIST_SIZE * MNIST_SIZE);
  const labels = new Uint8Array(total);
  let n = 0;
  digits.forEach((raw, d) => {
    for (let k = 0; k < raw.length / src; k++, n++) {
      labels[n] = d;
      const base = n * MNIST_SIZE * MNIST_SIZE;
      for (let y = 0; y < MNIST_SOURCE_SIZE; y++)
        for (let x = 0; x < MNIST_SOURCE_SIZE; x++)
          pixels[base + (y + pad) * MNIST_SIZE + x + pad] = toByte(raw[k * src + y * MNIST_SOURCE_SIZE + x]!);
    }
  });
  return Object.assign(new PackedDataset(name, 1, MNIST_SIZE, pixels), { labels });
}
