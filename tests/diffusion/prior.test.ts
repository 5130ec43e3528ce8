import { describe, expect, test } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { expectClose } from '../helpers/expect-close.ts';
import { randn } from '../helpers/random.ts';
import { dct2, dTerm } from '../reference/blur.ts';
import { BlurredImagePrior, GaussianPrior, choleskyLower } from '../../src/diffusion/prior.ts';
import { RngState } from '../../src/diffusion/rng.ts';
import { dctMatrix } from '../../src/diffusion/dct.ts';
import { DctBlur } from '../../src/diffusion/blur.ts';
import { Schedule } from '../../src/diffusion/schedule.ts';

const ctx = useGpu();
const [C, H, W] = [3, 8, 8];
const sigmaB1 = 0.36 * 8;

/** Images with colour-correlated low frequencies and a non-zero mean: x = 0.5 + mix(z) at (k, l) < 3, + small white noise. */
function dataset(n: number, seed: number): Float64Array {
  const z = randn(n * 3 * 9, seed);
  const e = randn(n * C * H * W, seed + 1, 0.02);
  const mix = [[1, 0, 0], [0.8, 0.4, 0], [0.3, 0.5, 0.6]];
  const x = new Float64Array(n * C * H * W);
  for (let b = 0; b < n; b++)
    for (let c = 0; c < C; c++) {
      const X = new Float64Array(H * W);
      for (let f = 0; f < 9; f++) {
        const k = Math.floor(f / 3);
        const l = f % 3;
        let v = 0;
        for (let j = 0; j < 3; j++) v += mix[c]![j]! * z[(b * 3 + j) * 9 + f]!;
        X[k * W + l] = (0.4 * v) / (1 + k + l);
      }
      X[0] += 4; // mean 0.5 per pixel
      const img = dct2(X, H, W, true);
      for (let i = 0; i < H * W; i++) x[(b * C + c) * H * W + i] = img[i]! + e[(b * C + c) * H * W + i]!;
    }
  return x;
}

const D = dctMatrix(8);
/** DCT-II of the 8x8 slice at `off` with a precomputed float64 matrix (the test's hot loop). */
function fastDct(x: ArrayLike<number>, off: number): Float64Array {
  const tmp = new Float64Array(64);
  const out = new Float64Array(64);
  for (let i = 0; i < 8; i++) for (let l = 0; l < 8; l++) { let s = 0; for (let j = 0; j < 8; j++) s += x[off + i * 8 + j]! * D[l * 8 + j]!; tmp[i * 8 + l] = s; }
  for (let k = 0; k < 8; k++) for (let l = 0; l < 8; l++) { let s = 0; for (let i = 0; i < 8; i++) s += D[k * 8 + i]! * tmp[i * 8 + l]!; out[k * 8 + l] = s; }
  return out;
}

/** Kept DCT coefficients d_1 .* DCT(x) of each image, [n, m], in float64. */
function keptCoefficients(x: ArrayLike<number>, n: number, index: number[], scale = true): Float64Array {
  const m = index.length;
  const out = new Float64Array(n * m);
  for (let b = 0; b < n; b++) {
    const coefs: Float64Array[] = [];
    for (let c = 0; c < C; c++) coefs.push(fastDct(x, (b * C + c) * H * W));
    index.forEach((q, j) => {
      const c = Math.floor(q / (H * W));
      const kl = q % (H * W);
      out[b * m + j] = coefs[c]![kl]! * (scale ? dTerm(Math.floor(kl / W), kl % W, H, W, sigmaB1) : 1);
    });
  }
  return out;
}

function meanCov(y: Float64Array, n: number, m: number) {
  const mean = new Float64Array(m);
  const cov = new Float64Array(m * m);
  for (let b = 0; b < n; b++) for (let i = 0; i < m; i++) mean[i]! += y[b * m + i]! / n;
  for (let b = 0; b < n; b++) for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) cov[i * m + j]! += ((y[b * m + i]! - mean[i]!) * (y[b * m + j]! - mean[j]!)) / n;
  return { mean, cov };
}

describe('Gaussian prior p_1 on the surviving DCT coefficients of C_1 x0', () => {
  const n = 600;
  const data = dataset(n, 3);

  test('kept coefficients: d_1 > 1e-3, about a dozen per channel', () => {
    const idx = GaussianPrior.keptIndex(C, H, W, sigmaB1);
    expect(idx.length).toBe(3 * 13);
    for (const q of idx) expect(dTerm(Math.floor((q % 64) / 8), q % 8, H, W, sigmaB1)).toBeGreaterThan(1e-3);
  });

  test('GPU fit (two batches) matches a float64 fit; samples have the fitted covariance', async () => {
    const { gpu } = ctx;
    const batches = [gpu.upload(Float32Array.from(data.subarray(0, 256 * 192)), [256, C, H, W]), gpu.upload(Float32Array.from(data.subarray(256 * 192)), [n - 256, C, H, W])];
    const sigma1 = 0.1;
    const prior = await GaussianPrior.fit(gpu, batches, { sigmaB1, sigma1 });
    const { index, mean, covariance } = prior.toJSON();
    const m = index.length;
    const ref = meanCov(keptCoefficients(data, n, index), n, m);
    expectClose(mean, ref.mean, { atol: 1e-5, rtol: 1e-4, label: 'fitted mean' });
    expectClose(covariance, ref.cov, { atol: 2e-6, rtol: 1e-3, label: 'fitted covariance' });

    // Draws: kept coefficients (not scaled by d_1: a draw IS C_1 x0 + noise) ~ N(mean, cov + sigma1^2 I), the rest ~ N(0, sigma1^2).
    const B = 4096;
    const out = gpu.tensor([B, C, H, W]);
    const rng = new RngState(gpu, 77, 0);
    gpu.recorder().run(await prior.plan(gpu, out, rng)).submit();
    const x = await gpu.read(out);
    const drawn = meanCov(keptCoefficients(x, B, index, false), B, m);
    const expectedCov = Float64Array.from(covariance, (v, i) => v + (i % (m + 1) === 0 ? sigma1 ** 2 : 0));
    let worstCov = 0;
    let worstMean = 0;
    for (let i = 0; i < m; i++) {
      worstMean = Math.max(worstMean, Math.abs(drawn.mean[i]! - mean[i]!) / Math.sqrt(expectedCov[i * m + i]!));
      for (let j = 0; j < m; j++)
        worstCov = Math.max(worstCov, Math.abs(drawn.cov[i * m + j]! - expectedCov[i * m + j]!) / Math.sqrt(expectedCov[i * m + i]! * expectedCov[j * m + j]!));
    }
    // sampling std of a normalised covariance entry <= sqrt(2 / B) = 0.022; of a normalised mean 1/sqrt(B) = 0.016
    expect(worstCov).toBeLessThan(0.1);
    expect(worstMean).toBeLessThan(0.08);
    // a discarded coefficient carries only the noise: variance sigma1^2
    const other = keptCoefficients(x, B, [5 * 8 + 5], false);
    const v = meanCov(other, B, 1).cov[0]!;
    expect(Math.abs(v / sigma1 ** 2 - 1)).toBeLessThan(0.12);
    // the same RNG state gives the same draw
    gpu.recorder().run(await prior.plan(gpu, out, rng)).submit();
    expect(Array.from(await gpu.read(out))).toEqual(Array.from(x));
  });

  test('Cholesky factor reproduces the matrix', () => {
    const a = Float64Array.from([4, 2, 0.6, 2, 5, 1.5, 0.6, 1.5, 3]);
    const l = choleskyLower(a, 3);
    const back = Array.from({ length: 9 }, (_, q) => {
      const [i, j] = [Math.floor(q / 3), q % 3];
      let s = 0;
      for (let k = 0; k < 3; k++) s += l[i * 3 + k]! * l[j * 3 + k]!;
      return s;
    });
    expectClose(back, a, { atol: 1e-9 });
  });

  test('blurred-image option: C_1 x0 + sigma_1 eta for data set images', async () => {
    const { gpu } = ctx;
    const images = gpu.upload(Float32Array.from(data.subarray(0, 4 * 192)), [4, C, H, W]);
    const blur = new DctBlur({ height: 8, schedule: Schedule.geometric(0.01, sigmaB1) });
    const prior = new BlurredImagePrior(images, blur, 0);
    const out = gpu.tensor([6, C, H, W]);
    gpu.recorder().run(await prior.plan(gpu, out, new RngState(gpu, 5, 0))).submit();
    const x = await gpu.read(out);
    // every draw is the blur of one of the 4 images (sigma_1 = 0 here)
    const blurred = [0, 1, 2, 3].map((i) => keptCoefficients(data.subarray(i * 192, (i + 1) * 192), 1, [0, 1, 8, 64, 65], true));
    for (let b = 0; b < 6; b++) {
      const got = keptCoefficients(x.subarray(b * 192, (b + 1) * 192), 1, [0, 1, 8, 64, 65], false);
      const err = Math.min(...blurred.map((r) => Math.max(...r.map((v, j) => Math.abs(v - got[j]!)))));
      expect(err, `draw ${b}`).toBeLessThan(1e-4);
    }
  });
});
