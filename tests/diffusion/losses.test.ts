// Losses and forward corruption: float64 references checked by finite differences, the GPU against
// the references (loss, per-sample values, gradient), for the DCT blur (spectral and generic paths),
// the soft mask, identity, the soft loss with an x0 weight, and the DSM and x0 objectives.
import { describe, expect, test } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { expectClose } from '../helpers/expect-close.ts';
import { checkGradients } from '../helpers/gradcheck.ts';
import { randn, f32 } from '../helpers/random.ts';
import { DctBlur } from '../../src/diffusion/blur.ts';
import { SoftMask } from '../../src/diffusion/mask.ts';
import { IdentityCorruption } from '../../src/diffusion/identity.ts';
import { coldX0Loss, corruptBatch, dsmLoss, planLoss, softScoreLoss, type LossTensors } from '../../src/diffusion/losses.ts';
import { ShapeError, ValueError } from '../../src/gpu/errors.ts';
import { blurRef, dctBatchRef, dTerm, levelsOf, type Dims } from '../reference/blur.ts';
import { maskRef } from '../reference/mask.ts';
import { corruptRef, dsmLossRef, softLossRef, type Op } from '../reference/losses.ts';
import type { Corruption } from '../../src/diffusion/types.ts';

const ctx = useGpu();
const fr = (v: number[]) => v.map(Math.fround);
const dims: Dims = [3, 2, 8, 8];
const odd: Dims = [2, 3, 7, 5];
const numel = (d: Dims) => d.reduce((a, b) => a * b);

const blurs = fr([0.6, 2.0, 5.0]);
const sigmas = fr([0.02, 0.05, 0.1]);
const weights = fr([1, 0.5, 2]);
const blurOp = (d: Dims, s: number[]): Op => (x) => blurRef(x, d, s);
const maskOp = (d: Dims, c: number[]): Op => (x) => maskRef(x, d, 'radial', 0.2, c);
const id: Op = (x) => x.slice();

function inputs(d: Dims, seed: number) {
  const n = numel(d);
  return { phi: randn(n, seed, 0.3), xt: randn(n, seed + 1), x0: randn(n, seed + 2), z: randn(n, seed + 3) };
}

async function gpuLoss(d: Dims, plan: (t: LossTensors & { noise: import('../../src/gpu/tensor.ts').Tensor }) => Promise<import('../../src/gpu/kernel.ts').Dispatch[]>, seed: number, levels: Float32Array) {
  const { gpu } = ctx;
  const v = inputs(d, seed);
  const t = {
    phi: gpu.upload(f32(v.phi), d),
    xt: gpu.upload(f32(v.xt), d),
    x0: gpu.upload(f32(v.x0), d),
    noise: gpu.upload(f32(v.z), d),
    levels: gpu.upload(levels, [d[0], 4]),
    grad: gpu.tensor(d),
    perSample: gpu.tensor([d[0]]),
    loss: gpu.tensor([1]),
  };
  gpu.recorder().run(await plan(t)).submit();
  return { v, grad: await gpu.read(t.grad), perSample: await gpu.read(t.perSample), loss: (await gpu.read(t.loss))[0]! };
}

function expectLoss(got: { grad: Float32Array; perSample: Float32Array; loss: number }, ref: { grad: Float64Array; perSample: Float64Array; loss: number }, label: string) {
  expectClose([got.loss], [ref.loss], { atol: 0, rtol: 2e-5, label: `${label} loss` });
  expectClose(got.perSample, ref.perSample, { atol: 0, rtol: 2e-5, label: `${label} per-sample` });
  const gmax = Math.max(...ref.grad.map(Math.abs));
  expectClose(got.grad, ref.grad, { atol: 1e-4 * gmax, rtol: 1e-4, label: `${label} grad` });
}

describe('reference losses match finite differences (float64)', () => {
  const d: Dims = [2, 1, 5, 4];
  const v = inputs(d, 40);
  const s = [0.7, 1.9];
  test('soft loss with blur and with mask', () => {
    for (const [op, adj] of [[blurOp(d, s), blurOp(d, s)], [maskOp(d, [0.3, 0.6]), maskOp(d, [0.3, 0.6])]] as const)
      checkGradients(([phi]) => Float64Array.of(softLossRef(phi!, v.xt, v.x0, 2, [1, 0.5], op, adj).loss), ([phi], g) => [softLossRef(phi!, v.xt, v.x0, 2, [1, 0.5], op, adj).grad.map((x) => x * g[0]!)], [v.phi.slice()], { names: ['phi'] });
  });
  test('soft loss with an x0 weight, with blur and with mask', () => {
    for (const [op, adj] of [[blurOp(d, s), blurOp(d, s)], [maskOp(d, [0.3, 0.6]), maskOp(d, [0.3, 0.6])]] as const) {
      const f = (phi: Float64Array) => softLossRef(phi, v.xt, v.x0, 2, [1, 0.5], op, adj, 0.3);
      checkGradients(([phi]) => Float64Array.of(f(phi!).loss), ([phi], g) => [f(phi!).grad.map((x) => x * g[0]!)], [v.phi.slice()], { names: ['phi'] });
    }
    // and lambda adds exactly lambda times the x0 loss
    const [mixed, soft, x0] = [softLossRef(v.phi, v.xt, v.x0, 2, [1, 0.5], blurOp(d, s), blurOp(d, s), 0.3), softLossRef(v.phi, v.xt, v.x0, 2, [1, 0.5], blurOp(d, s), blurOp(d, s)), softLossRef(v.phi, v.xt, v.x0, 2, [1, 0.5], id, id)];
    expect(Math.abs(mixed.loss - soft.loss - 0.3 * x0.loss)).toBeLessThan(1e-12 * mixed.loss);
  });
  test('DSM loss with blur', () => {
    const f = (phi: Float64Array) => dsmLossRef(phi, v.xt, v.z, 2, [0.05, 0.2], [1, 3], blurOp(d, s), blurOp(d, s));
    checkGradients(([phi]) => Float64Array.of(f(phi!).loss), ([phi], g) => [f(phi!).grad.map((x) => x * g[0]!)], [v.phi.slice()], { names: ['phi'], atol: 1e-6 });
  });
});

describe('soft score matching on the GPU', () => {
  test.each([
    ['8x8 spectral', dims, false],
    ['8x8 generic', dims, true],
    ['7x5 spectral', odd, false],
  ] as const)('DCT blur %s', async (label, d, generic) => {
    const b = d[0];
    const blur = new DctBlur({ height: d[2], width: d[3] });
    const got = await gpuLoss(d, (t) => softScoreLoss(ctx.gpu, blur, t, { generic }), 1, levelsOf(blurs.slice(0, b), sigmas.slice(0, b), weights.slice(0, b)));
    const op = blurOp(d, blurs.slice(0, b));
    expectLoss(got, softLossRef(got.v.phi, got.v.xt, got.v.x0, b, weights.slice(0, b), op, op), label);
  });

  test('soft mask (generic path) and identity (x0 path)', async () => {
    const cs = fr([0.1, 0.5, 0.8]);
    const mask = new SoftMask({ width: 0.2 });
    const got = await gpuLoss(dims, (t) => softScoreLoss(ctx.gpu, mask, t), 2, levelsOf(cs, sigmas, weights));
    expectLoss(got, softLossRef(got.v.phi, got.v.xt, got.v.x0, 3, weights, maskOp(dims, cs), maskOp(dims, cs)), 'mask');
    const idl = await gpuLoss(dims, (t) => softScoreLoss(ctx.gpu, new IdentityCorruption(), t), 3, levelsOf(cs, sigmas, weights));
    expectLoss(idl, softLossRef(idl.v.phi, idl.v.xt, idl.v.x0, 3, weights, id, id), 'identity');
    const idg = await gpuLoss(dims, (t) => softScoreLoss(ctx.gpu, new IdentityCorruption(), t, { generic: true }), 3, levelsOf(cs, sigmas, weights));
    expectLoss(idg, softLossRef(idg.v.phi, idg.v.xt, idg.v.x0, 3, weights, id, id), 'identity generic');
  });

  test.each([
    ['DCT blur, spectral path', 'blur', false],
    ['DCT blur, generic path', 'blur', true],
    ['soft mask (generic path)', 'mask', false],
    ['identity (x0 path)', 'identity', false],
    ['identity, generic path', 'identity', true],
  ] as const)('with an x0 weight (lambda 0.25): %s', async (label, kind, generic) => {
    const lambda = 0.25;
    const cs = kind === 'mask' ? fr([0.1, 0.5, 0.8]) : blurs;
    const corruption: Corruption = kind === 'blur' ? new DctBlur({ height: 8 }) : kind === 'mask' ? new SoftMask({ width: 0.2 }) : new IdentityCorruption();
    const op = kind === 'blur' ? blurOp(dims, blurs) : kind === 'mask' ? maskOp(dims, cs) : id;
    const got = await gpuLoss(dims, (t) => softScoreLoss(ctx.gpu, corruption, t, { generic, x0Weight: lambda }), 11, levelsOf(cs, sigmas, weights));
    const ref = softLossRef(got.v.phi, got.v.xt, got.v.x0, 3, weights, op, op, lambda);
    expectLoss(got, ref, label);
    // the x0 term is really there: lambda = 0 is a different answer
    const plain = softLossRef(got.v.phi, got.v.xt, got.v.x0, 3, weights, op, op);
    expect(Math.abs(got.loss - plain.loss)).toBeGreaterThan(0.05 * plain.loss);
  });

  test('an x0 weight is refused outside [0, 1000] and with the x0 and DSM losses', async () => {
    const { gpu } = ctx;
    const t = { phi: gpu.tensor(dims), xt: gpu.tensor(dims), x0: gpu.tensor(dims), noise: gpu.tensor(dims), levels: gpu.tensor([3, 4]), grad: gpu.tensor(dims), perSample: gpu.tensor([3]), loss: gpu.tensor([1]) };
    const blur = new DctBlur({ height: 8 });
    for (const bad of [-0.1, Number.NaN, Infinity, 1001]) await expect(softScoreLoss(gpu, blur, t, { x0Weight: bad })).rejects.toThrow(/x0Weight/);
    for (const name of ['x0', 'dsm'] as const) await expect(planLoss(gpu, name, blur, t, { x0Weight: 0.1 })).rejects.toThrow(/soft loss only/);
    await expect(planLoss(gpu, 'x0', blur, t, { x0Weight: 0 })).resolves.toHaveLength(2);
  });

  test('the blur inside the loss matters (differs from the x0 loss), batch of 1', async () => {
    const d: Dims = [1, 1, 8, 8];
    const lv = levelsOf([3], [0.05], [1]);
    const soft = await gpuLoss(d, (t) => softScoreLoss(ctx.gpu, new DctBlur({ height: 8 }), t), 5, lv);
    const cold = await gpuLoss(d, (t) => coldX0Loss(ctx.gpu, t), 5, lv);
    expectLoss(cold, softLossRef(cold.v.phi, cold.v.xt, cold.v.x0, 1, [1], id, id), 'x0 loss');
    expect(soft.loss).toBeLessThan(0.5 * cold.loss);
  });
});

describe('DSM and the forward corruption on the GPU', () => {
  test.each([
    ['identity', new IdentityCorruption() as Corruption, (_: Dims) => id],
    ['blur', new DctBlur({ height: 8 }) as Corruption, (d: Dims) => blurOp(d, blurs)],
  ] as const)('DSM with %s', async (label, c, op) => {
    const got = await gpuLoss(dims, (t) => dsmLoss(ctx.gpu, c, t), 7, levelsOf(blurs, sigmas, weights));
    expectLoss(got, dsmLossRef(got.v.phi, got.v.xt, got.v.z, 3, sigmas, weights, op(dims), op(dims)), `dsm ${label}`);
  });

  test('DSM at its optimum: x0hat = x0 with x_t = C x0 + sigma z gives zero loss and gradient', async () => {
    const { gpu } = ctx;
    const blur = new DctBlur({ height: 8 });
    const n = numel(dims);
    const x064 = randn(n, 20);
    const z64 = randn(n, 21);
    const x0 = gpu.upload(f32(x064), dims);
    const noise = gpu.upload(f32(z64), dims);
    const levels = gpu.upload(levelsOf(blurs, sigmas, weights), [3, 4]);
    const xt = gpu.tensor(dims);
    gpu.recorder().run(await corruptBatch(gpu, blur, x0, noise, levels, xt)).submit();
    const xtv = await gpu.read(xt);
    expectClose(xtv, corruptRef(x064, z64, 3, sigmas, blurOp(dims, blurs)), { atol: 2e-5, rtol: 1e-4, label: 'x_t' });
    const phi = gpu.upload(f32(x064.map((v, i) => v - xtv[i]!)), dims);
    const t = { phi, xt, noise, levels, grad: gpu.tensor(dims), perSample: gpu.tensor([3]), loss: gpu.tensor([1]) };
    gpu.recorder().run(await dsmLoss(gpu, blur, t)).submit();
    // the residual is (C x0 - x_t)/sigma + z = 0 up to float32 rounding amplified by 1/sigma
    expect((await gpu.read(t.loss))[0]).toBeLessThan(1e-6);
    expect(Math.max(...(await gpu.read(t.grad)).map(Math.abs))).toBeLessThan(1e-5);
  });

  test('bad inputs get typed errors', async () => {
    const { gpu } = ctx;
    const d = gpu.tensor(dims);
    const base = { phi: d, xt: gpu.tensor(dims), x0: gpu.tensor(dims), levels: gpu.tensor([3, 4]), grad: gpu.tensor(dims), perSample: gpu.tensor([3]), loss: gpu.tensor([1]) };
    const blur = new DctBlur({ height: 8 });
    await expect(softScoreLoss(gpu, blur, { ...base, xt: gpu.tensor([3, 2, 8, 7]) })).rejects.toThrow(ShapeError);
    await expect(softScoreLoss(gpu, blur, { ...base, levels: gpu.tensor([2, 4]) })).rejects.toThrow(ShapeError);
    await expect(softScoreLoss(gpu, blur, { ...base, perSample: gpu.tensor([2]) })).rejects.toThrow(ShapeError);
    await expect(softScoreLoss(gpu, blur, { ...base, grad: d })).rejects.toThrow(ValueError);
    await expect(corruptBatch(gpu, blur, d, gpu.tensor([3, 2, 8, 8]), gpu.tensor([3, 4]), gpu.tensor([3, 2, 8, 9]))).rejects.toThrow(ShapeError);
  });
});

describe('soft loss optimum (SPEC section 6)', () => {
  // Gaussian data, diagonal in the DCT basis with variance s_kl; noise sigma 0.1. For denoisers
  // X0hat = a .* X_t the soft loss (with any x0 weight lambda) is quadratic in each a_kl; its gradient
  // from the GPU at a = 0 (phi = -x_t) and a = 1 (phi = 0) locates the minimiser, which must be the
  // exact denoiser a* = d s / (d^2 s + sigma^2) (up to sampling error), and not a = 1/d or the x0-loss answer.
  const [B, H, W] = [512, 8, 8];
  const hw = H * W;
  const sigma = Math.fround(0.1);
  const s = Float64Array.from({ length: hw }, (_, i) => 1 / (1 + Math.floor(i / W) + (i % W)) ** 2);

  /** Per frequency: the GPU's minimiser, the exact one, the slope's standard error, d_k, and |dL/da_k| at a = 0. */
  async function linearOptimum(sigmaB: number, x0Weight: number) {
    const { gpu } = ctx;
    const d: Dims = [B, 1, H, W];
    const coeffs = randn(B * hw, 77).map((v, i) => v * Math.sqrt(s[i % hw]!));
    const x064 = dctBatchRef(coeffs, d, true);
    const z64 = randn(B * hw, 78);
    const blur = new DctBlur({ height: H });
    const levels = gpu.upload(levelsOf(Array(B).fill(sigmaB), Array(B).fill(sigma)), [B, 4]);
    const x0 = gpu.upload(f32(x064), d);
    const noise = gpu.upload(f32(z64), d);
    const xt = gpu.tensor(d);
    gpu.recorder().run(await corruptBatch(gpu, blur, x0, noise, levels, xt)).submit();
    const xtv = Float64Array.from(await gpu.read(xt));
    const gradAt = async (phi: Float64Array) => {
      const t = { phi: gpu.upload(f32(phi), d), xt, x0, levels, grad: gpu.tensor(d), perSample: gpu.tensor([B]), loss: gpu.tensor([1]) };
      gpu.recorder().run(await softScoreLoss(gpu, blur, t, { x0Weight })).submit();
      return dctBatchRef(Float64Array.from(await gpu.read(t.grad)), d);
    };
    const g0 = await gradAt(xtv.map((v) => -v));
    const g1 = await gradAt(new Float64Array(B * hw));
    const Xt = dctBatchRef(xtv, d);
    const X0 = dctBatchRef(x064, d);
    return Array.from({ length: hw }, (_, k) => {
      let d0 = 0, d1 = 0, s0t = 0, stt = 0;
      for (let b = 0; b < B; b++) {
        const i = b * hw + k;
        d0 += g0[i]! * Xt[i]!; // dL/da_k at a = 0
        d1 += g1[i]! * Xt[i]!; // dL/da_k at a = 1
        s0t += X0[i]! * Xt[i]!;
        stt += Xt[i]! ** 2;
      }
      const dk = dTerm(Math.floor(k / W), k % W, H, W, sigmaB);
      const varT = dk * dk * s[k]! + sigma * sigma;
      const aStar = (dk * s[k]!) / varT;
      // sampling error of the regression slope S_0t / S_tt: sqrt(Var(X0 | Xt) / (B Var Xt))
      const stderr = Math.sqrt((s[k]! - aStar * aStar * varT) / (B * varT));
      return { k, dk, aGpu: -d0 / (d1 - d0), aSample: s0t / stt, aStar, stderr, slope: Math.abs(d0) };
    });
  }

  test('the minimiser over linear denoisers is the exact Gaussian denoiser', async () => {
    let worstNaive = 0;
    let counted = 0;
    for (const f of await linearOptimum(1, 0)) {
      if (f.dk < 0.05) continue; // d^2 below ~1e-3: the loss barely sees this frequency
      expect(Math.abs(f.aGpu - f.aSample)).toBeLessThan(1e-3 * Math.abs(f.aSample) + 1e-4); // the GPU gradient is exact
      expect(Math.abs(f.aGpu - f.aStar) / f.stderr, `frequency ${f.k}: a ${f.aGpu} vs exact ${f.aStar}`).toBeLessThan(4.5);
      worstNaive = Math.max(worstNaive, Math.abs(f.aGpu - 1 / f.dk) / f.stderr);
      counted++;
    }
    expect(counted).toBeGreaterThan(8);
    // and the minimiser is not the naive inverse 1/d (which the noise makes wrong)
    expect(worstNaive).toBeGreaterThan(50);
  });

  test('with an x0 weight the minimiser is the exact denoiser at every frequency, also where the blur removed it', async () => {
    // Blur std 2 px: d_k^2 ranges from 1 down to ~1e-26. Where d_k^2 << lambda the soft loss alone
    // has no gradient for a_k (the network's x0hat there is never trained), and the x0 term makes
    // the minimiser the posterior mean E[X0 | Xt] = a* Xt there too (a* ~ 0 where d_k ~ 0).
    const mixed = await linearOptimum(2, 0.1);
    const soft = await linearOptimum(2, 0);
    let removed = 0;
    for (const f of mixed) {
      expect(Math.abs(f.aGpu - f.aSample)).toBeLessThan(1e-3 * Math.abs(f.aSample) + 1e-4);
      expect(Math.abs(f.aGpu - f.aStar) / f.stderr, `frequency ${f.k}: a ${f.aGpu} vs exact ${f.aStar}`).toBeLessThan(4.5);
      if (f.dk * f.dk < 1e-6) {
        removed++;
        expect(soft[f.k]!.slope, `frequency ${f.k}: the soft loss alone still sees it`).toBeLessThan(1e-3 * f.slope); // measured <= 2e-5: float32 rounding
      }
    }
    expect(removed).toBeGreaterThan(16);
  });
});
