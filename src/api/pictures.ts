// From sampled floats to pixels a page can draw: one image or a grid of all of them, as RGBA bytes
// (the layout of ImageData) or as an ImageData for a 2D canvas. Values are clipped to [0, 1] here only.
import { ValueError } from '../gpu/errors.ts';
import { imageToRgba, sampleImage, tileGrid, type BatchShape, type GridOptions } from '../io/grid.ts';

/**
 * Which picture to make from a batch of samples: the whole batch tiled into a grid (default), or
 * the single image `index`.
 * @category One-call API
 */
export interface PictureOptions extends GridOptions {
  /** One image of the batch (0-based) instead of the grid. */
  index?: number;
}

/**
 * Opaque 8-bit RGBA pixels, row-major, 4 bytes per pixel: the layout of `ImageData`.
 * @category One-call API
 */
export interface RgbaPicture {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** width * height * 4 bytes: R, G, B, A (always 255) per pixel, row by row. */
  data: Uint8ClampedArray<ArrayBuffer>;
}

/**
 * Samples (or any batch [B, C, H, W] of floats in [0, 1]) as RGBA pixels: a grid by default, one
 * image with `index`. Works everywhere (Node included), e.g. to encode a PNG.
 * @category One-call API
 */
export function samplesToRgba(samples: { images: ArrayLike<number>; shape: BatchShape }, opts: PictureOptions = {}): RgbaPicture {
  const img = opts.index === undefined ? tileGrid(samples.images, samples.shape, opts) : sampleImage(samples.images, samples.shape, opts.index);
  return { width: img.width, height: img.height, data: imageToRgba(img) };
}

/**
 * The same as {@link samplesToRgba}, as an `ImageData` ready for `ctx.putImageData` (browsers and
 * workers; a ValueError where `ImageData` does not exist, e.g. Node).
 * @category One-call API
 */
export function samplesToImageData(samples: { images: ArrayLike<number>; shape: BatchShape }, opts: PictureOptions = {}): ImageData {
  if (typeof ImageData === 'undefined') throw new ValueError('ImageData does not exist here (Node?).', 'Use samplesToRgba (the same pixels as a plain object) outside a browser.');
  const p = samplesToRgba(samples, opts);
  return new ImageData(p.data, p.width, p.height);
}
