// x0hat error per t and per DCT frequency band (issue 17, diagnosis). For digits x0, at each t:
// x_t = C_t x0 + sigma_t eta (host, float64), x0hat = the checkpoint's EMA network (engine, GPU), and
// per radial DCT band the mean squared error ||X0hat - X0||^2 relative to the data's energy in the band;
// beside it the same for two references: the identity (x0hat = x_t, what phi = 0 gives) and the
// Gaussian-optimal linear denoiser per DCT coefficient (mean mu_k, variance v_k of the digits:
// X0hat = mu + d v / (d^2 v + sigma^2) (X_t - d mu)), the best a denoiser that ignores the digit
// shapes can do. The network should beat that bound wherever it has learned something.
// Also, per band, what one step of the momentum sampler (--sampler-steps N, default 50) does with that
// error: it adds (C_{t-dt} - rho C_t) x0hat, so the network's error enters as (d_{t-dt} - rho d_t) E
// while the step injects fresh noise of variance sigma_t^2 - sigma_{t-dt}^2 per coefficient. The ratio
// (error energy injected / noise energy injected) per band says whether a step's content is the
// network's error or the noise the chain is built from (>> 1: the chain carries the network's error).
//   node scripts/run-ts.mjs scripts/experiments/x0-error.ts --checkpoint X [--count 250] [--out file.json]
import { writeFileSync } from 'node:fs';
import { createNodeGpu, releaseNodeGpu } from '../../src/node/device.ts';
import { loadMnist } from '../../src/node/datasets.ts';
import { UNetDenoiser } from '../../src/sample/unet-denoiser.ts';
import { fillLevels } from '../../src/diffusion/schedule.ts';
import { LEVEL_STRIDE } from '../../src/diffusion/types.ts';
import { BAND_NAMES, bandOf, blurMultiplier, dct2, dctMatrix, gaussian, loadCheckpoint, parseArgs } from './lib.ts';

export async function main(argv: string[]): Promise<void> {
  const a = parseArgs(argv);
  const ck = loadCheckpoint(a.checkpoint!);
  const count = Number(a.count ?? 250);
  const ts = (a.ts ?? '0.02,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1').split(',').map(Number);
  const data = loadMnist();
  const n = data.size;
  const nn = n * n;
  // every (10000 / count)-th digit: all classes, fixed
  const stride = Math.floor(data.length / count);
  const x0 = new Float64Array(count * nn);
  for (let s = 0; s < count; s++) x0.set(data.get(s * stride + 7), s * nn);
  const D = dctMatrix(n);
  const bands = bandOf(n);
  const nb = BAND_NAMES.length;
  // digit statistics per DCT coefficient (all 10,000)
  const mu = new Float64Array(nn);
  const m2 = new Float64Array(nn);
  for (let i = 0; i < data.length; i++) {
    const X = dct2(data.get(i), n, D);
    for (let q = 0; q < nn; q++) {
      mu[q]! += X[q]!;
      m2[q]! += X[q]! * X[q]!;
    }
  }
  const v = new Float64Array(nn);
  for (let q = 0; q < nn; q++) {
    mu[q]! /= data.length;
    v[q] = m2[q]! / data.length - mu[q]! * mu[q]!;
  }
  const X0 = Array.from({ length: count }, (_, s) => dct2(x0.subarray(s * nn, (s + 1) * nn), n, D));
  const energy = new Float64Array(nb);
  for (const X of X0) for (let q = 0; q < nn; q++) energy[bands[q]!]! += X[q]! ** 2;

  const gpu = await createNodeGpu();
  const den = new UNetDenoiser(ck.options.model, ck.ema);
  const xt = gpu.tensor([count, 1, n, n], 'diag:xt');
  const levels = gpu.tensor([count, LEVEL_STRIDE], 'diag:levels');
  const x0hat = gpu.tensor([count, 1, n, n], 'diag:x0hat');
  const dispatches = await den.plan(gpu, xt, levels, x0hat);
  const rows: Record<string, unknown>[] = [];
  const gauss = gaussian(12345);
  console.log(`checkpoint ${a.checkpoint} step ${ck.step}; noise ${JSON.stringify(ck.options.noise)}; ${count} digits`);
  console.log(`relative x0hat error per band (||X0hat-X0||^2 / ||X0||^2 in the band): net | linear-optimal | identity`);
  console.log(`   t  sigmaB  sigma  ${BAND_NAMES.map((b) => b.padStart(20)).join('')}   total(net/lin)`);
  for (const t of ts) {
    const sigmaB = ck.corruption.level(t);
    const sigma = ck.noise.at(t);
    const d = blurMultiplier(n, sigmaB);
    const host = new Float32Array(count * nn);
    const XT: Float64Array[] = [];
    for (let s = 0; s < count; s++) {
      const Y = X0[s]!.map((c, q) => c * d[q]!);
      const y = dct2(Y, n, D, true);
      for (let p = 0; p < nn; p++) y[p]! += sigma * gauss();
      host.set(Float32Array.from(y), s * nn);
      XT.push(dct2(y, n, D));
    }
    gpu.write(xt, host);
    gpu.write(levels, fillLevels(ck.corruption, ck.noise, Array(count).fill(t)));
    gpu.recorder('diag').run(dispatches).submit();
    const out = await gpu.read(x0hat);
    const errNet = new Float64Array(nb);
    const errLin = new Float64Array(nb);
    const errId = new Float64Array(nb);
    const injNet = new Float64Array(nb);
    const injLin = new Float64Array(nb);
    const dtStep = 1 / Number(a['sampler-steps'] ?? 50);
    const tn = Math.max(0, t - dtStep);
    const dn = blurMultiplier(n, ck.corruption.level(tn));
    const sn = ck.noise.at(tn);
    const rho = (sn * sn) / (sigma * sigma);
    const qNoise = sigma * sigma - sn * sn;
    const bandSize = new Float64Array(nb);
    for (let q = 0; q < nn; q++) bandSize[bands[q]!]!++;
    for (let s = 0; s < count; s++) {
      const E = dct2(out.subarray(s * nn, (s + 1) * nn), n, D);
      const X = X0[s]!;
      const Xt = XT[s]!;
      for (let q = 0; q < nn; q++) {
        const lin = mu[q]! + ((d[q]! * v[q]!) / (d[q]! ** 2 * v[q]! + sigma * sigma)) * (Xt[q]! - d[q]! * mu[q]!);
        errNet[bands[q]!]! += (E[q]! - X[q]!) ** 2;
        errLin[bands[q]!]! += (lin - X[q]!) ** 2;
        const g = (dn[q]! - rho * d[q]!) ** 2;
        injNet[bands[q]!]! += g * (E[q]! - X[q]!) ** 2;
        injLin[bands[q]!]! += g * (lin - X[q]!) ** 2;
        errId[bands[q]!]! += (Xt[q]! - X[q]!) ** 2;
      }
    }
    const rel = (e: Float64Array) => Array.from(e, (x, i) => x / energy[i]!);
    const tot = (e: Float64Array) => e.reduce((p, c) => p + c, 0) / energy.reduce((p, c) => p + c, 0);
    const inj = (e: Float64Array) => Array.from(e, (x, i) => x / (count * bandSize[i]! * qNoise));
    const row = { t, sigmaB, sigma, net: rel(errNet), linear: rel(errLin), identity: rel(errId), totalNet: tot(errNet), totalLinear: tot(errLin), mseNet: errNet.reduce((p, c) => p + c, 0) / (count * nn), injectedNet: inj(injNet), injectedLinear: inj(injLin) };
    rows.push(row);
    const cell = (i: number) => `${row.net[i]!.toFixed(3)}|${row.linear[i]!.toFixed(3)}|${Math.min(row.identity[i]!, 99).toFixed(2)}`.padStart(20);
    console.log(`${t.toFixed(2).padStart(5)} ${sigmaB.toFixed(3).padStart(7)} ${sigma.toFixed(3).padStart(6)}  ${BAND_NAMES.map((_, i) => cell(i)).join('')}   ${row.totalNet.toFixed(3)}/${row.totalLinear.toFixed(3)}`);
    console.log(`      one momentum step: injected error / injected noise per band (net|linear) ${BAND_NAMES.map((_, i) => `${row.injectedNet[i]!.toPrecision(2)}|${row.injectedLinear[i]!.toPrecision(2)}`.padStart(20)).join('')}`);
  }
  console.log(`band energy share of the digits: ${BAND_NAMES.map((b, i) => `${b} ${(energy[i]! / energy.reduce((p, c) => p + c, 0)).toFixed(3)}`).join(', ')}`);
  if (a.out) writeFileSync(a.out, JSON.stringify({ checkpoint: a.checkpoint, step: ck.step, count, bands: BAND_NAMES, energy: Array.from(energy, (e) => e / count), rows }, null, 1));
  den.destroy();
  for (const tt of [xt, levels, x0hat]) gpu.release(tt);
  gpu.destroy();
  releaseNodeGpu();
}
