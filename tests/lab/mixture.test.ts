// The lab's densities on the host (float64): the score is the gradient of the log-density, the
// smoothed mixture is the convolution with N(0, sigma^2 I), sampling reproduces the exact moments,
// the Fisher information (behind the theorem constants) matches closed forms, and bad mixtures get
// clear errors.
import { describe, expect, test } from 'vitest';
import { GaussianMixture, packEmpirical, componentStride } from '../../src/lab/mixture.ts';
import { DENSITY_NAMES, namedDensity, parseMixture } from '../../src/lab/densities.ts';
import { fisherInformation, dsmConstant, ismConstant } from '../../src/lab/constants.ts';
import { HostRng } from '../../src/base/host-rng.ts';
import { ValueError } from '../../src/gpu/errors.ts';
import { expectClose } from '../helpers/expect-close.ts';

const correlated = new GaussianMixture(2, [
  { weight: 1, mean: [0.3, -0.2], cov: [1, 0.5, 0.5, 1] },
  { weight: 3, mean: [-1, 1], cov: [0.2, -0.05, -0.05, 0.1] },
]);

function moments(x: Float64Array, d: number) {
  const n = x.length / d;
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += x[i * d + j]! / n;
  const cov = new Float64Array(d * d);
  for (let i = 0; i < n; i++) for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) cov[a * d + b] += ((x[i * d + a]! - mean[a]!) * (x[i * d + b]! - mean[b]!)) / n;
  return { mean, cov };
}

describe('Gaussian mixtures in closed form', () => {
  test.each([...DENSITY_NAMES.map((n) => [n, 2] as const), ['gaussian', 3] as const, ['rings', 3] as const, ['grid', 3] as const])('%s in %i-D: the score is the gradient of the log-density', (name, dim) => {
    const p = namedDensity(name, dim);
    const rng = new HostRng(3);
    for (let t = 0; t < 20; t++) {
      const x = Float64Array.from({ length: dim }, () => 3 * (rng.next() - 0.5) * 2);
      const g = p.score(x);
      const fd = new Float64Array(dim);
      const h = 1e-5;
      for (let i = 0; i < dim; i++) {
        const xp = x.slice();
        const xm = x.slice();
        xp[i] += h;
        xm[i] -= h;
        fd[i] = (p.logDensity(xp) - p.logDensity(xm)) / (2 * h);
      }
      // central differences in float64: O(h^2) truncation with curvatures up to ~1/0.08^2
      expectClose(g, fd, { atol: 1e-5, rtol: 1e-5, label: `${name} score at [${[...x].map((v) => v.toFixed(2))}]` });
    }
  });

  test('the density integrates to 1 and the smoothed density is the convolution with N(0, sigma^2 I)', () => {
    const sigma = 0.4;
    const q = correlated.smoothed(sigma);
    // Both by a 2-D midpoint rule; the convolution as a sum over a grid of p times the Gaussian kernel.
    const h = 0.04;
    const lo = -7;
    const n = 350;
    let mass = 0;
    const at = [0.1, 0.4];
    let conv = 0;
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        const x = [lo + (i + 0.5) * h, lo + (j + 0.5) * h];
        const px = Math.exp(correlated.logDensity(x));
        mass += px * h * h;
        const r2 = (at[0]! - x[0]!) ** 2 + (at[1]! - x[1]!) ** 2;
        conv += px * Math.exp(-r2 / (2 * sigma * sigma)) / (2 * Math.PI * sigma * sigma) * h * h;
      }
    expect(mass).toBeCloseTo(1, 6);
    expect(Math.exp(q.logDensity(at))).toBeCloseTo(conv, 6);
    expect(correlated.smoothed(0).logDensity(at)).toBeCloseTo(correlated.logDensity(at), 12);
  });

  test('sampling reproduces the exact mean and covariance (and the exact moments match the components)', () => {
    const p = namedDensity('moons');
    const x = p.sample(200_000, new HostRng(11));
    const m = moments(x, 2);
    // standard error of the mean ~ std / sqrt(n) ~ 1.3 / 450 = 3e-3; allow 5 of them
    expectClose(m.mean, p.mean(), { atol: 0.015, rtol: 0, label: 'mean' });
    expectClose(m.cov, p.covariance(), { atol: 0.02, rtol: 0.01, label: 'covariance' });
    const g = new GaussianMixture(1, [{ weight: 1, mean: [-1], cov: [0.25] }, { weight: 1, mean: [1], cov: [0.25] }]);
    expect(g.covariance()[0]).toBeCloseTo(1.25, 12);
  });

  test('Fisher information: tr(Sigma^-1) for one Gaussian (quadrature in 2-D, Monte Carlo in 3-D)', () => {
    const g2 = namedDensity('gaussian', 2); // unit variances, correlation 0.5: tr(inv) = 2 / 0.75
    const f2 = fisherInformation(g2);
    expect(f2.method).toBe('quadrature');
    expect(f2.value).toBeCloseTo(2 / 0.75, 9);
    const f2s = fisherInformation(g2.smoothed(0.5)); // Sigma + 0.25 I: tr(inv) = 2 * 1.25 / (1.25^2 - 0.25)
    expect(f2s.value).toBeCloseTo((2 * 1.25) / (1.25 ** 2 - 0.25), 9);
    const g3 = namedDensity('gaussian', 3);
    const f3 = fisherInformation(g3, { samples: 100_000 });
    // inverse of the tridiagonal [[1,.5,0],[.5,1,.5],[0,.5,1]]: det 0.5, trace of adjugate diag 0.75+1+0.75
    expect(f3.method).toBe('monte-carlo');
    expect(Math.abs(f3.value - 2.5 / 0.5)).toBeLessThan(5 * f3.stderr);
    expect(ismConstant(g2, f2)).toBeCloseTo(1 / 0.75, 9);
    expect(dsmConstant(g2, 0.5, f2s)).toBeCloseTo(0.5 * f2s.value - 2 / (2 * 0.25), 12);
  });

  test('Fisher information of a mixture by quadrature equals the Monte Carlo estimate', () => {
    const p = namedDensity('rings');
    const quad = fisherInformation(p);
    // Monte Carlo by hand
    const x = p.sample(40_000, new HostRng(5));
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < 40_000; i++) {
      const g = p.score(x.subarray(2 * i, 2 * i + 2));
      const v = g[0]! ** 2 + g[1]! ** 2;
      s += v;
      s2 += v * v;
    }
    const mean = s / 40_000;
    const se = Math.sqrt((s2 / 40_000 - mean * mean) / 40_000);
    expect(Math.abs(quad.value - mean), `quadrature ${quad.value} vs MC ${mean} +- ${se}`).toBeLessThan(4 * se);
  });

  test('the GPU layouts: score pack (c_k, mu, P) and sampler pack (cumulative weight, mu, L)', () => {
    const s = componentStride(2);
    const pack = correlated.pack();
    expect(pack.length).toBe(2 * s);
    expect(pack[s + 1]).toBeCloseTo(-1, 6);
    // P = inverse of [[0.2, -0.05], [-0.05, 0.1]] = [[0.1, 0.05], [0.05, 0.2]] / 0.0175
    expect(pack[s + 3]).toBeCloseTo(0.1 / 0.0175, 3);
    expect(pack[s + 4]).toBeCloseTo(0.05 / 0.0175, 3);
    const sp = correlated.packSampler();
    expect(sp[0]).toBeCloseTo(0.25, 7);
    expect(sp[s]).toBe(1);
    expect(sp[3]).toBeCloseTo(1, 7); // L[0,0] of the first component
    const emp = packEmpirical([1, 2, 3, 4, 5, 6], 2);
    expect(Array.from(emp.filter((_, i) => i % s === 0))).toEqual([Math.fround(1 / 3), Math.fround(2 / 3), 1]);
  });

  test('user mixtures from JSON, and clear errors for bad ones', () => {
    const m = parseMixture('{"components": [{"weight": 2, "mean": [0, 1], "std": 0.3}, {"mean": [1, -1], "cov": [[0.5, 0.1], [0.1, 0.2]]}]}');
    expect(m.dim).toBe(2);
    expect(m.components[0]!.weight).toBeCloseTo(2 / 3, 12);
    expect(m.components[1]!.cov).toEqual([0.5, 0.1, 0.1, 0.2]);
    expect(() => parseMixture('{"components": [')).toThrow(/not valid JSON/);
    expect(() => parseMixture('{"comps": []}')).toThrow(/"components"/);
    expect(() => parseMixture('{"components": [{"mean": [0, 0]}, {"mean": [1]}]}')).toThrow(/component 1 needs "mean": 2/);
    expect(() => parseMixture('{"components": [{"mean": [0, 0], "cov": [[1, 2], [2, 1]]}]}')).toThrow(/not positive definite/);
    expect(() => parseMixture('{"components": [{"mean": [0, 0], "cov": [[1, 0.2], [0, 1]]}]}')).toThrow(/not symmetric/);
    expect(() => parseMixture('{"components": [{"mean": [0, 0], "std": -1}]}')).toThrow(ValueError);
    expect(() => parseMixture('{"components": [{"mean": [0, 0], "weight": 0}]}')).toThrow(/weight/);
    expect(() => namedDensity('banana')).toThrow(/Unknown density 'banana'/);
    expect(() => namedDensity('rings', 1)).toThrow(/dim >= 2/);
  });
});
