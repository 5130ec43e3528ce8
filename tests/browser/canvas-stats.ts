// What the page tests read back from a canvas: its size, the mean and standard deviation of its RGB
// values (a blank or constant canvas has std 0), and every 97th byte, to tell two drawings apart.
import type { Page } from 'puppeteer-core';

export function canvasStats(p: Page, id: string) {
  return p.evaluate((cid) => {
    const c = document.getElementById(cid) as HTMLCanvasElement;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let s = 0;
    let s2 = 0;
    let n = 0;
    for (let i = 0; i < d.length; i += 4)
      for (let k = 0; k < 3; k++) {
        s += d[i + k]!;
        s2 += d[i + k]! ** 2;
        n++;
      }
    const mean = s / n;
    return { width: c.width, height: c.height, mean, std: Math.sqrt(Math.max(0, s2 / n - mean * mean)), pixels: Array.from(d.filter((_, i) => i % 97 === 0)) };
  }, id);
}
