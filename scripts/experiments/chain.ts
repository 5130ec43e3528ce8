// The sampler chain seen from inside (issue 17, diagnosis): for `count` chains of a checkpoint's EMA
// network (engine, GPU), at every step i the residual r_i = x_{t_i} - C_{t_i} x0hat_i. If the network
// were exact, r would be the noise sigma_{t_i} eta: its per-pixel variance / sigma_{t_i}^2 is 1 and its
// DCT spectrum is flat. Excess in a band is error the chain carries (the momentum sampler keeps a
// fraction rho of it every step). Also the final samples' band energy and pixel statistics against the
// digits' (ink fraction, grey fraction, total variation: fragmented strokes show as more grey and TV).
//   node scripts/run-ts.mjs scripts/experiments/chain.ts --checkpoint X [--sampler momentum] [--steps 50] [--count 64] [--seed 0]
import { writeFileSync } from 'node:fs';
import { createNodeGpu, releaseNodeGpu } from '../../src/node/device.ts';
import { loadMnist } from '../../src/node/datasets.ts';
import { SampleRun } from '../../src/sample/sample-run.ts';
import type { SamplerKind } from '../../src/diffusion/samplers.ts';
import { BAND_NAMES, bandEnergy, bandOf, blurMultiplier, dct2, dctMatrix, loadCheckpoint, parseArgs } from './lib.ts';

/** Pixel statistics of [count, n*n] images: ink (> 0.5), grey (0.15..0.85), mean TV per image, mean. */
export function pixelStats(images: ArrayLike<number>, count: number, n: number) {
  let ink = 0;
  let grey = 0;
  let tv = 0;
  let sum = 0;
  let out = 0;
  for (let s = 0; s < count; s++) {
    const o = s * n * n;
    for (let y = 0; y < n; y++)
      for (let x = 0; x < n; x++) {
        const v = images[o + y * n + x]!;
        sum += v;
        if (v > 0.5) ink++;
        if (v > 0.15 && v < 0.85) grey++;
        if (v < -0.05 || v > 1.05) out++;
        if (x + 1 < n) tv += Math.abs(images[o + y * n + x + 1]! - v);
        if (y + 1 < n) tv += Math.abs(images[o + (y + 1) * n + x]! - v);
      }
  }
  const px = count * n * n;
  return { ink: ink / px, grey: grey / px, outOfRange: out / px, tvPerImage: tv / count, mean: sum / px };
}

export async function main(argv: string[]): Promise<void> {
  const a = parseArgs(argv);
  const ck = loadCheckpoint(a.checkpoint!);
  const count = Number(a.count ?? 64);
  const steps = Number(a.steps ?? 50);
  const sampler = (a.sampler ?? 'momentum') as SamplerKind;
  const seed = Number(a.seed ?? 0);
  const data = loadMnist();
  const n = data.size;
  const nn = n * n;
  const D = dctMatrix(n);
  const bands = bandOf(n);
  const nb = BAND_NAMES.length;
  const ref = new Float32Array(1000 * nn);
  for (let s = 0; s < 1000; s++) ref.set(data.get(s * 10 + 3), s * nn);
  const refEnergy = bandEnergy(ref, 1000, n);
  const bandSize = new Float64Array(nb);
  for (let q = 0; q < nn; q++) bandSize[bands[q]!]!++;

  const gpu = await createNodeGpu();
  const run = await SampleRun.create(gpu, { config: ck.options.model, weights: ck.ema, corruption: ck.corruption, noise: ck.noise, priorBank: ck.priorBank, count, steps, sampler });
  const rows: Record<string, unknown>[] = [];
  let prevXt: Float32Array | null = null;
  console.log(`checkpoint ${a.checkpoint} step ${ck.step}, ${sampler} ${steps} steps, ${count} chains; noise ${JSON.stringify(ck.options.noise)}`);
  console.log(`residual r = x_t - C_t x0hat: per-pixel var / sigma_t^2 (1 = pure noise) per band; x0hat band energy / digits'`);
  const t0 = performance.now();
  const result = await run.run(seed, undefined, {
    every: 1,
    onIntermediate: ({ step, t, xt, x0hat }) => {
      if (prevXt) {
        const sigma = ck.noise.at(t);
        const d = blurMultiplier(n, ck.corruption.level(t));
        const res = new Float64Array(nb);
        const total = { r: 0 };
        for (let s = 0; s < count; s++) {
          const Xt = dct2(prevXt.subarray(s * nn, (s + 1) * nn), n, D);
          const H = dct2(x0hat.subarray(s * nn, (s + 1) * nn), n, D);
          for (let q = 0; q < nn; q++) {
            const r = Xt[q]! - d[q]! * H[q]!;
            res[bands[q]!]! += r * r;
            total.r += r * r;
          }
        }
        const resRel = Array.from(res, (e, i) => e / (count * bandSize[i]! * sigma * sigma));
        const x0e = bandEnergy(x0hat, count, n);
        const row = { step, t, sigma, sigmaB: ck.corruption.level(t), residual: total.r / (count * nn * sigma * sigma), residualBands: resRel, x0hatEnergy: Array.from(x0e, (e, i) => e / refEnergy[i]!) };
        rows.push(row);
        if (step % Math.max(1, Math.floor(steps / 10)) === 0 || step === steps)
          console.log(
            `step ${String(step).padStart(4)} t ${t.toFixed(3)} sigma ${sigma.toFixed(4)} sigmaB ${row.sigmaB.toFixed(2).padStart(6)}  r/sigma^2 ${row.residual.toFixed(2).padStart(7)}  bands ${resRel.map((x) => x.toFixed(2).padStart(7)).join('')}  x0hat E/E_data ${row.x0hatEnergy.map((x) => x.toFixed(2).padStart(5)).join('')}`,
          );
      }
      prevXt = xt;
    },
  });
  const seconds = (performance.now() - t0) / 1000;
  const fin = bandEnergy(result.images, count, n);
  const stats = pixelStats(result.images, count, n);
  const refStats = pixelStats(ref, 1000, n);
  console.log(`final samples band energy / digits': ${BAND_NAMES.map((b, i) => `${b} ${(fin[i]! / refEnergy[i]!).toFixed(2)}`).join(', ')}`);
  console.log(`pixels: samples ${JSON.stringify(stats)}\n        digits  ${JSON.stringify(refStats)}`);
  console.log(`sampling took ${seconds.toFixed(1)} s (with per-step readback)`);
  if (a.out) writeFileSync(a.out, JSON.stringify({ checkpoint: a.checkpoint, step: ck.step, sampler, steps, count, seed, rows, finalBands: Array.from(fin, (e, i) => e / refEnergy[i]!), stats, refStats }, null, 1));
  run.destroy();
  gpu.destroy();
  releaseNodeGpu();
}
