// Turning a batch [B, C, H, W] of floats into 8-bit pictures: one image per sample, or all samples
// tiled into a grid with padding. Values are clipped to [0, 1] only here, for display; NaN shows as
// black. Browser-safe (a page draws the result with gridToRgba + putImageData).
import { ShapeError, ValueError } from '../gpu/errors.ts';

/** 8-bit pixels, row-major, `channels` interleaved bytes per pixel (1 grey, 3 RGB). */
export interface Image8 {
  width: number;
  height: number;
  channels: 1 | 3;
  data: Uint8Array;
}

export type BatchShape = readonly [number, number, number, number];

export interface GridOptions {
  /** Images per row (default: ceil(sqrt(B)), a near-square grid). */
  columns?: number;
  /** Pixels between and around images (default 2). */
  padding?: number;
  /** Padding grey level in [0, 1] (default 1, white). */
  background?: number;
}

function displayByte(v: number): number {
  return v > 0 ? (v < 1 ? Math.round(v * 255) : 255) : 0; // NaN and negatives -> 0
}

function checkBatch(data: ArrayLike<number>, shape: BatchShape): void {
  const [b, c, h, w] = shape;
  if (shape.length !== 4 || !shape.every((d) => Number.isInteger(d) && d > 0)) throw new ShapeError('image batch', '[B, C, H, W] with positive sizes', [...shape]);
  if (c !== 1 && c !== 3) throw new ShapeError('image batch channels', '1 or 3', String(c));
  if (data.length !== b * c * h * w) throw new ShapeError('image batch data', `${b * c * h * w} values for [${shape.join(', ')}]`, `${data.length} values`);
}

/** Sample `index` of a batch as an 8-bit image. */
export function sampleImage(data: ArrayLike<number>, shape: BatchShape, index: number): Image8 {
  checkBatch(data, shape);
  const [b, c, h, w] = shape;
  if (!Number.isInteger(index) || index < 0 || index >= b) throw new ValueError(`Sample ${index} is out of range for a batch of ${b}.`);
  const out = new Uint8Array(h * w * c);
  const base = index * c * h * w;
  for (let ch = 0; ch < c; ch++) for (let p = 0; p < h * w; p++) out[p * c + ch] = displayByte(data[base + ch * h * w + p]!);
  return { width: w, height: h, channels: c as 1 | 3, data: out };
}

/** All samples tiled row by row into one image. */
export function tileGrid(data: ArrayLike<number>, shape: BatchShape, opts: GridOptions = {}): Image8 {
  checkBatch(data, shape);
  const [b, c, h, w] = shape;
  const cols = opts.columns ?? Math.ceil(Math.sqrt(b));
  const pad = opts.padding ?? 2;
  if (!Number.isInteger(cols) || cols < 1) throw new ValueError(`Grid columns must be a positive integer, got ${cols}.`);
  if (!Number.isInteger(pad) || pad < 0) throw new ValueError(`Grid padding must be a non-negative integer, got ${pad}.`);
  const rows = Math.ceil(b / cols);
  const width = cols * w + (cols + 1) * pad;
  const height = rows * h + (rows + 1) * pad;
  const out = new Uint8Array(width * height * c).fill(displayByte(opts.background ?? 1));
  for (let i = 0; i < b; i++) {
    const x0 = pad + (i % cols) * (w + pad);
    const y0 = pad + Math.floor(i / cols) * (h + pad);
    const base = i * c * h * w;
    for (let ch = 0; ch < c; ch++)
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) out[((y0 + y) * width + x0 + x) * c + ch] = displayByte(data[base + (ch * h + y) * w + x]!);
  }
  return { width, height, channels: c as 1 | 3, data: out };
}

/** The same pixels as opaque RGBA (the layout of ImageData). */
export function imageToRgba(img: Image8): Uint8ClampedArray<ArrayBuffer> {
  const n = img.width * img.height;
  const out = new Uint8ClampedArray(n * 4);
  for (let p = 0; p < n; p++) {
    for (let k = 0; k < 3; k++) out[p * 4 + k] = img.data[p * img.channels + (img.channels === 3 ? k : 0)]!;
    out[p * 4 + 3] = 255;
  }
  return out;
}
