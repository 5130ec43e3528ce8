// A data set made from decoded images of any size (a user's folder, files dropped on a page):
// each is resized so its shorter side fits, centre-cropped to a square, composited on white.
// Built one image at a time so that only the packed bytes stay in memory, not every decoded file.
import { EngineError, ValueError } from '../gpu/errors.ts';
import { MAX_DATASET_BYTES, MAX_DATASET_IMAGES } from '../base/limits.ts';
import { PackedDataset } from './dataset.ts';
import { resizeCenterCrop, rgbaToChw, type RgbaImage } from './image.ts';

export class ImageSetBuilder {
  private chunks: Uint8Array[] = [];
  constructor(
    readonly name: string,
    readonly size: number,
    readonly channels: 1 | 3,
  ) {}
  get count(): number {
    return this.chunks.length;
  }
  /** Resize, crop and keep one image; a ValueError when the set would exceed the bounds of src/limits.ts. */
  add(img: RgbaImage): void {
    const stride = this.channels * this.size * this.size;
    if (this.chunks.length + 1 > MAX_DATASET_IMAGES || (this.chunks.length + 1) * stride > MAX_DATASET_BYTES)
      throw new ValueError(
        `Data set '${this.name}' would exceed ${Math.min(MAX_DATASET_IMAGES, Math.floor(MAX_DATASET_BYTES / stride))} images of ${this.channels}x${this.size}x${this.size} (${MAX_DATASET_BYTES} bytes in memory).`,
        'Use a smaller image size or fewer images.',
      );
    const chw = new Uint8Array(this.channels * this.size * this.size);
    rgbaToChw(resizeCenterCrop(img, this.size), this.channels, chw);
    this.chunks.push(chw);
  }
  /** The data set; an EngineError when no image was added. */
  build(): PackedDataset {
    if (this.chunks.length === 0) throw new EngineError(`Data set '${this.name}' has no images.`, 'Point it at a folder with readable PNG or JPEG files.');
    const stride = this.channels * this.size * this.size;
    const pixels = new Uint8Array(this.chunks.length * stride);
    this.chunks.forEach((c, i) => pixels.set(c, i * stride));
    return new PackedDataset(this.name, this.channels, this.size, pixels);
  }
}

export function imageSetDataset(name: string, images: readonly RgbaImage[], size: number, channels: 1 | 3): PackedDataset {
  const b = new ImageSetBuilder(name, size, channels);
  for (const img of images) b.add(img);
  return b.build();
}
