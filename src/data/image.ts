// Decoded images and the pixel work done on them before training: composite on white, resize with
// an area average, centre-crop to a square, and pack into CHW bytes. Browser-safe: decoding bytes
// into an RgbaImage is done by the runtime (pngjs / jpeg-js in src/node/image-decode.ts; in a page,
// createImageBitmap + OffscreenCanvas.getImageData would produce the same RgbaImage).
import { ValueError } from '../gpu/errors.ts';

/** 8-bit RGBA pixels, row-major, 4 bytes per pixel (the layout of ImageData). */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8Array | Uint8ClampedArray;
}

/** Turns encoded bytes (PNG, JPEG, ...) into pixels; `name` is for error messages. */
export type ImageDecoder = (bytes: Uint8Array, name: string) => RgbaImage | Promise<RgbaImage>;

/** Copy the square [x, x+w) x [y, y+h) out of an image. */
export function cropRgba(img: RgbaImage, x: number, y: number, w: number, h: number): RgbaImage {
  if (x < 0 || y < 0 || x + w > img.width || y + h > img.height) throw new ValueError(`Crop ${w}x${h} at (${x}, ${y}) lies outside a ${img.width}x${img.height} image.`);
  const data = new Uint8Array(w * h * 4);
  for (let r = 0; r < h; r++) data.set(img.data.subarray(((y + r) * img.width + x) * 4, ((y + r) * img.width + x + w) * 4), r * w * 4);
  return { width: w, height: h, data };
}

/**
 * Resize so that the shorter side is `size` (area average: each output pixel is the mean of the
 * input area it covers, with fractional edge weights, so downscaling does not alias), then crop the
 * centre square. Works on premultiplied colour so transparent pixels do not bleed their RGB.
 * Returns a size x size RGBA image.
 */
export function resizeCenterCrop(img: RgbaImage, size: number): RgbaImage {
  if (!(size >= 1) || !Number.isInteger(size)) throw new ValueError(`Image size must be a positive integer, got ${size}.`);
  if (img.width < 1 || img.height < 1) throw new ValueError(`Cannot resize an empty ${img.width}x${img.height} image.`);
  // The crop window in input pixels: a square of side min(w, h), centred.
  const side = Math.min(img.width, img.height);
  const x0 = (img.width - side) / 2;
  const y0 = (img.height - side) / 2;
  if (side === size && Number.isInteger(x0) && Number.isInteger(y0)) return cropRgba(img, x0, y0, size, size);
  const wx = areaWeights(x0, side, size);
  const wy = areaWeights(y0, side, size);
  const out = new Uint8Array(size * size * 4);
  const acc = new Float64Array(4);
  for (let oy = 0; oy < size; oy++) {
    for (let ox = 0; ox < size; ox++) {
      acc.fill(0);
      let total = 0;
      for (const [iy, fy] of wy[oy]!) {
        for (const [ix, fx] of wx[ox]!) {
          const w = fy * fx;
          const p = (iy * img.width + ix) * 4;
          const a = img.data[p + 3]! / 255;
          acc[0]! += w * a * img.data[p]!;
          acc[1]! += w * a * img.data[p + 1]!;
          acc[2]! += w * a * img.data[p + 2]!;
          acc[3]! += w * a;
          total += w;
        }
      }
      const q = (oy * size + ox) * 4;
      const alpha = acc[3]! / total;
      for (let c = 0; c < 3; c++) out[q + c] = alpha > 0 ? Math.round(Math.min(255, acc[c]! / acc[3]!)) : 0;
      out[q + 3] = Math.round(alpha * 255);
    }
  }
  return { width: size, height: size, data: out };
}

/** For each of `n` output cells spanning input [start, start + span): the (input index, weight) pairs. */
function areaWeights(start: number, span: number, n: number): [number, number][][] {
  const step = span / n;
  const cells: [number, number][][] = [];
  for (let o = 0; o < n; o++) {
    const a = start + o * step;
    const b = a + step;
    const list: [number, number][] = [];
    for (let i = Math.floor(a); i < Math.ceil(b); i++) {
      const w = Math.min(b, i + 1) - Math.max(a, i);
      if (w > 1e-9) list.push([i, w]);
    }
    cells.push(list);
  }
  return cells;
}

/**
 * Composite RGBA over white and write CHW bytes into out[offset ..]: 3 channels (RGB) or 1 (grey,
 * ITU-R BT.601 luma weights).
 */
export function rgbaToChw(img: RgbaImage, channels: 1 | 3, out: Uint8Array, offset = 0): void {
  const n = img.width * img.height;
  for (let p = 0; p < n; p++) {
    const a = img.data[p * 4 + 3]! / 255;
    const r = img.data[p * 4]! * a + 255 * (1 - a);
    const g = img.data[p * 4 + 1]! * a + 255 * (1 - a);
    const b = img.data[p * 4 + 2]! * a + 255 * (1 - a);
    if (channels === 3) {
      out[offset + p] = Math.round(r);
      out[offset + n + p] = Math.round(g);
      out[offset + 2 * n + p] = Math.round(b);
    } else {
      out[offset + p] = Math.round(0.299 * r + 0.587 * g + 0.114 * b);
    }
  }
}
