import { describe, expect, test } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { encodePng, writeGridPng, writeSamplePngs } from '../../src/node/png.ts';
import { decodeImage } from '../../src/node/image-decode.ts';

const dir = mkdtempSync(join(tmpdir(), 'softdiff-png-'));

describe('PNG output', () => {
  test('an RGB grid decodes back to the tiled pixels', async () => {
    const data = new Float32Array(4 * 3 * 3 * 3);
    for (let i = 0; i < data.length; i++) data[i] = (i % 7) / 6;
    const path = join(dir, 'grid.png');
    await writeGridPng(path, data, [4, 3, 3, 3], { padding: 1 });
    const png = PNG.sync.read(readFileSync(path));
    expect([png.width, png.height]).toEqual([2 * 3 + 3, 2 * 3 + 3]);
    // sample 3 sits in the bottom-right cell: its channel c at (x, y) is data[3*27 + c*9 + y*3 + x]
    for (let y = 0; y < 3; y++)
      for (let x = 0; x < 3; x++)
        for (let c = 0; c < 3; c++) {
          const p = ((5 + y) * png.width + 5 + x) * 4;
          expect(png.data[p + c]).toBe(Math.round(data[81 + c * 9 + y * 3 + x]! * 255));
        }
    expect(Array.from(png.data.subarray(0, 4))).toEqual([255, 255, 255, 255]);
  });

  test('grey samples are written as greyscale PNGs, one per sample', async () => {
    const data = Float32Array.from({ length: 3 * 4 * 5 }, (_, k) => (k % 20) / 19);
    const paths = await writeSamplePngs(join(dir, 'samples'), data, [3, 1, 4, 5], 'x');
    expect(paths.map((p) => p.slice(-11))).toEqual(['x-0000.png', 'x-0001.png', 'x-0002.png'].map((s) => `/${s}`));
    const bytes = readFileSync(paths[2]!);
    expect(bytes[25]).toBe(0); // IHDR colour type 0: greyscale
    const img = decodeImage(bytes, paths[2]!);
    expect([img.width, img.height]).toEqual([5, 4]);
    for (let k = 0; k < 20; k++) expect(img.data[k * 4]).toBe(Math.round((k / 19) * 255));
    const rgb = encodePng({ width: 1, height: 1, channels: 3, data: Uint8Array.from([1, 2, 3]) });
    expect(rgb[25]).toBe(2); // colour type 2: RGB
  });
});
