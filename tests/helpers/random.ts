// Seeded host-side random numbers for test inputs (mulberry32 + Box-Muller): reproducible failures.
export function rng(seed = 1): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randn(n: number, seed = 1, scale = 1): Float64Array {
  const u = rng(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(u() + 1e-300));
    const th = 2 * Math.PI * u();
    out[i] = scale * r * Math.cos(th);
    if (i + 1 < n) out[i + 1] = scale * r * Math.sin(th);
  }
  return out;
}

export function randu(n: number, seed = 1, lo = 0, hi = 1): Float64Array {
  const u = rng(seed);
  return Float64Array.from({ length: n }, () => lo + (hi - lo) * u());
}

export const f32 = (a: ArrayLike<number>) => Float32Array.from(a);
export const f64 = (a: ArrayLike<number>) => Float64Array.from(a);
