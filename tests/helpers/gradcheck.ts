// Finite-difference gradient checks, one helper for every layer (in the spirit of tinygrad's single
// compare-with-reference helper).
//
// A layer is given as `forward(inputs) -> output` and `backward(inputs, dOut) -> dInputs`. With a fixed
// random upstream gradient g, the scalar L = <g, forward(inputs)> has dL/dinput = backward(inputs, g).
// checkGradients compares that against central differences (L(x + h e_i) - L(x - h e_i)) / 2h for a
// sample of coordinates of each input, in float64, so the tolerance can be tight.
import { expect } from 'vitest';
import { randn } from './random.ts';

export type Forward = (inputs: Float64Array[]) => Float64Array;
export type Backward = (inputs: Float64Array[], dOut: Float64Array) => Float64Array[];

export interface GradCheckOptions {
  /** Step for central differences. */
  eps?: number;
  /** Allowed |fd - analytic| <= atol + rtol * |fd|. */
  atol?: number;
  rtol?: number;
  /** Coordinates checked per input (all if the input is smaller). */
  samples?: number;
  /** Names of the inputs, for messages. */
  names?: string[];
  /** Indices of inputs to skip (e.g. integer-valued ones). */
  skip?: number[];
  seed?: number;
}

export function checkGradients(forward: Forward, backward: Backward, inputs: Float64Array[], opts: GradCheckOptions = {}): void {
  const { eps = 1e-6, atol = 1e-7, rtol = 1e-5, samples = 40, names = [], skip = [], seed = 7 } = opts;
  const out0 = forward(inputs);
  const g = randn(out0.length, seed);
  const analytic = backward(inputs, g);
  expect(analytic.length, 'backward returns one gradient per input').toBe(inputs.length);
  const loss = (xs: Float64Array[]) => {
    const y = forward(xs);
    let s = 0;
    for (let i = 0; i < y.length; i++) s += g[i]! * y[i]!;
    return s;
  };
  inputs.forEach((x, k) => {
    if (skip.includes(k)) return;
    const name = names[k] ?? `input ${k}`;
    expect(analytic[k]!.length, `${name} gradient length`).toBe(x.length);
    const idx = pickIndices(x.length, samples, seed + k);
    for (const i of idx) {
      const orig = x[i]!;
      x[i] = orig + eps;
      const lp = loss(inputs);
      x[i] = orig - eps;
      const lm = loss(inputs);
      x[i] = orig;
      const fd = (lp - lm) / (2 * eps);
      const an = analytic[k]![i]!;
      if (!(Math.abs(fd - an) <= atol + rtol * Math.abs(fd)))
        expect.fail(`d/d ${name}[${i}]: finite difference ${fd} vs backward ${an} (|diff| ${Math.abs(fd - an).toExponential(3)})`);
    }
  });
}

function pickIndices(n: number, k: number, seed: number): number[] {
  if (n <= k) return Array.from({ length: n }, (_, i) => i);
  const set = new Set<number>([0, n - 1]);
  let s = seed * 2654435761;
  while (set.size < k) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    set.add(s % n);
  }
  return [...set];
}
