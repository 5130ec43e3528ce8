// Float64 references for reductions, and the float32 rounding bound the GPU results are tested against.
export type ReduceOpRef = 'sum' | 'mean' | 'sumsq';

/** op over x, and the sum of |terms| (for the error bound). */
export function reduceRef(op: ReduceOpRef, x: ArrayLike<number>, start = 0, count = x.length): { value: number; absSum: number } {
  let s = 0;
  let a = 0;
  for (let i = start; i < start + count; i++) {
    const t = op === 'sumsq' ? x[i]! * x[i]! : x[i]!;
    s += t;
    a += Math.abs(t);
  }
  return op === 'mean' ? { value: s / count, absSum: a / count } : { value: s, absSum: a };
}

export function reduceRowsRef(op: ReduceOpRef, x: ArrayLike<number>, rows: number, cols: number): { value: Float64Array; absSum: Float64Array } {
  const value = new Float64Array(rows);
  const absSum = new Float64Array(rows);
  for (let r = 0; r < rows; r++) ({ value: value[r]!, absSum: absSum[r]! } = reduceRef(op, x, r * cols, cols));
  return { value, absSum };
}

/**
 * Float32 summation bound: a sum whose longest chain of additions has `depth` roundings has
 * |err| <= gamma_depth * sum |terms| with gamma_d = d u / (1 - d u), u = 2^-24 (Higham, eq. 4.6).
 * Squaring and the mean's scale add one rounding each; the rounding of 1/n as float32 adds one more.
 */
export function sumErrorBound(absSum: number, depth: number): number {
  const u = 2 ** -24;
  const d = depth + 3;
  return ((d * u) / (1 - d * u)) * absSum + 1e-30;
}

/**
 * Longest addition chain of the GPU's multi-pass reduction over n elements. The first pass reads vec4s
 * when n % 4 == 0 (items then counts vec4s, and the four lane sums add 2 more roundings).
 */
export function reduceDepth(n: number, itemsPerThread: number, wg = 256): number {
  const vec4 = n % 4 === 0;
  let depth = vec4 ? 2 : 0;
  for (let m = vec4 ? n / 4 : n; ; ) {
    depth += itemsPerThread + Math.log2(wg);
    const groups = Math.ceil(m / (wg * itemsPerThread));
    if (groups === 1) return depth;
    m = groups;
  }
}
