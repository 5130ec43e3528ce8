// expectClose: elementwise |actual - expected| <= atol + rtol * |expected|, reporting the worst
// element (index, both values, error) so that a failure says where and by how much.
import { expect } from 'vitest';

export interface Tolerance {
  atol?: number;
  rtol?: number;
  label?: string;
}

export function closeness(actual: ArrayLike<number>, expected: ArrayLike<number>, { atol = 1e-5, rtol = 1e-4 }: Tolerance = {}) {
  let worst = -1;
  let worstRatio = 0;
  let maxAbs = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    const err = Math.abs(a - e);
    const ratio = Number.isNaN(a) || Number.isNaN(e) ? Infinity : err / (atol + rtol * Math.abs(e));
    maxAbs = Math.max(maxAbs, err);
    if (ratio > worstRatio || worst < 0) {
      worstRatio = ratio;
      worst = i;
    }
  }
  return { ok: worstRatio <= 1 && actual.length === expected.length, worst, worstRatio, maxAbs };
}

export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance = {}): void {
  const label = tol.label ? `${tol.label}: ` : '';
  expect(actual.length, `${label}length`).toBe(expected.length);
  const { ok, worst, worstRatio, maxAbs } = closeness(actual, expected, tol);
  if (!ok) {
    const msg =
      `${label}not close (atol ${tol.atol ?? 1e-5}, rtol ${tol.rtol ?? 1e-4}): worst at [${worst}] ` +
      `actual ${actual[worst]} vs expected ${expected[worst]} (${worstRatio.toFixed(2)}x tolerance; max abs err ${maxAbs.toExponential(3)})`;
    expect.fail(msg);
  }
}

/** Relative error of two vectors in the 2-norm: ||a - b|| / max(||b||, tiny). */
export function relError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < expected.length; i++) {
    num += (actual[i]! - expected[i]!) ** 2;
    den += expected[i]! ** 2;
  }
  return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-30);
}
