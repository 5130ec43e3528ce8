// A data set of square images, as the trainer sees it: `length` images of [channels, size, size],
// each read as float32 CHW in [0, 1]. Browser-safe: loading from files lives in src/node/ (or, in a
// page, in code that fetches bytes and hands decoded images to the constructors here).
import { EngineError, ValueError } from '../gpu/errors.ts';

export interface Dataset {
  /** A short name recorded in checkpoints ('mnist', 'emoji-32', 'folder:cats', ...). */
  readonly name: string;
  /** 1 (grey) or 3 (RGB). */
  readonly channels: number;
  /** Height = width in pixels. */
  readonly size: number;
  readonly length: number;
  /** Image i as a new Float32Array [channels * size * size], CHW, values in [0, 1]. */
  get(i: number): Float32Array;
  /** Optional fast path: write image i into out[offset ..] without allocating. */
  copyInto?(i: number, out: Float32Array, offset: number): void;
}

/** Elements of one image. */
export function imageElements(ds: Pick<Dataset, 'channels' | 'size'>): number {
  return ds.channels * ds.size * ds.size;
}

export function checkIndex(ds: Dataset, i: number): void {
  if (!Number.isInteger(i) || i < 0 || i >= ds.length) throw new ValueError(`Image index ${i} is out of range for data set '${ds.name}' (${ds.length} images).`);
}

/**
 * Images stored as bytes [length, channels, size, size] (0..255), read as floats / 255. A quarter of
 * the memory of float storage, which matters for the 64x64 emoji set and users' folders.
 */
export class PackedDataset implements Dataset {
  readonly length: number;
  private readonly stride: number;
  constructor(
    readonly name: string,
    readonly channels: number,
    readonly size: number,
    /** Bytes [length, channels, size, size]. */
    readonly pixels: Uint8Array,
  ) {
    if (channels !== 1 && channels !== 3) throw new ValueError(`A data set has 1 or 3 channels, not ${channels}.`);
    this.stride = channels * size * size;
    if (pixels.length % this.stride !== 0) throw new ValueError(`Data set '${name}': ${pixels.length} bytes is not a whole number of ${channels}x${size}x${size} images.`);
    this.length = pixels.length / this.stride;
    if (this.length === 0) throw new EngineError(`Data set '${name}' has no images.`, 'Check the data set name or the folder it was read from.');
  }
  get(i: number): Float32Array {
    const out = new Float32Array(this.stride);
    this.copyInto(i, out, 0);
    return out;
  }
  copyInto(i: number, out: Float32Array, offset: number): void {
    checkIndex(this, i);
    const base = i * this.stride;
    for (let k = 0; k < this.stride; k++) out[offset + k] = this.pixels[base + k]! / 255;
  }
}

/** Convert [0, 1] floats to bytes, rounding to nearest and clipping. */
export function toByte(v: number): number {
  return v <= 0 ? 0 : v >= 1 ? 255 : Math.round(v * 255);
}
