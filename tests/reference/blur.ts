// float64 references for the DCT blur (src/diffusion/blur.ts, shaders/dct.wgsl), written from the
// formulas in SPEC.md section 1 (direct cosine sums, no matrices shared with src/).
export type Dims = [number, number, number, number];

/** Orthonormal DCT-II of one H x W slice: X[k,l] = a_k a_l sum_ij x[i,j] cos(pi(2i+1)k/2H) cos(pi(2j+1)l/2W). */
export function dct2(x: Float64Array, h: number, w: number, inverse = false): Float64Array {
  const a = (k: number, n: number) => Math.sqrt((k === 0 ? 1 : 2) / n);
  const cs = (i: number, k: number, n: number) => a(k, n) * Math.cos((Math.PI * (2 * i + 1) * k) / (2 * n));
  const out = new Float64Array(h * w);
  for (let p = 0; p < h; p++)
    for (let q = 0; q < w; q++) {
      let s = 0;
      for (let i = 0; i < h; i++)
        for (let j = 0; j < w; j++) s += x[i * w + j]! * (inverse ? cs(p, i, h) * cs(q, j, w) : cs(i, p, h) * cs(j, q, w));
      out[p * w + q] = s;
    }
  return out;
}

export const dTerm = (k: number, l: number, h: number, w: number, sigma: number, power = 1) =>
  Math.exp((-power * (((Math.PI * k) / h) ** 2 + ((Math.PI * l) / w) ** 2) * sigma * sigma) / 2);

/** Apply a per-sample DCT-domain multiplier mult(b, k, l) to every channel: D^T (m .* D x). */
export function spectralFilterRef(x: Float64Array, [b, c, h, w]: Dims, mult: (b: number, k: number, l: number) => number): Float64Array {
  const out = new Float64Array(x.length);
  for (let s = 0; s < b * c; s++) {
    const X = dct2(x.subarray(s * h * w, (s + 1) * h * w), h, w);
    const bi = Math.floor(s / c);
    for (let k = 0; k < h; k++) for (let l = 0; l < w; l++) X[k * w + l]! *= mult(bi, k, l);
    out.set(dct2(X, h, w, true), s * h * w);
  }
  return out;
}

/** C x with per-sample blur std sigmas[b] (power 2: C^T C). */
export function blurRef(x: Float64Array, dims: Dims, sigmas: readonly number[], power = 1): Float64Array {
  const [, , h, w] = dims;
  return spectralFilterRef(x, dims, (b, k, l) => dTerm(k, l, h, w, sigmas[b]!, power));
}

/** The DCT of every slice (forward transform reference). */
export function dctBatchRef(x: Float64Array, [b, c, h, w]: Dims, inverse = false): Float64Array {
  const out = new Float64Array(x.length);
  for (let s = 0; s < b * c; s++) out.set(dct2(x.subarray(s * h * w, (s + 1) * h * w), h, w, inverse), s * h * w);
  return out;
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** The levels array [B, 4] with the given corruption levels c and noise sigmas (t = 0, weight 1 unless given). */
export function levelsOf(cs: readonly number[], sigmas: readonly number[] = cs.map(() => 0.1), weights: readonly number[] = cs.map(() => 1)): Float32Array {
  const out = new Float32Array(cs.length * 4);
  cs.forEach((c, b) => out.set([0.5, c, sigmas[b]!, weights[b]!], b * 4));
  return out;
}
