// Langevin dynamics on the GPU (shaders/lab_langevin.wgsl) against exact answers:
//   - plain Langevin with the exact score of a Gaussian N(0, Sigma) is the unadjusted Langevin
//     algorithm, whose stationary covariance is known in closed form: along each eigenvector of
//     Sigma (eigenvalue l) the variance is l / (1 - eps / (2 l)), not l. With eps = 0.05 this
//     differs from Sigma by 2-5%, so the test also pins the noise scale sqrt(2 eps).
//   - annealed Langevin with the exact scores of q_sigma_i reproduces a multimodal mixture's mean
//     and covariance (which plain Langevin from a box, stuck in modes, need not).
//   - a float64 reference of the first steps (same Philox noise) matches the GPU.
import { describe, expect, test } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { expectClose } from '../helpers/expect-close.ts';
import { LangevinSampler } from '../../src/lab/langevin.ts';
import { namedDensity } from '../../src/lab/densities.ts';
import { geometricSigmas } from '../../src/lab/objectives.ts';
import { ScoreModel, mlpSpec } from '../../src/lab/score-model.ts';
import { ValueError } from '../../src/gpu/errors.ts';
import { boxMuller, philox4x32_10 } from '../reference/rng.ts';

const ctx = useGpu();

function moments(x: Float32Array, d: number) {
  const n = x.length / d;
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += x[i * d + j]! / n;
  const cov = new Float64Array(d * d);
  for (let i = 0; i < n; i++) for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) cov[a * d + b] += ((x[i * d + a]! - mean[a]!) * (x[i * d + b]! - mean[b]!)) / n;
  return { mean, cov };
}

describe('Langevin dynamics on the GPU', () => {
  test('the first steps match a float64 reference driven by the same Philox noise', async () => {
    const { gpu } = ctx;
    const p = namedDensity('moons');
    const n = 64;
    const eps = 0.01;
    const init = Float32Array.from({ length: 2 * n }, (_, i) => Math.sin(i * 1.7) * 2);
    const s = await LangevinSampler.create(gpu, { density: p }, { chains: n, steps: 3, eps, seed: 11, init });
    const got = await s.run();
    const x = Float64Array.from(init);
    for (let k = 0; k < 3; k++)
      for (let b = 0; b < n; b++) {
        const g = p.score(x.subarray(2 * b, 2 * b + 2));
        const w = philox4x32_10([b, 5, 0, 0], [11, k]);
        const z = boxMuller(w[0]!, w[1]!);
        for (let j = 0; j < 2; j++) x[2 * b + j] += eps * g[j]! + Math.sqrt(2 * eps) * z[j]!;
      }
    expectClose(got, x, { atol: 2e-4, rtol: 1e-4 });
    s.destroy();
  });

  test('plain Langevin on a Gaussian reaches the exact ULA stationary covariance', async () => {
    const { gpu } = ctx;
    const p = namedDensity('gaussian'); // unit variances, correlation 0.5: eigenvalues 1.5 and 0.5
    const eps = 0.05;
    const n = 8192;
    const s = await LangevinSampler.create(gpu, { density: p }, { chains: n, steps: 400, eps, seed: 3 });
    const m = moments(await s.run(), 2);
    const ula = (l: number) => l / (1 - eps / (2 * l));
    // back to the original basis: eigenvectors (1, 1)/sqrt2 (l = 1.5) and (1, -1)/sqrt2 (l = 0.5)
    const [a, b] = [ula(1.5), ula(0.5)];
    const expected = [(a + b) / 2, (a - b) / 2, (a - b) / 2, (a + b) / 2];
    // standard errors: mean ~ sqrt(1.6 / n) = 0.014; variance ~ 1.6 sqrt(2 / n) = 0.025
    expectClose(m.mean, [0, 0], { atol: 0.05, rtol: 0, label: 'mean' });
    expectClose(m.cov, expected, { atol: 0.06, rtol: 0, label: 'covariance' });
    // and it is the ULA covariance, not Sigma: the 0.5-direction variance is 0.526 (5% above)
    const minor = (m.cov[0]! + m.cov[3]!) / 2 - m.cov[1]!;
    expect(Math.abs(minor - b), `minor-axis variance ${minor} vs ULA ${b}`).toBeLessThan(0.018);
    expect(Math.abs(minor - 0.5)).toBeGreaterThan(0.008);
    s.destroy();
  });

  test('annealed Langevin with the exact smoothed scores reproduces the mixture moments', async () => {
    const { gpu } = ctx;
    for (const name of ['moons', 'grid'] as const) {
      const p = namedDensity(name);
      const n = 4096;
      const s = await LangevinSampler.create(gpu, { density: p }, { chains: n, steps: 100, eps: 2e-5, sigmas: geometricSigmas(3, 0.01, 10), seed: 5 });
      const m = moments(await s.run(), 2);
      const mu = p.mean();
      const cov = p.covariance();
      console.log(`${name}: mean [${[...m.mean].map((v) => v.toFixed(3))}] vs [${[...mu].map((v) => v.toFixed(3))}], cov [${[...m.cov].map((v) => v.toFixed(3))}] vs [${[...cov].map((v) => v.toFixed(3))}]`);
      // mean SE ~ sqrt(2 / 4096) = 0.022, plus mode-weight errors of the annealing; cov SE ~ 0.04
      expectClose(m.mean, mu, { atol: 0.08, rtol: 0, label: `${name} mean` });
      expectClose(m.cov, cov, { atol: 0.1, rtol: 0.05, label: `${name} covariance` });
      s.destroy();
    }
  });

  test('a model drives the chain; settings it cannot take are errors', async () => {
    const { gpu } = ctx;
    const plain = new ScoreModel(gpu, mlpSpec({ dim: 2, width: 8, depth: 1 }));
    const cond = new ScoreModel(gpu, mlpSpec({ dim: 2, width: 8, depth: 1, conditional: true }));
    const s = await LangevinSampler.create(gpu, { model: cond }, { chains: 16, steps: 5, eps: 1e-3, sigmas: [1, 0.5, 0.1], seed: 1 });
    const x = await s.run();
    expect(x.length).toBe(32);
    expect(x.every(Number.isFinite)).toBe(true);
    s.destroy();
    await expect(LangevinSampler.create(gpu, { model: cond }, { chains: 4, steps: 1, eps: 1e-3 })).rejects.toThrow(/annealed/);
    await expect(LangevinSampler.create(gpu, { model: plain }, { chains: 4, steps: 1, eps: 1e-3, sigmas: [1, 0.1] })).rejects.toThrow(ValueError);
    await expect(LangevinSampler.create(gpu, { model: plain }, { chains: 0, steps: 1, eps: 1e-3 })).rejects.toThrow(/chains/);
    await expect(LangevinSampler.create(gpu, { model: plain }, { chains: 4, steps: 1, eps: -1 })).rejects.toThrow(/eps/);
    plain.destroy();
    cond.destroy();
  });
});
