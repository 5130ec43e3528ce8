// Training losses with their gradients w.r.t. the network output phi, and the forward corruption
// (SPEC.md sections 1-3; shaders/losses.wgsl). Every function validates shapes once and returns the
// prebuilt dispatches of one training step; nothing runs on the host per step.
//
// With x0hat = phi + x_t, e = x0hat - x0, n = C H W elements per sample, B samples and the per-sample
// weight w_b = levels[b, 3] (default 1; `inverseVarianceWeight` in schedule.ts gives sigma^-2 clamped):
//   softScoreLoss  per_sample[b] = w_b / n (||C_t e_b||^2 + lambda ||e_b||^2)  (mean over elements, then batch)
//                  dL/dphi       = 2 w_b / (B n) (C_t^T C_t e_b + lambda e_b)
//                  lambda = `x0Weight` (default 0: the paper's soft loss). Why a lambda: where the blur
//                  has removed a frequency (d_k(t) ~ 0) the soft loss does not see x0hat there at all, so
//                  the network's x0hat is unconstrained in those bands at large t; the momentum sampler
//                  adds them back as the blur recedes, and keeps what was invented (docs/quality.md).
//                  Any lambda > 0 makes the weight positive definite, so the optimum is the posterior
//                  mean E[x0 | x_t] in every band (tests/diffusion/losses.test.ts pins this on Gaussian data).
//                  A corruption with the heatSpectrum capability (the DCT blur): residual, DCT, one
//                  fused spectral kernel (loss by Parseval and (d^2 + lambda) .* E), IDCT, batch mean: 7
//                  dispatches. With the identity capability: (1 + lambda) times the x0 loss, 2 dispatches.
//                  Any other corruption: residual, C, reduce + scale, C^T, (lambda > 0: add lambda e), mean.
//   coldX0Loss     per_sample[b] = w_b / n ||e_b||^2,       dL/dphi = 2 w_b / (B n) e_b (2 dispatches)
//   dsmLoss        r = (C_t x0hat - x_t) / sigma_b + z  ( = sigma s_theta + z, epsilon form, lambda = sigma^2)
//                  per_sample[b] = w_b / (2n) ||r_b||^2,    dL/dphi = w_b / (B n sigma_b) C_t^T r_b
//   loss[0] = (1/B) sum_b per_sample[b] in every case.
//   corruptBatch   x_t = C_t x0 + sigma_b * noise (noise: a standard-normal tensor from the GPU RNG).
// planLoss picks one of the three by name (LOSSES). What a loss allocates (its work tensor, uniforms)
// belongs to the `gpu` scope it is planned on.
import type { Gpu } from '../gpu/gpu.ts';
import { grid1d, Params, type Dispatch } from '../gpu/kernel.ts';
import { ShapeError, ValueError } from '../gpu/errors.ts';
import { sameShape, type Tensor } from '../gpu/tensor.ts';
import { elementwise } from '../kernels/elementwise.ts';
import { LEVEL_STRIDE } from '../kernels/levels.ts';
import { MAX_X0_WEIGHT } from '../base/limits.ts';
import type { Corruption } from './types.ts';
import { dctForward, dctInverse, imageDims, overlaps } from './dct.ts';

const WG = 256;

export interface LossTensors {
  /** Network output [B, C, H, W]. */
  phi: Tensor;
  /** The corrupted input x_t [B, C, H, W]. */
  xt: Tensor;
  /** The clean batch x0 [B, C, H, W]. */
  x0: Tensor;
  /** [B, 4] = (t, c, sigma, weight). */
  levels: Tensor;
  /** Output: dL/dphi [B, C, H, W]. */
  grad: Tensor;
  /** Output: the per-sample loss values [B] (for logging loss against t). */
  perSample: Tensor;
  /** Output: the batch loss [1]. */
  loss: Tensor;
}

export interface LossOptions {
  /** A work tensor of B*C*H*W elements (default: allocated once at planning). */
  scratch?: Tensor;
  /** Soft loss only: force the generic path (C, then C^T) even where a capability allows a faster one. */
  generic?: boolean;
  /** Soft loss only: lambda, the weight of the x0 loss added to it (default 0; see the file comment). */
  x0Weight?: number;
}

type Entry = 'residual' | 'blur_spectral_loss' | 'sumsq_scale' | 'add_x0_term' | 'x0_loss' | 'dsm_residual' | 'batch_mean' | 'add_sigma_noise';

/** One losses.wgsl dispatch; slots a, b, c, levels, out, perSample in binding order; x0w = lambda. */
async function lossKernel(
  gpu: Gpu,
  entry: Entry,
  dims: readonly number[],
  slots: { a?: Tensor; b?: Tensor; c?: Tensor; levels: Tensor; out: Tensor; perSample: Tensor },
  x0w = 0,
): Promise<Dispatch> {
  const [batch, ch, h, w] = dims as [number, number, number, number];
  const chw = ch * h * w;
  const total = batch * chw;
  const k = await gpu.kernel({ shader: 'losses', entry, bindings: ['uniform', 'read', 'read', 'read', 'read', 'rw', 'rw'], constants: { WG } });
  const params = gpu.uniform(new Params().u32(chw, batch, h, w, total).f32(x0w), `${entry}:params`);
  const flatten = (t: Tensor) => t.reshape([t.size]);
  const read = (t?: Tensor) => flatten(t ?? slots.levels);
  const grid: [number, number, number] = entry === 'residual' || entry === 'add_sigma_noise' || entry === 'add_x0_term' ? grid1d(total, WG) : entry === 'batch_mean' ? [1, 1, 1] : [batch, 1, 1];
  return k.bind([params, read(slots.a), read(slots.b), read(slots.c), slots.levels, flatten(slots.out), flatten(slots.perSample)], grid, entry);
}

function validate(what: string, t: Omit<LossTensors, 'x0'> & { x0?: Tensor; noise?: Tensor }): [number, number, number, number] {
  const dims = imageDims(`${what} phi`, t.phi);
  const [b] = dims;
  if (b > 65535) throw new ValueError(`${what}: batch ${b} exceeds 65535 (one workgroup per sample).`);
  for (const [name, x] of [['xt', t.xt], ['x0', t.x0], ['noise', t.noise], ['grad', t.grad]] as const)
    if (x && !sameShape(x.shape, dims)) throw new ShapeError(`${what} ${name}`, dims, x.shape);
  if (!sameShape(t.levels.shape, [b, LEVEL_STRIDE])) throw new ShapeError(`${what} levels`, [b, LEVEL_STRIDE], t.levels.shape);
  if (t.perSample.size !== b) throw new ShapeError(`${what} perSample`, [b], t.perSample.shape);
  if (t.loss.size !== 1) throw new ShapeError(`${what} loss`, [1], t.loss.shape);
  for (const x of [t.phi, t.xt, t.x0, t.noise, t.levels])
    if (x && (overlaps(x, t.grad) || overlaps(x, t.perSample) || overlaps(x, t.loss))) throw new ValueError(`${what}: an output overlaps an input.`);
  return dims;
}

function workTensor(gpu: Gpu, dims: readonly number[], opts: LossOptions, what: string): Tensor {
  if (!opts.scratch) return gpu.tensor(dims, `${what}:work`);
  if (opts.scratch.size < dims.reduce((a, b) => a * b, 1)) throw new ShapeError(`${what} scratch`, dims, opts.scratch.shape);
  return opts.scratch.view(0, dims);
}

/** The x0 weight lambda of `opts`, checked: a finite number >= 0 (0 when absent). */
export function x0WeightOf(opts: LossOptions): number {
  const v = opts.x0Weight ?? 0;
  if (!(typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= MAX_X0_WEIGHT)) throw new ValueError(`x0Weight ${String(v)} is not a number in [0, ${MAX_X0_WEIGHT}].`, 'Use 0 (the soft loss alone) or a small weight such as 0.1.');
  return v;
}

/** Soft score matching: L = mean_b w_b / n (||C_t e||^2 + lambda ||e||^2), e = phi + x_t - x0, and dL/dphi (see the file comment). */
export async function softScoreLoss(gpu: Gpu, corruption: Corruption, t: LossTensors, opts: LossOptions = {}): Promise<Dispatch[]> {
  const dims = validate('softScoreLoss', t);
  const lambda = x0WeightOf(opts);
  const { levels, grad, perSample, loss } = t;
  const caps = opts.generic ? {} : (corruption.capabilities ?? {});
  if (caps.identity) return x0Dispatches(gpu, dims, t, lambda);
  const work = workTensor(gpu, dims, opts, 'softScoreLoss');
  if (caps.heatSpectrum)
    return [
      await lossKernel(gpu, 'residual', dims, { a: t.phi, b: t.xt, c: t.x0, levels, out: grad, perSample }),
      ...(await dctForward(gpu, grad, work)),
      await lossKernel(gpu, 'blur_spectral_loss', dims, { levels, out: work, perSample }, lambda),
      ...(await dctInverse(gpu, work, grad)),
      await lossKernel(gpu, 'batch_mean', dims, { levels, out: loss, perSample }),
    ];
  // The generic path with lambda > 0 keeps e in a second work tensor for the x0 term.
  const e = lambda > 0 ? gpu.tensor(dims, 'softScoreLoss:residual') : grad;
  return [
    await lossKernel(gpu, 'residual', dims, { a: t.phi, b: t.xt, c: t.x0, levels, out: e, perSample }),
    ...(await corruption.apply(gpu, e, work, levels)),
    await lossKernel(gpu, 'sumsq_scale', dims, { a: lambda > 0 ? e : undefined, levels, out: work, perSample }, lambda),
    ...(await corruption.adjoint(gpu, work, grad, levels)),
    ...(lambda > 0 ? [await lossKernel(gpu, 'add_x0_term', dims, { a: e, levels, out: grad, perSample }, lambda)] : []),
    await lossKernel(gpu, 'batch_mean', dims, { levels, out: loss, perSample }),
  ];
}

/** (1 + lambda) times the x0 loss (lambda = 0: the x0 loss itself): 2 dispatches. */
async function x0Dispatches(gpu: Gpu, dims: readonly number[], t: LossTensors, lambda: number): Promise<Dispatch[]> {
  const { levels, perSample } = t;
  return [
    await lossKernel(gpu, 'x0_loss', dims, { a: t.phi, b: t.xt, c: t.x0, levels, out: t.grad, perSample }, lambda),
    await lossKernel(gpu, 'batch_mean', dims, { levels, out: t.loss, perSample }),
  ];
}

/** Cold-Diffusion-style x0 loss: L = mean_b w_b / n ||phi + x_t - x0||^2 and dL/dphi (2 dispatches). */
export async function coldX0Loss(gpu: Gpu, t: LossTensors): Promise<Dispatch[]> {
  return x0Dispatches(gpu, validate('coldX0Loss', t), t, 0);
}

export type DsmTensors = Omit<LossTensors, 'x0'> & {
  /** The standard-normal noise z used to form x_t = C_t x0 + sigma z. */
  noise: Tensor;
};

/** Multi-level DSM (NCSN, epsilon form): L = mean_b w_b / (2n) ||(C x0hat - x_t)/sigma_b + z||^2 and dL/dphi. */
export async function dsmLoss(gpu: Gpu, corruption: Corruption, t: DsmTensors, opts: LossOptions = {}): Promise<Dispatch[]> {
  const dims = validate('dsmLoss', t);
  const { levels, grad, perSample } = t;
  const work = workTensor(gpu, dims, opts, 'dsmLoss');
  return [
    await elementwise(gpu, 'add', grad, t.phi, t.xt), // x0hat, parked in grad
    ...(await corruption.apply(gpu, grad, work, levels)),
    await lossKernel(gpu, 'dsm_residual', dims, { b: t.xt, c: t.noise, levels, out: work, perSample }),
    ...(await corruption.adjoint(gpu, work, grad, levels)),
    await lossKernel(gpu, 'batch_mean', dims, { levels, out: t.loss, perSample }),
  ];
}

/** x_t = C_t x0 + sigma_b * noise for the training batch (apply, then one fused noise dispatch). */
export async function corruptBatch(gpu: Gpu, corruption: Corruption, x0: Tensor, noise: Tensor, levels: Tensor, xt: Tensor): Promise<Dispatch[]> {
  const dims = imageDims('corruptBatch x0', x0);
  for (const [name, x] of [['noise', noise], ['xt', xt]] as const) if (!sameShape(x.shape, dims)) throw new ShapeError(`corruptBatch ${name}`, dims, x.shape);
  if (!sameShape(levels.shape, [dims[0], LEVEL_STRIDE])) throw new ShapeError('corruptBatch levels', [dims[0], LEVEL_STRIDE], levels.shape);
  if (overlaps(noise, xt) || overlaps(levels, xt)) throw new ValueError('corruptBatch: xt overlaps an input.');
  return [
    ...(await corruption.apply(gpu, x0, xt, levels)),
    await lossKernel(gpu, 'add_sigma_noise', dims, { a: noise, levels, out: xt, perSample: gpu.tensor([1], 'corruptBatch:unused') }),
  ];
}

/** The training losses by name. */
export const LOSSES = ['soft', 'x0', 'dsm'] as const;
export type LossName = (typeof LOSSES)[number];

/** The dispatches of loss `name` (soft score matching, the x0 loss or DSM; DSM reads `noise`); an x0 weight is the soft loss's only. */
export async function planLoss(gpu: Gpu, name: LossName, corruption: Corruption, t: LossTensors & { noise: Tensor }, opts: LossOptions = {}): Promise<Dispatch[]> {
  if (name !== 'soft' && x0WeightOf(opts) > 0) throw new ValueError(`x0Weight ${opts.x0Weight} applies to the soft loss only, not to '${name}'.`, 'Use loss soft, or x0Weight 0.');
  switch (name) {
    case 'soft':
      return softScoreLoss(gpu, corruption, t, opts);
    case 'x0':
      return coldX0Loss(gpu, t);
    case 'dsm':
      return dsmLoss(gpu, corruption, t, opts);
  }
  throw new ValueError(`Unknown loss ${String(name)}.`, `Use one of ${LOSSES.join(', ')}.`);
}
