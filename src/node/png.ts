// Writing pictures as PNG files in Node (pngjs): a grid of a batch, or one file per sample.
// Grey images are written as 8-bit greyscale PNGs, colour ones as 8-bit RGB.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { sampleImage, tileGrid, type BatchShape, type GridOptions, type Image8 } from '../io/grid.ts';

export function encodePng(img: Image8): Uint8Array {
  const png = new PNG({ width: img.width, height: img.height, colorType: img.channels === 1 ? 0 : 2, inputColorType: img.channels === 1 ? 0 : 2, inputHasAlpha: false, bitDepth: 8 });
  png.data = Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength);
  const buf = PNG.sync.write(png, { colorType: img.channels === 1 ? 0 : 2, inputColorType: img.channels === 1 ? 0 : 2, inputHasAlpha: false, bitDepth: 8 });
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

export async function writePng(path: string, img: Image8): Promise<void> {
  await writeFile(path, encodePng(img));
}

/** Tile a batch [B, C, H, W] (values in [0, 1]) into one PNG. */
export async function writeGridPng(path: string, data: ArrayLike<number>, shape: BatchShape, opts: GridOptions = {}): Promise<void> {
  await writePng(path, tileGrid(data, shape, opts));
}

/**
 * One PNG per sample, `${prefix}-0000.png` ... in `dir` (created if needed); returns the paths. The
 * files are numbered from `first` (a batch of a larger run), with at least `digits` digits.
 */
export async function writeSamplePngs(dir: string, data: ArrayLike<number>, shape: BatchShape, prefix = 'sample', first = 0, digits = 4): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const paths: string[] = [];
  for (let i = 0; i < shape[0]; i++) {
    const path = join(dir, `${prefix}-${String(first + i).padStart(digits, '0')}.png`);
    await writePng(path, sampleImage(data, shape, i));
    paths.push(path);
  }
  return paths;
}
