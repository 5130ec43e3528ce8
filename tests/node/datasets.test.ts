import { describe, expect, test } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';
import { loadDataset, loadEmoji, loadImageFolder, loadMnist } from '../../src/node/datasets.ts';
import { EngineError, ValueError } from '../../src/gpu/errors.ts';

function pngBytes(w: number, h: number, rgba: number[]): Buffer {
  const png = new PNG({ width: w, height: h });
  for (let p = 0; p < w * h; p++) png.data.set(rgba, p * 4);
  return PNG.sync.write(png);
}

describe('data sets from packages and folders', () => {
  test('MNIST: the 10,000 digits of the mnist package, 1x32x32, ink on a zero border', () => {
    const ds = loadMnist();
    expect(ds.length).toBe(10000);
    expect([ds.channels, ds.size]).toEqual([1, 32]);
    const counts = new Array(10).fill(0);
    for (const l of ds.labels) counts[l]++;
    expect(counts.every((c) => c > 800 && c < 1200)).toBe(true);
    const mean = new Float64Array(1024);
    for (let i = 0; i < 10000; i += 37) ds.get(i).forEach((v, k) => (mean[k]! += v));
    // The 2-pixel padding is exactly zero; the centre has ink.
    for (let k = 0; k < 32; k++) expect(mean[k]! + mean[k * 32]! + mean[31 * 32 + k]!).toBe(0);
    expect(mean[16 * 32 + 16]!).toBeGreaterThan(10);
  });

  test('emoji: Noto emoji at 32 and 64 pixels, RGB on white, the same images at both sizes', () => {
    const e32 = loadEmoji(32);
    const e64 = loadEmoji(64);
    expect(e32.length).toBeGreaterThan(1500);
    expect(e64.length).toBe(e32.length);
    expect([e32.channels, e32.size, e64.size]).toEqual([3, 32, 64]);
    // Corners are background (white) for most emoji; the centre is not.
    let whiteCorners = 0;
    let inkCentres = 0;
    for (let i = 0; i < e32.length; i += 10) {
      const x = e32.get(i);
      if (x[0] === 1 && x[1024] === 1 && x[2048] === 1) whiteCorners++;
      if (x[16 * 32 + 16] !== 1 || x[1024 + 16 * 32 + 16] !== 1) inkCentres++;
    }
    const checked = Math.ceil(e32.length / 10);
    expect(whiteCorners / checked).toBeGreaterThan(0.6);
    expect(inkCentres / checked).toBeGreaterThan(0.8);
    // The 64-pixel image averaged over 2x2 blocks is close to the 32-pixel one (same emoji, same order).
    const a = e32.get(100);
    const b = e64.get(100);
    let err = 0;
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < 32; y++)
        for (let x = 0; x < 32; x++) {
          const q = (o: number, v: number) => b[c * 4096 + (2 * y + o) * 64 + 2 * x + v]!;
          err += Math.abs((q(0, 0) + q(0, 1) + q(1, 0) + q(1, 1)) / 4 - a[c * 1024 + y * 32 + x]!);
        }
    expect(err / 3072).toBeLessThan(0.06);
    expect(loadEmoji(32, { skinTones: true }).length).toBeGreaterThan(e32.length + 1000);
    expect(() => loadEmoji(48)).toThrow(ValueError);
  });

  test('a folder: PNG and JPEG are resized and cropped, corrupt files are skipped with a warning naming them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'softdiff-folder-'));
    writeFileSync(join(dir, 'a.png'), pngBytes(40, 20, [255, 0, 0, 255]));
    const jpg = jpeg.encode({ width: 16, height: 16, data: new Uint8Array(16 * 16 * 4).fill(255) }, 95);
    writeFileSync(join(dir, 'b.JPG'), jpg.data);
    writeFileSync(join(dir, 'c.png'), Buffer.from('not a png at all'));
    writeFileSync(join(dir, 'd.jpg'), pngBytes(4, 4, [0, 0, 0, 255]).subarray(0, 30)); // truncated
    writeFileSync(join(dir, 'notes.txt'), 'ignored');
    mkdirSync(join(dir, 'sub.png'));
    const warnings: string[] = [];
    const ds = await loadImageFolder(dir, { size: 8, onWarning: (m) => warnings.push(m) });
    expect(ds.length).toBe(2);
    expect(warnings.length).toBe(2);
    expect(warnings[0]).toMatch(/c\.png/);
    expect(warnings[1]).toMatch(/d\.jpg/);
    const red = ds.get(0);
    expect(red.subarray(0, 64).every((v) => v === 1) && red.subarray(64).every((v) => v === 0)).toBe(true);
    expect(ds.get(1).every((v) => Math.abs(v - 1) < 0.02)).toBe(true);
    const grey = await loadImageFolder(dir, { size: 4, channels: 1, onWarning: () => {} });
    expect(grey.get(0)[0]).toBeCloseTo(Math.round(0.299 * 255) / 255, 6);

    const empty = mkdtempSync(join(tmpdir(), 'softdiff-empty-'));
    writeFileSync(join(empty, 'x.png'), 'junk');
    await expect(loadImageFolder(empty, { size: 8, onWarning: () => {} })).rejects.toThrow(EngineError);
    await expect(loadImageFolder(join(empty, 'nope'), { size: 8 })).rejects.toThrow(/Cannot read the image folder/);
    expect((await loadDataset(dir, { size: 8, onWarning: () => {} })).length).toBe(2);
  });

  test('data sets by name', async () => {
    expect((await loadDataset('stripes', { size: 16, length: 5 })).length).toBe(5);
    expect((await loadDataset('blobs', { size: 8, channels: 1 })).channels).toBe(1);
    await expect(loadDataset('mnist', { size: 64 })).rejects.toThrow(ValueError);
    await expect(loadDataset('cifar')).rejects.toThrow(/Unknown data set 'cifar'/);
  });
});
