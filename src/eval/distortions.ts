// Known damage done to real images, to calibrate the metrics (a score is only meaningful if it rises
// as images get worse): Gaussian blur of std s pixels (the engine's DCT heat blur, reflecting
// boundaries: exactly a Gaussian filter of std s), additive Gaussian noise of std s, speckle (a
// fraction p of the pixels set to black or white at random), and pure noise (every pixel uniform in
// [0, 1], nothing of the image left). Host-side, float64, seeded; browser-safe.
import { ValueError } from '../gpu/errors.ts';
import { HostRng } from '../base/host-rng.ts';
import { blurSpectrum, dctMatrix } from '../diffusion/dct.ts';

export type DistortionKind = 'blur' | 'noise' | 'speckle' | 'uniform';
export interface Distortion {
  kind: DistortionKind;
  /** blur: std in pixels; noise: std; speckle: fraction of pixels; uniform: unused. */
  amount: number;
}

/** Parse 'blur:2', 'noise:0.1', 'speckle:0.05', 'uniform'. */
export function parseDistortion(spec: string): Distortion {
  const [kind, value] = spec.split(':');
  const amount = value === undefined ? NaN : Number(value);
  const hint = "Use blur:<std px>, noise:<std>, speckle:<fraction in (0, 1]> or uniform, e.g. 'blur:2'.";
  if (kind === 'uniform' && value === undefined) return { kind, amount: 0 };
  if ((kind === 'blur' || kind === 'noise') && amount > 0 && Number.isFinite(amount)) return { kind, amount };
  if (kind === 'speckle' && amount > 0 && amount <= 1) return { kind, amount };
  throw new ValueError(`Unknown distortion '${spec}'.`, hint);
}

export function describeDistortion(d: Distortion): string {
  return d.kind === 'uniform' ? 'uniform' : `${d.kind}:${d.amount}`;
}

/** A distorted copy of `images` [n, channels, size, size] (blur acts on each size x size plane). */
export function distort(images: Float32Array, size: number, d: Distortion, seed = 0): Float32Array {
  const out = new Float32Array(images.length);
  const rng = new HostRng(seed);
  switch (d.kind) {
    case 'blur': {
      const D = dctMatrix(size);
      const mult = blurSpectrum(size, size, d.amount);
      const plane = size * size;
      for (let p = 0; p < images.length / plane; p++) out.set(dctFilter(images.subarray(p * plane, (p + 1) * plane), D, mult, size), p * plane);
      return out;
    }
    case 'noise':
      for (let i = 0; i < images.length; i++) out[i] = images[i]! + d.amount * rng.normal();
      return out;
    case 'speckle':
      for (let i = 0; i < images.length; i++) out[i] = rng.next() < d.amount ? (rng.next() < 0.5 ? 0 : 1) : images[i]!;
      return out;
    case 'uniform':
      for (let i = 0; i < images.length; i++) out[i] = rng.next();
      return out;
  }
  throw new ValueError(`Unknown distortion kind ${String((d as Distortion).kind)}.`);
}

/** D^T (m .* (D x D^T)) D for one size x size plane. */
function dctFilter(x: Float32Array, D: Float64Array, m: Float64Array, n: number): Float64Array {
  const t = new Float64Array(n * n);
  const X = new Float64Array(n * n);
  // t = D x ; X = t D^T
  for (let k = 0; k < n; k++) for (let i = 0; i < n; i++) {
    const dki = D[k * n + i]!;
    for (let j = 0; j < n; j++) t[k * n + j]! += dki * x[i * n + j]!;
  }
  for (let k = 0; k < n; k++) for (let l = 0; l < n; l++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += t[k * n + j]! * D[l * n + j]!;
    X[k * n + l] = s * m[k * n + l]!;
  }
  // back: t = D^T X ; y = t D
  t.fill(0);
  for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) {
    const dki = D[k * n + i]!;
    for (let l = 0; l < n; l++) t[i * n + l]! += dki * X[k * n + l]!;
  }
  const y = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let l = 0; l < n; l++) s += t[i * n + l]! * D[l * n + j]!;
    y[i * n + j] = s;
  }
  return y;
}
