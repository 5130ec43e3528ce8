// The lab's pictures as 8-bit RGB images, drawn in plain TypeScript so that the CLI (PNG through
// src/node/png.ts) and the demo page (canvas putImageData) show the same pixels: a density as a
// heat map, vector fields as arrows over it, samples as dots, and the objective curves as lines.
import type { Image8 } from '../io/grid.ts';
import type { GaussianMixture } from './mixture.ts';

export interface Box {
  lo: [number, number];
  hi: [number, number];
}

export type Rgb = readonly [number, number, number];

export const COLORS = {
  truth: [255, 255, 255] as Rgb,
  target: [120, 220, 255] as Rgb,
  learned: [255, 150, 40] as Rgb,
  sample: [120, 255, 160] as Rgb,
  esm: [31, 95, 168] as Rgb,
  ism: [120, 170, 230] as Rgb,
  esmSmoothed: [200, 80, 20] as Rgb,
  dsm: [250, 160, 90] as Rgb,
  axis: [90, 90, 90] as Rgb,
  grid: [225, 225, 225] as Rgb,
};

export function blank(width: number, height: number, color: Rgb = [255, 255, 255]): Image8 {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) data.set(color, 3 * i);
  return { width, height, channels: 3, data };
}

/** A square view of the density's first two coordinates, padded to the larger side. */
export function viewBox(mix: GaussianMixture, spread = 3): Box {
  const { lo, hi } = mix.bounds(spread);
  const cx = (lo[0]! + hi[0]!) / 2;
  const cy = (lo[1]! + hi[1]!) / 2;
  const half = Math.max(hi[0]! - lo[0]!, hi[1]! - lo[1]!) / 2;
  return { lo: [cx - half, cy - half], hi: [cx + half, cy + half] };
}

/** Pixel coordinates of a point (y up). */
export function toPixel(box: Box, size: number, x: number, y: number): [number, number] {
  return [((x - box.lo[0]) / (box.hi[0] - box.lo[0])) * size, ((box.hi[1] - y) / (box.hi[1] - box.lo[1])) * size];
}

// An inferno-like ramp: black -> purple -> red -> orange -> pale yellow.
const RAMP: Rgb[] = [
  [0, 0, 4],
  [66, 10, 104],
  [147, 38, 103],
  [221, 81, 58],
  [252, 165, 10],
  [252, 255, 164],
];

export function ramp(t: number): Rgb {
  const u = Math.min(1, Math.max(0, t)) * (RAMP.length - 1);
  const i = Math.min(RAMP.length - 2, Math.floor(u));
  const f = u - i;
  const a = RAMP[i]!;
  const b = RAMP[i + 1]!;
  return [a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1]), a[2] + f * (b[2] - a[2])];
}

/**
 * The density of the first two coordinates as a heat map (other coordinates at the mixture mean),
 * brightness sqrt(p / max p); `dim` scales it (a faded backdrop for dots and arrows).
 */
export function densityImage(mix: GaussianMixture, box: Box, size: number, dim = 1): Image8 {
  const img = blank(size, size);
  const logp = new Float64Array(size * size);
  const x = mix.mean();
  let max = -Infinity;
  for (let j = 0; j < size; j++)
    for (let i = 0; i < size; i++) {
      x[0] = box.lo[0] + ((i + 0.5) / size) * (box.hi[0] - box.lo[0]);
      x[1] = box.hi[1] - ((j + 0.5) / size) * (box.hi[1] - box.lo[1]);
      const v = mix.logDensity(x);
      logp[j * size + i] = v;
      if (v > max) max = v;
    }
  for (let k = 0; k < size * size; k++) {
    const c = ramp(Math.sqrt(Math.exp(logp[k]! - max)));
    img.data.set([c[0] * dim, c[1] * dim, c[2] * dim], 3 * k);
  }
  return img;
}

function blend(img: Image8, x: number, y: number, c: Rgb, alpha: number): void {
  if (x < 0 || y < 0 || x >= img.width || y >= img.height || alpha <= 0) return;
  const k = 3 * (y * img.width + x);
  const a = Math.min(1, alpha);
  for (let ch = 0; ch < 3; ch++) img.data[k + ch] = Math.round(img.data[k + ch]! * (1 - a) + c[ch]! * a);
}

/** An antialiased line (Xiaolin Wu), `width` 1 or 2 pixels, dashed when `dash` > 0 (pixels on, off). */
export function drawLine(img: Image8, x0: number, y0: number, x1: number, y1: number, c: Rgb, alpha = 1, width = 1, dash = 0): void {
  const steep = Math.abs(y1 - y0) > Math.abs(x1 - x0);
  if (steep) [x0, y0, x1, y1] = [y0, x0, y1, x1];
  if (x0 > x1) [x0, y0, x1, y1] = [x1, y1, x0, y0];
  const dx = x1 - x0;
  const grad = dx === 0 ? 1 : (y1 - y0) / dx;
  const len = Math.hypot(x1 - x0, y1 - y0);
  const plot = (x: number, y: number, a: number) => (steep ? blend(img, y, x, c, a * alpha) : blend(img, x, y, c, a * alpha));
  for (let x = Math.round(x0); x <= Math.round(x1); x++) {
    if (dash > 0 && Math.floor((((x - x0) / Math.max(dx, 1e-9)) * len) / dash) % 2 === 1) continue;
    const y = y0 + grad * (x - x0);
    const yi = Math.floor(y);
    const f = y - yi;
    plot(x, yi, 1 - f);
    plot(x, yi + 1, f);
    if (width > 1) {
      plot(x, yi - 1, 1 - f);
      plot(x, yi + 2, f);
    }
  }
}

/**
 * Arrows for vectors v at points (both [n * 2]); length cell * 0.9 * |v| / (|v| + ref), so that the
 * direction always shows and the magnitude reads on a saturating scale common to every panel.
 */
export function drawArrows(img: Image8, box: Box, points: ArrayLike<number>, vectors: ArrayLike<number>, c: Rgb, cell: number, ref: number): void {
  const n = points.length / 2;
  for (let k = 0; k < n; k++) {
    const vx = vectors[2 * k]!;
    const vy = vectors[2 * k + 1]!;
    const m = Math.hypot(vx, vy);
    if (!Number.isFinite(m) || m === 0) continue;
    const len = (0.9 * cell * m) / (m + ref);
    const [px, py] = toPixel(box, img.width, points[2 * k]!, points[2 * k + 1]!);
    const ux = vx / m;
    const uy = -vy / m; // pixel y points down
    const ex = px + ux * len;
    const ey = py + uy * len;
    drawLine(img, px, py, ex, ey, c, 0.95);
    const head = Math.max(2, 0.3 * len);
    for (const s of [-1, 1]) {
      const ca = Math.cos(2.7);
      const sa = Math.sin(2.7) * s;
      drawLine(img, ex, ey, ex + head * (ux * ca - uy * sa), ey + head * (ux * sa + uy * ca), c, 0.95);
    }
  }
}

/** Dots of radius `r` pixels at points [n * 2]. */
export function drawPoints(img: Image8, box: Box, points: ArrayLike<number>, c: Rgb, r = 1.2, alpha = 0.8, stride = 2): void {
  const n = Math.floor(points.length / stride);
  const R = Math.ceil(r);
  for (let k = 0; k < n; k++) {
    const [px, py] = toPixel(box, img.width, points[stride * k]!, points[stride * k + 1]!);
    if (!Number.isFinite(px) || !Number.isFinite(py)) continue;
    for (let dy = -R; dy <= R; dy++)
      for (let dx = -R; dx <= R; dx++) {
        const x = Math.floor(px) + dx;
        const y = Math.floor(py) + dy;
        const d = Math.hypot(x + 0.5 - px, y + 0.5 - py);
        blend(img, x, y, c, alpha * Math.min(1, Math.max(0, r + 0.5 - d)));
      }
  }
}

/** Images side by side with `gap` pixels of `background` between them. */
export function hconcat(images: Image8[], gap = 8, background: Rgb = [255, 255, 255]): Image8 {
  const height = Math.max(...images.map((i) => i.height));
  const width = images.reduce((s, i) => s + i.width, 0) + gap * (images.length - 1);
  const out = blank(width, height, background);
  let x0 = 0;
  for (const im of images) {
    for (let y = 0; y < im.height; y++) out.data.set(im.data.subarray(3 * y * im.width, 3 * (y + 1) * im.width), 3 * (y * width + x0));
    x0 += im.width + gap;
  }
  return out;
}

/** Grid points (cell centres) of an n x n lattice over the box [n * n * 2] and the cell size in pixels. */
export function fieldGrid(box: Box, n: number, size: number): { points: Float32Array; cell: number } {
  const points = new Float32Array(n * n * 2);
  for (let j = 0; j < n; j++)
    for (let i = 0; i < n; i++) {
      points[2 * (j * n + i)] = box.lo[0] + ((i + 0.5) / n) * (box.hi[0] - box.lo[0]);
      points[2 * (j * n + i) + 1] = box.lo[1] + ((j + 0.5) / n) * (box.hi[1] - box.lo[1]);
    }
  return { points, cell: size / n };
}

export interface Series {
  label: string;
  color: Rgb;
  dash?: number;
  x: number[];
  y: number[];
}

/** A rounded step for about `count` ticks over [lo, hi]. */
export function niceStep(lo: number, hi: number, count = 5): number {
  const raw = (hi - lo) / Math.max(1, count);
  const p = 10 ** Math.floor(Math.log10(raw || 1));
  const m = raw / p;
  return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

/** Axes, light grid lines at round values, and the series (labels go in the SVG twin, chartSvg). */
export function lineChart(series: Series[], width = 640, height = 320): Image8 {
  const img = blank(width, height);
  const { x0, x1, y0, y1, xs, ys } = chartFrame(series, width, height);
  const yStep = niceStep(y0, y1);
  for (let v = Math.ceil(y0 / yStep) * yStep; v <= y1; v += yStep) drawLine(img, 40, ys(v), width - 10, ys(v), COLORS.grid);
  const xStep = niceStep(x0, x1);
  for (let v = Math.ceil(x0 / xStep) * xStep; v <= x1; v += xStep) drawLine(img, xs(v), 10, xs(v), height - 30, COLORS.grid);
  drawLine(img, 40, height - 30, width - 10, height - 30, COLORS.axis);
  drawLine(img, 40, 10, 40, height - 30, COLORS.axis);
  for (const s of series)
    for (let i = 1; i < s.x.length; i++) drawLine(img, xs(s.x[i - 1]!), ys(s.y[i - 1]!), xs(s.x[i]!), ys(s.y[i]!), s.color, 1, 2, s.dash ?? 0);
  return img;
}

function chartFrame(series: Series[], width: number, height: number) {
  const allX = series.flatMap((s) => s.x);
  const allY = series.flatMap((s) => s.y).filter(Number.isFinite);
  const x0 = Math.min(...allX, 0);
  const x1 = Math.max(...allX, 1);
  let y0 = Math.min(...allY, 0);
  let y1 = Math.max(...allY, 1e-9);
  const pad = 0.05 * (y1 - y0 || 1);
  y0 -= y0 < 0 ? pad : 0;
  y1 += pad;
  const xs = (v: number) => 40 + ((v - x0) / (x1 - x0 || 1)) * (width - 50);
  const ys = (v: number) => height - 30 - ((v - y0) / (y1 - y0 || 1)) * (height - 40);
  return { x0, x1, y0, y1, xs, ys };
}

/** The same chart as SVG, with axis values, a legend and a title. */
export function chartSvg(series: Series[], title: string, xLabel: string, width = 640, height = 340): string {
  const h = height - 20;
  const { x0, x1, y0, y1, xs, ys } = chartFrame(series, width, h);
  const hex = (c: Rgb) => `#${c.map((v) => Math.round(v).toString(16).padStart(2, '0')).join('')}`;
  const fmt = (v: number) => String(Number(v.toPrecision(4)));
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="${height - 4}" text-anchor="middle">${xLabel}</text>`,
    `<text x="44" y="12" font-weight="bold">${title}</text>`,
  ];
  const yStep = niceStep(y0, y1);
  for (let v = Math.ceil(y0 / yStep) * yStep; v <= y1; v += yStep)
    parts.push(`<line x1="40" x2="${width - 10}" y1="${ys(v)}" y2="${ys(v)}" stroke="#e1e1e1"/><text x="36" y="${ys(v) + 4}" text-anchor="end">${fmt(v)}</text>`);
  const xStep = niceStep(x0, x1);
  for (let v = Math.ceil(x0 / xStep) * xStep; v <= x1; v += xStep)
    parts.push(`<line x1="${xs(v)}" x2="${xs(v)}" y1="10" y2="${h - 30}" stroke="#e1e1e1"/><text x="${xs(v)}" y="${h - 16}" text-anchor="middle">${fmt(v)}</text>`);
  parts.push(`<line x1="40" x2="${width - 10}" y1="${h - 30}" y2="${h - 30}" stroke="#5a5a5a"/><line x1="40" x2="40" y1="10" y2="${h - 30}" stroke="#5a5a5a"/>`);
  series.forEach((s, i) => {
    const pts = s.x.map((x, k) => `${xs(x).toFixed(1)},${ys(s.y[k]!).toFixed(1)}`).join(' ');
    parts.push(`<polyline fill="none" stroke="${hex(s.color)}" stroke-width="2" ${s.dash ? `stroke-dasharray="${s.dash}"` : ''} points="${pts}"/>`);
    parts.push(`<line x1="${width - 190}" x2="${width - 170}" y1="${24 + 14 * i}" y2="${24 + 14 * i}" stroke="${hex(s.color)}" stroke-width="2" ${s.dash ? `stroke-dasharray="${s.dash}"` : ''}/>`);
    parts.push(`<text x="${width - 165}" y="${28 + 14 * i}">${s.label.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** RGB to RGBA (for a canvas's ImageData). */
export function toRgba(img: Image8): Uint8ClampedArray {
  const out = new Uint8ClampedArray(img.width * img.height * 4);
  for (let i = 0; i < img.width * img.height; i++) {
    out[4 * i] = img.data[3 * i]!;
    out[4 * i + 1] = img.data[3 * i + 1]!;
    out[4 * i + 2] = img.data[3 * i + 2]!;
    out[4 * i + 3] = 255;
  }
  return out;
}
