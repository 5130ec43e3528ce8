// The calibration distortions: the blur against direct cosine sums (and its Gaussian second moment),
// noise and speckle statistics, the parser's accepted forms.
import { describe, expect, test } from 'vitest';
import { expectClose } from '../helpers/expect-close.ts';
import { randu } from '../helpers/random.ts';
import { distort, parseDistortion } from '../../src/eval/distortions.ts';
import { dTerm, spectralFilterRef } from '../reference/blur.ts';
import { ValueError } from '../../src/gpu/errors.ts';

describe('distortions', () => {
  test('blur matches the DCT-domain reference on two channels', () => {
    const x = Float32Array.from(randu(2 * 2 * 8 * 8, 1));
    const got = distort(x, 8, { kind: 'blur', amount: 1.5 });
    const ref = spectralFilterRef(Float64Array.from(x), [2, 2, 8, 8], (_, k, l) => dTerm(k, l, 8, 8, 1.5));
    expectClose(got, ref, { atol: 1e-6, rtol: 1e-6 });
  });

  test('blur of a point in the middle of a 32 px image: mass 1, variance sigma^2 per axis', () => {
    const n = 32;
    const x = new Float32Array(n * n);
    x[16 * n + 16] = 1;
    const y = distort(x, n, { kind: 'blur', amount: 2 });
    let mass = 0;
    let m2 = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      mass += y[i * n + j]!;
      m2 += y[i * n + j]! * (i - 16) ** 2;
    }
    expect(mass).toBeCloseTo(1, 5);
    // The DCT heat kernel with eigenvalues (pi k / N)^2 is a Gaussian of std sigma away from the border.
    expect(m2).toBeCloseTo(4, 2);
  });

  test('noise, speckle and uniform have the stated statistics and are seeded', () => {
    const x = new Float32Array(200_000).fill(0.5);
    const noisy = distort(x, 32, { kind: 'noise', amount: 0.3 }, 3);
    const mean = noisy.reduce((a, v) => a + v, 0) / x.length;
    const std = Math.sqrt(noisy.reduce((a, v) => a + (v - mean) ** 2, 0) / x.length);
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.003);
    expect(Math.abs(std - 0.3)).toBeLessThan(0.003);
    const speckled = distort(x, 32, { kind: 'speckle', amount: 0.1 }, 3);
    const changed = speckled.filter((v) => v !== 0.5).length / x.length;
    expect(Math.abs(changed - 0.1)).toBeLessThan(0.003);
    expect(speckled.every((v) => v === 0 || v === 1 || v === 0.5)).toBe(true);
    const u = distort(x, 32, { kind: 'uniform', amount: 0 }, 3);
    expect(Math.abs(u.reduce((a, v) => a + v, 0) / x.length - 0.5)).toBeLessThan(0.003);
    expect(Array.from(distort(x.subarray(0, 100), 32, { kind: 'noise', amount: 0.1 }, 9))).toEqual(Array.from(distort(x.subarray(0, 100), 32, { kind: 'noise', amount: 0.1 }, 9)));
  });

  test('the parser', () => {
    expect(parseDistortion('blur:2')).toEqual({ kind: 'blur', amount: 2 });
    expect(parseDistortion('speckle:0.05')).toEqual({ kind: 'speckle', amount: 0.05 });
    expect(parseDistortion('uniform')).toEqual({ kind: 'uniform', amount: 0 });
    for (const bad of ['blur', 'blur:-1', 'speckle:2', 'fog:1', 'noise:x']) expect(() => parseDistortion(bad)).toThrow(ValueError);
  });
});
