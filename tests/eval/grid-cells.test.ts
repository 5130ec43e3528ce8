// Grid pictures written by softdiff cut back into their images.
import { describe, expect, test } from 'vitest';
import { tileGrid, imageToRgba } from '../../src/io/grid.ts';
import { gridCells, gridLayout } from '../../src/eval/grid-cells.ts';
import { randu } from '../helpers/random.ts';
import { ValueError } from '../../src/gpu/errors.ts';

describe('grid cells', () => {
  test('a 10-image grid (a 4x3 layout with two empty cells) round-trips to 8-bit precision', () => {
    const n = 10;
    const size = 6;
    // Dark images (like digits): never all background white.
    const images = Float32Array.from(randu(n * size * size, 3, 0, 0.9));
    const grid = tileGrid(images, [n, 1, size, size]);
    expect(gridLayout(grid.width, grid.height, size)).toEqual({ columns: 4, rows: 3 });
    const back = gridCells({ width: grid.width, height: grid.height, data: new Uint8Array(imageToRgba(grid).buffer) }, size, 1);
    expect(back.length).toBe(images.length);
    let worst = 0;
    for (let i = 0; i < images.length; i++) worst = Math.max(worst, Math.abs(back[i]! - images[i]!));
    expect(worst).toBeLessThanOrEqual(0.5 / 255 + 1e-7);
  });

  test('a picture that is not such a grid is refused with the layout rule', () => {
    expect(gridLayout(100, 34, 32)).toBeNull();
    expect(() => gridCells({ width: 100, height: 34, data: new Uint8Array(100 * 34 * 4) }, 32, 1, 2, 'x.png')).toThrow(ValueError);
    expect(() => gridCells({ width: 100, height: 34, data: new Uint8Array(100 * 34 * 4) }, 32, 1, 2, 'x.png')).toThrow(/x\.png \(100x34\) is not a grid of 32x32/);
  });
});
