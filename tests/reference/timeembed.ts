// float64 reference for the sinusoidal time features: dim / 2 sines, then dim / 2 cosines of
// scale * t * f_k with f_k = exp(-ln(10000) k / (dim / 2)).
export function timeEmbeddingRef(t: ArrayLike<number>, dim: number, scale: number): Float64Array {
  const half = dim / 2;
  const out = new Float64Array(t.length * dim);
  for (let b = 0; b < t.length; b++)
    for (let k = 0; k < half; k++) {
      const a = scale * t[b]! * Math.exp((-Math.log(10000) * k) / half);
      out[b * dim + k] = Math.sin(a);
      out[b * dim + half + k] = Math.cos(a);
    }
  return out;
}
