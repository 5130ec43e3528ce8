// Shared pieces of the quality experiments (issue 17): float64 DCT on the host (orthonormal DCT-II as
// a matrix, separable), radial frequency bands, checkpoint loading, tiny argument parsing. Host-side
// analysis only; every sample and every x0hat comes from the engine on the GPU.
import { readFileSync } from 'node:fs';
import { decodeCheckpointFile, stateForLayout } from '../../src/train/checkpoint-state.ts';
import { UNetGraph } from '../../src/nn/unet-graph.ts';
import { corruptionFromJSON, type ResolvedOptions } from '../../src/train/options.ts';
import { Schedule } from '../../src/diffusion/schedule.ts';
import type { Corruption } from '../../src/diffusion/types.ts';

/** The orthonormal DCT-II matrix D (n x n): X = D x. */
export function dctMatrix(n: number): Float64Array {
  const d = new Float64Array(n * n);
  for (let k = 0; k < n; k++)
    for (let i = 0; i < n; i++) d[k * n + i] = Math.sqrt((k === 0 ? 1 : 2) / n) * Math.cos((Math.PI * (2 * i + 1) * k) / (2 * n));
  return d;
}

/** 2-D DCT of one n x n slice (inverse = transpose). */
export function dct2(x: ArrayLike<number>, n: number, d: Float64Array, inverse = false): Float64Array {
  const tmp = new Float64Array(n * n);
  const out = new Float64Array(n * n);
  const m = (a: number, b: number) => (inverse ? d[b * n + a]! : d[a * n + b]!);
  // tmp = M x (rows), out = tmp M^T
  for (let k = 0; k < n; k++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += m(k, i) * x[i * n + j]!;
      tmp[k * n + j] = s;
    }
  for (let k = 0; k < n; k++)
    for (let l = 0; l < n; l++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += tmp[k * n + j]! * m(l, j);
      out[k * n + l] = s;
    }
  return out;
}

/** d_t(k, l) of the DCT blur with std sigmaB pixels. */
export function blurMultiplier(n: number, sigmaB: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let k = 0; k < n; k++)
    for (let l = 0; l < n; l++) out[k * n + l] = Math.exp((-(((Math.PI * k) / n) ** 2 + ((Math.PI * l) / n) ** 2) * sigmaB * sigmaB) / 2);
  return out;
}

/** Radial band edges in units of k + l style radius sqrt(k^2 + l^2): [0,1) DC, then octave-ish bands. */
export const BAND_EDGES = [0, 1, 2, 4, 8, 16, 46];
export const BAND_NAMES = ['DC', 'r1', 'r2-3', 'r4-7', 'r8-15', 'r16+'];

export function bandOf(n: number): Int32Array {
  const b = new Int32Array(n * n);
  for (let k = 0; k < n; k++)
    for (let l = 0; l < n; l++) {
      const r = Math.sqrt(k * k + l * l);
      let i = 0;
      while (i < BAND_EDGES.length - 2 && r >= BAND_EDGES[i + 1]!) i++;
      b[k * n + l] = i;
    }
  return b;
}

/** Sum of squared DCT coefficients per band, per image averaged (images [N, n*n]). */
export function bandEnergy(images: Float32Array | Float64Array, count: number, n: number): Float64Array {
  const d = dctMatrix(n);
  const bands = bandOf(n);
  const e = new Float64Array(BAND_NAMES.length);
  for (let s = 0; s < count; s++) {
    const X = dct2(images.subarray(s * n * n, (s + 1) * n * n), n, d);
    for (let q = 0; q < n * n; q++) e[bands[q]!]! += X[q]! * X[q]!;
  }
  return e.map((v) => v / count);
}

export interface LoadedCheckpoint {
  options: ResolvedOptions;
  step: number;
  ema: Float32Array;
  model: Float32Array;
  priorBank: Float32Array;
  corruption: Corruption;
  noise: Schedule;
}

export function loadCheckpoint(path: string): LoadedCheckpoint {
  const ckpt = decodeCheckpointFile(new Uint8Array(readFileSync(path)), path);
  const o = ckpt.fields.options;
  const graph = new UNetGraph(o.model, { batch: 1, training: false });
  const state = stateForLayout(ckpt, graph.graph.params);
  return { options: o, step: ckpt.fields.step, ema: state.flat.ema, model: state.flat.model, priorBank: state.priorBank, corruption: corruptionFromJSON(o.corruption), noise: Schedule.fromJSON(o.noise) };
}

/** --name value pairs into a record (flags without a value are 'true'). */
export function parseArgs(argv: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('--')) out[a.slice(2)] = 'true';
    else {
      out[a.slice(2)] = next;
      i++;
    }
  }
  return out;
}

/** A seeded Gaussian on the host (Box-Muller over a small LCG-free xorshift), for x_t of the diagnostics. */
export function gaussian(seed: number): () => number {
  let s = seed >>> 0 || 1;
  const u = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return (s + 0.5) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}
