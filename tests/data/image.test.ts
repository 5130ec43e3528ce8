import { describe, expect, test } from 'vitest';
import { cropRgba, resizeCenterCrop, rgbaToChw, type RgbaImage } from '../../src/data/image.ts';
import { imageSetDataset } from '../../src/data/image-set.ts';
import { mnistDataset, MNIST_SIZE } from '../../src/data/mnist.ts';
import { emojiDataset } from '../../src/data/emoji.ts';
import { PackedDataset } from '../../src/data/dataset.ts';
import { BlobsDataset, StripesDataset } from '../../src/data/synthetic.ts';
import { EngineError, ValueError } from '../../src/gpu/errors.ts';

function solid(w: number, h: number, rgba: [number, number, number, number]): RgbaImage {
  const data = new Uint8Array(w * h * 4);
  for (let p = 0; p < w * h; p++) data.set(rgba, p * 4);
  return { width: w, height: h, data };
}

describe('image pixel work', () => {
  test('area-average downscale by 2 is the mean of each 2x2 block', () => {
    // 4x4 grey ramp, opaque: value = 10 * (y * 4 + x)
    const img = solid(4, 4, [0, 0, 0, 255]);
    for (let p = 0; p < 16; p++) img.data.fill(10 * p, p * 4, p * 4 + 3);
    const r = resizeCenterCrop(img, 2);
    const grey = [0, 1, 2, 3].map((p) => r.data[p * 4]);
    expect(grey).toEqual([25, 45, 105, 125]); // (0+10+40+50)/4 = 25, ...
    expect(r.data[3]).toBe(255);
  });

  test('non-integer ratio keeps the mean (area weights sum to one)', () => {
    const img = solid(7, 7, [200, 100, 50, 255]);
    const r = resizeCenterCrop(img, 3);
    for (let p = 0; p < 9; p++) expect(Array.from(r.data.subarray(p * 4, p * 4 + 4))).toEqual([200, 100, 50, 255]);
  });

  test('wide image is centre-cropped: left and right thirds are dropped', () => {
    // 6x2: columns 0-1 red, 2-3 green, 4-5 blue -> crop to the centre 2x2 (green), size 2
    const img = solid(6, 2, [0, 0, 0, 255]);
    for (let y = 0; y < 2; y++) for (let x = 0; x < 6; x++) img.data[(y * 6 + x) * 4 + Math.floor(x / 2)] = 255;
    const r = resizeCenterCrop(img, 2);
    for (let p = 0; p < 4; p++) expect(Array.from(r.data.subarray(p * 4, p * 4 + 3))).toEqual([0, 255, 0]);
  });

  test('upscaling a 1x1 image fills the square', () => {
    const r = resizeCenterCrop(solid(1, 1, [9, 8, 7, 255]), 4);
    expect(r.width).toBe(4);
    expect(Array.from(r.data.subarray(60, 64))).toEqual([9, 8, 7, 255]);
  });

  test('transparent pixels do not bleed their colour; compositing is on white', () => {
    // Half transparent-red, half opaque-black: the average must not turn reddish.
    const img = solid(2, 1, [0, 0, 0, 255]);
    img.data.set([255, 0, 0, 0], 0);
    const r = resizeCenterCrop(img, 1); // crop takes the centre 1x1 of a 2x1 -> mixes both halves
    expect(r.data[0]).toBe(0);
    expect(r.data[3]).toBe(128);
    const chw = new Uint8Array(3);
    rgbaToChw(r, 3, chw);
    // 50% black over white -> 127 or 128 grey in every channel
    for (const v of chw) expect(Math.abs(v - 127.5)).toBeLessThanOrEqual(1);
    const grey = new Uint8Array(1);
    rgbaToChw(solid(1, 1, [255, 0, 0, 255]), 1, grey);
    expect(grey[0]).toBe(Math.round(0.299 * 255));
  });

  test('crop outside the image is refused', () => {
    expect(() => cropRgba(solid(4, 4, [0, 0, 0, 0]), 2, 2, 3, 3)).toThrow(ValueError);
  });
});

describe('data sets', () => {
  test('MNIST digits are padded 28 -> 32 with zeros, labels kept', () => {
    const a = new Float32Array(2 * 784).fill(1); // two all-ink "zeros"
    const b = new Float32Array(784);
    b[0] = 0.5; // one "one" with only its top-left pixel set
    const ds = mnistDataset([a, b]);
    expect(ds.length).toBe(3);
    expect(ds.size).toBe(MNIST_SIZE);
    expect(Array.from(ds.labels)).toEqual([0, 0, 1]);
    const x = ds.get(0);
    expect(x.length).toBe(1024);
    expect(x[0]).toBe(0); // padding
    expect(x[2 * 32 + 2]).toBe(1); // first real pixel
    expect(x[29 * 32 + 29]).toBe(1); // last real pixel
    expect(x[30 * 32 + 30]).toBe(0);
    expect(x.reduce((s, v) => s + v, 0)).toBe(784);
    const y = ds.get(2);
    expect(y[2 * 32 + 2]).toBeCloseTo(128 / 255, 6);
    expect(() => ds.get(3)).toThrow(ValueError);
    expect(() => mnistDataset([new Float32Array(100)])).toThrow(ValueError);
  });

  test('emoji are cut from sheet cells with a 1-pixel border, on white, and blank cells are skipped', () => {
    const size = 16;
    const cell = size + 2;
    const sheet = solid(cell * 2, cell, [0, 0, 0, 0]);
    // cell (0,0): opaque blue square; cell (1,0) left blank. Paint the border red to catch off-by-one.
    for (let y = 0; y < cell; y++)
      for (let x = 0; x < cell; x++) {
        const inner = x >= 1 && x <= size && y >= 1 && y <= size;
        sheet.data.set(inner ? [0, 0, 255, 255] : [255, 0, 0, 255], (y * cell * 2 + x) * 4);
      }
    const ds = emojiDataset(sheet, [{ sheet_x: 0, sheet_y: 0 }, { sheet_x: 1, sheet_y: 0 }, { sheet_x: 0, sheet_y: 0, has_img_google: false }], size);
    expect(ds.length).toBe(1);
    expect(ds.channels).toBe(3);
    const x = ds.get(0);
    const plane = size * size;
    expect(x.subarray(0, plane).every((v) => v === 0)).toBe(true); // no red from the border
    expect(x.subarray(2 * plane).every((v) => v === 1)).toBe(true);
    expect(() => emojiDataset(sheet, [], 24)).toThrow(ValueError);
  });

  test('an image set resizes every image, and an empty one is an EngineError', () => {
    const ds = imageSetDataset('t', [solid(10, 5, [255, 255, 255, 255]), solid(3, 3, [0, 0, 0, 255])], 4, 3);
    expect(ds.length).toBe(2);
    expect(ds.get(0).every((v) => v === 1)).toBe(true);
    expect(ds.get(1).every((v) => v === 0)).toBe(true);
    expect(() => imageSetDataset('empty', [], 4, 3)).toThrow(EngineError);
    expect(() => new PackedDataset('bad', 2, 4, new Uint8Array(32))).toThrow(ValueError);
  });

  test('synthetic sets are deterministic by seed, differ across seeds and indices, and stay in [0, 1]', () => {
    for (const Make of [BlobsDataset, StripesDataset]) {
      const a = new Make({ size: 16, length: 8, seed: 3 });
      const b = new Make({ size: 16, length: 8, seed: 3 });
      const c = new Make({ size: 16, length: 8, seed: 4 });
      expect(Array.from(a.get(5))).toEqual(Array.from(b.get(5)));
      expect(Array.from(a.get(5))).not.toEqual(Array.from(c.get(5)));
      expect(Array.from(a.get(5))).not.toEqual(Array.from(a.get(6)));
      for (let i = 0; i < 8; i++) {
        const x = a.get(i);
        expect(x.length).toBe(3 * 256);
        expect(x.every((v) => v >= 0 && v <= 1)).toBe(true);
      }
      expect(() => a.get(8)).toThrow(ValueError);
      const grey = new Make({ size: 8, channels: 1, length: 2 });
      expect(grey.get(1).length).toBe(64);
    }
  });
});
