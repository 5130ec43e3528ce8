import { describe, expect, test } from 'vitest';
import { imageToRgba, sampleImage, tileGrid } from '../../src/io/grid.ts';
import { ShapeError, ValueError } from '../../src/gpu/errors.ts';

describe('grid tiling', () => {
  test('places each sample at its cell, with padding in the background colour, clipped for display', () => {
    // 3 grey 2x2 samples with values 0.2*(i+1), one value out of range each way and a NaN.
    const data = Float32Array.from({ length: 12 }, (_, k) => 0.2 * (Math.floor(k / 4) + 1));
    data[4] = 1.7; // sample 1, pixel (0,0) -> 255
    data[5] = -3; // sample 1, pixel (0,1) -> 0
    data[11] = NaN; // sample 2, pixel (1,1) -> 0
    const g = tileGrid(data, [3, 1, 2, 2], { columns: 2, padding: 1, background: 0.5 });
    expect([g.width, g.height, g.channels]).toEqual([2 * 2 + 3, 2 * 2 + 3, 1]);
    const at = (x: number, y: number) => g.data[y * g.width + x];
    expect(at(0, 0)).toBe(128); // padding
    expect(at(1, 1)).toBe(51); // sample 0 top-left: 0.2 * 255
    expect(at(2, 2)).toBe(51);
    expect(at(3, 1)).toBe(128); // the column between cells
    expect(at(4, 1)).toBe(255); // sample 1 (clipped 1.7)
    expect(at(5, 1)).toBe(0); // sample 1 (clipped -3)
    expect(at(1, 4)).toBe(153); // sample 2 at row 1: 0.6 * 255
    expect(at(2, 5)).toBe(0); // NaN
    expect(at(4, 4)).toBe(128); // the empty 4th cell shows background
    expect(at(6, 6)).toBe(128);
  });

  test('RGB planes are interleaved; the default grid is near-square with 2 px white padding', () => {
    const data = new Float32Array(5 * 3 * 1 * 1);
    for (let i = 0; i < 5; i++) data[i * 3 + 1] = 1; // every sample pure green
    const g = tileGrid(data, [5, 3, 1, 1]);
    expect([g.width, g.height]).toEqual([3 * 1 + 4 * 2, 2 * 1 + 3 * 2]);
    expect(Array.from(g.data.subarray((2 * g.width + 2) * 3, (2 * g.width + 2) * 3 + 3))).toEqual([0, 255, 0]);
    expect(Array.from(g.data.subarray(0, 3))).toEqual([255, 255, 255]);
    const rgba = imageToRgba(g);
    expect(Array.from(rgba.subarray((2 * g.width + 2) * 4, (2 * g.width + 2) * 4 + 4))).toEqual([0, 255, 0, 255]);
  });

  test('one sample as an image; bad shapes are refused', () => {
    const data = Float32Array.from([0, 1, 0, 1, 0.5, 0.5, 0.5, 0.5]);
    const s = sampleImage(data, [2, 1, 2, 2], 1);
    expect(Array.from(s.data)).toEqual([128, 128, 128, 128]);
    expect(() => sampleImage(data, [2, 1, 2, 2], 2)).toThrow(ValueError);
    expect(() => tileGrid(data, [2, 2, 1, 2])).toThrow(ShapeError);
    expect(() => tileGrid(data, [3, 1, 2, 2])).toThrow(ShapeError);
    expect(() => tileGrid(data, [2, 1, 2, 2], { columns: 0 })).toThrow(ValueError);
  });
});
