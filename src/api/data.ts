// What `SoftDiffusion.train` accepts as training data: a data set object (the built-in sets: MNIST,
// emoji, synthetic, a folder read by softdiff/node), a list of images (decoded pixels, ImageData or
// ImageBitmap), or the name of a synthetic set. Everything becomes a Dataset of square images.
import { ValueError } from '../gpu/errors.ts';
import type { Dataset } from '../data/dataset.ts';
import { ImageSetBuilder } from '../data/image-set.ts';
import type { RgbaImage } from '../data/image.ts';
import { BlobsDataset, StripesDataset } from '../data/synthetic.ts';

/**
 * Training images from pixels you already have: each is resized so that its shorter side is `size`,
 * centre-cropped to a square and composited on white (transparent pixels become white).
 * @category One-call API
 */
export interface ImageListData {
  /**
   * The images: decoded RGBA pixels (`{ width, height, data }`, e.g. `ImageData` or what
   * `decodeImage` returns in Node) or `ImageBitmap`s (browsers and workers, e.g. from
   * `createImageBitmap(file)`).
   */
  images: readonly (RgbaImage | ImageBitmap)[];
  /** Side of the square training images in pixels (8 to 256; the network's input size). */
  size: number;
  /** 3 for RGB (default), 1 for grey. */
  channels?: 1 | 3;
  /** Name recorded in checkpoints (default `'images'`); resuming needs the same name. */
  name?: string;
}

/**
 * One of the synthetic sets: images that are a pure function of (seed, index), so they need no
 * files. Handy to try things out and for tests.
 * @category One-call API
 */
export interface SyntheticData {
  /** `'blobs'` (soft coloured discs) or `'stripes'` (oriented gratings). */
  synthetic: 'blobs' | 'stripes';
  /** Image side in pixels (default 32). */
  size?: number;
  /** 3 for RGB (default), 1 for grey. */
  channels?: 1 | 3;
  /** Number of images (default 1024). */
  length?: number;
  /** Seed of the images (default 0). */
  seed?: number;
}

/**
 * Training data for {@link SoftDiffusion.train}: a data set object (`mnistDataset(digits)`,
 * `emojiDataset(...)`, `new BlobsDataset(...)`, or in Node `await loadDataset('mnist')` from
 * `softdiff/node`), a list of images, or a synthetic set.
 * @category One-call API
 */
export type TrainingData = Dataset | ImageListData | SyntheticData;

const MAX_SIZE = 256;

/** The Dataset behind any TrainingData; a ValueError says what is wrong with the input. */
export function trainingDataset(data: TrainingData): Dataset {
  if (!data || typeof data !== 'object') throw new ValueError(`Training data must be a data set, { images, size } or { synthetic }, got ${String(data)}.`);
  if (typeof (data as Dataset).get === 'function') {
    const d = data as Dataset;
    if (!Number.isInteger(d.length) || !Number.isInteger(d.size) || !Number.isInteger(d.channels))
      throw new ValueError(`Training data '${String(d.name)}' is not a data set: it needs integer channels, size and length.`);
    return d;
  }
  if ('synthetic' in data) {
    const o = { size: data.size ?? 32, channels: data.channels, length: data.length, seed: data.seed };
    if (data.synthetic === 'blobs') return new BlobsDataset(o);
    if (data.synthetic === 'stripes') return new StripesDataset(o);
    throw new ValueError(`Unknown synthetic data set ${JSON.stringify(data.synthetic)}.`, "Use 'blobs' or 'stripes'.");
  }
  if ('images' in data) return imageListDataset(data);
  throw new ValueError('Training data is neither a data set (name, channels, size, length, get) nor { images, size } nor { synthetic }.');
}

function imageListDataset(data: ImageListData): Dataset {
  const { size } = data;
  const channels = data.channels ?? 3;
  if (!(Number.isInteger(size) && size >= 8 && size <= MAX_SIZE)) throw new ValueError(`Training image size must be an integer in [8, ${MAX_SIZE}], got ${JSON.stringify(size)}.`);
  if (channels !== 1 && channels !== 3) throw new ValueError(`Training images have 1 or 3 channels, not ${JSON.stringify(channels)}.`);
  if (!Array.isArray(data.images) || data.images.length === 0) throw new ValueError('The training image list is empty.', 'Pass at least one image.');
  const builder = new ImageSetBuilder(data.name ?? 'images', size, channels);
  data.images.forEach((img, i) => builder.add(rgba(img, i)));
  return builder.build();
}

function rgba(img: RgbaImage | ImageBitmap, i: number): RgbaImage {
  if (typeof ImageBitmap !== 'undefined' && img instanceof ImageBitmap) return bitmapPixels(img, i);
  const { width, height, data } = (img ?? {}) as Partial<RgbaImage>;
  if (!(Number.isInteger(width) && Number.isInteger(height) && width! > 0 && height! > 0 && data && data.length === width! * height! * 4))
    throw new ValueError(`Training image ${i} is not RGBA pixels { width, height, data } with data.length = width * height * 4.`, 'Pass ImageData, decoded RGBA images or ImageBitmaps.');
  return img as RgbaImage;
}

function bitmapPixels(b: ImageBitmap, i: number): RgbaImage {
  if (typeof OffscreenCanvas === 'undefined') throw new ValueError(`Training image ${i} is an ImageBitmap, which needs OffscreenCanvas (a browser or worker) to read.`);
  if (b.width === 0 || b.height === 0) throw new ValueError(`Training image ${i} is an empty (or closed) ImageBitmap.`);
  const canvas = new OffscreenCanvas(b.width, b.height);
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new ValueError('No 2D context on an OffscreenCanvas here; pass ImageData instead of ImageBitmaps.');
  ctx.drawImage(b, 0, 0);
  return ctx.getImageData(0, 0, b.width, b.height);
}
