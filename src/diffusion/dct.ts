// The orthonormal DCT-II ("blur-degradation matrices", SPEC.md section 1) on the host in float64, and
// on the GPU as matrix products (shaders/dct.wgsl) over a batch [B, C, H, W] for any H, W.
//
// Host:  dctMatrix(N)                  D_N, row-major, D[k, i] = a_k cos(pi (2i + 1) k / (2N))
//        heatEigenvalues(N)            lambda_k = (pi k / N)^2
//        blurSpectrum(H, W, sigmaB, p) d^p as an H x W array (the level scheduler and prior use it)
// GPU:   dctForward(gpu, x, X, opts)   X = D_H x D_W^T per channel            (2 dispatches)
//        dctInverse(gpu, X, x, opts)   x = D_H^T X D_W                         (2 dispatches)
//        dctScale(gpu, X, out, levels, power)  out = d(levels[b,1])^power .* X  (1 dispatch)
//        spectralMultiply(...)         the general per-sample multiplier (see SpectralMultiplier)
// Both transforms go through a scratch tensor of the same size (opts.scratch, else the device's shared
// scratch of that size, leased by the planning scope: scratchFor); the dispatches of one plan run in
// order, so sharing is safe as long as no caller passes that scratch as its own input or output. The
// DCT matrices are shared the same way (dctMatrixTensor).
import type { Gpu } from '../gpu/gpu.ts';
import { grid1d, Params, type Dispatch } from '../gpu/kernel.ts';
import { ShapeError, ValueError } from '../gpu/errors.ts';
import { sameShape, type Tensor } from '../gpu/tensor.ts';
import { LEVEL_STRIDE } from '../kernels/levels.ts';

const WG = 256;

/** The N x N orthonormal DCT-II matrix in float64, row-major: D[k * N + i]. */
export function dctMatrix(n: number): Float64Array {
  if (!(Number.isInteger(n) && n >= 1)) throw new ValueError(`DCT size must be a positive integer, got ${n}.`);
  const d = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    const a = Math.sqrt((k === 0 ? 1 : 2) / n);
    for (let i = 0; i < n; i++) d[k * n + i] = a * Math.cos((Math.PI * (2 * i + 1) * k) / (2 * n));
  }
  return d;
}

/** lambda_k = (pi k / N)^2, k = 0..N-1: the heat-equation eigenvalue of DCT frequency k. */
export function heatEigenvalues(n: number): Float64Array {
  return Float64Array.from({ length: n }, (_, k) => ((Math.PI * k) / n) ** 2);
}

/** d^power at every DCT frequency (k, l) of an H x W image, for blur std sigmaB (pixels). */
export function blurSpectrum(h: number, w: number, sigmaB: number, power = 1): Float64Array {
  const lh = heatEigenvalues(h);
  const lw = heatEigenvalues(w);
  const out = new Float64Array(h * w);
  for (let k = 0; k < h; k++) for (let l = 0; l < w; l++) out[k * w + l] = Math.exp((-power * (lh[k]! + lw[l]!) * sigmaB * sigmaB) / 2);
  return out;
}

/** D_N (or its transpose) as float32, shared by every plan on the device (a lease held by `gpu`'s scope). */
export function dctMatrixTensor(gpu: Gpu, n: number, transposed = false): Tensor {
  return gpu.sharedTensor(`dct${n}${transposed ? 'T' : ''}`, [n, n], () => {
    const d = dctMatrix(n);
    return transposed ? Float32Array.from({ length: n * n }, (_, i) => d[(i % n) * n + Math.floor(i / n)]!) : Float32Array.from(d);
  });
}

/** The scratch tensor of `size` elements shared by the DCT plans on the device (see the file comment). */
export function scratchFor(gpu: Gpu, size: number): Tensor {
  return gpu.scratch('dct', [size]);
}

export interface DctOptions {
  /** A tensor of the same element count used between the two passes (must not be x or out). */
  scratch?: Tensor;
}

/** [B, C, H, W] of a 4-D tensor, with a ShapeError otherwise. */
export function imageDims(what: string, x: Tensor): [number, number, number, number] {
  if (x.shape.length !== 4) throw new ShapeError(what, '[B, C, H, W]', x.shape);
  return x.shape as [number, number, number, number];
}

/** Whether two tensors share bytes (a dispatch may not bind one range both read and read_write). */
export function overlaps(a: Tensor, b: Tensor): boolean {
  return a.buffer === b.buffer && a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;
}

function checkPair(what: string, x: Tensor, out: Tensor, scratch: Tensor): void {
  imageDims(`${what} input`, x);
  if (!sameShape(x.shape, out.shape)) throw new ShapeError(`${what} output`, x.shape, out.shape);
  if (scratch.size < x.size) throw new ShapeError(`${what} scratch`, `>= ${x.size} elements`, `${scratch.size}`);
  if (overlaps(x, out) || overlaps(scratch, x) || overlaps(scratch, out))
    throw new ValueError(`${what}: input, output and scratch must not overlap.`);
}

/**
 * The per-sample DCT-domain multiplier m = coefA * d(levelsA[b,1])^powerA + coefB * d(levelsB[b,1])^powerB,
 * coefA/coefB numbers, or with `coefs` a [B, 2] GPU tensor whose row b scales them per sample.
 */
export interface SpectralMultiplier {
  levelsA: Tensor;
  coefA?: number;
  powerA?: number;
  levelsB?: Tensor;
  coefB?: number;
  powerB?: number;
  coefs?: Tensor;
}

function multiplierParams(n: number, h: number, w: number, chw: number, m: SpectralMultiplier | null): Params {
  return new Params()
    .u32(n, h, w, chw)
    .f32(m?.coefA ?? 1, m?.levelsB ? (m.coefB ?? 1) : 0, m?.powerA ?? 1, m?.powerB ?? 1);
}

function multiplierBindings(b: number, m: SpectralMultiplier): Tensor[] {
  const lb = m.levelsB ?? m.levelsA;
  for (const [name, l] of [['levelsA', m.levelsA], ['levelsB', lb]] as const)
    if (!sameShape(l.shape, [b, LEVEL_STRIDE])) throw new ShapeError(`blur ${name}`, [b, LEVEL_STRIDE], l.shape);
  if (m.coefs && !sameShape(m.coefs.shape, [b, 2])) throw new ShapeError('blur coefs', [b, 2], m.coefs.shape);
  return m.coefs ? [m.levelsA, lb, m.coefs] : [m.levelsA, lb];
}

async function pass(
  gpu: Gpu,
  entry: 'rows' | 'cols',
  inverse: boolean,
  src: Tensor,
  dst: Tensor,
  dims: [number, number, number, number],
  scale: SpectralMultiplier | null = null,
): Promise<Dispatch> {
  const [b, c, h, w] = dims;
  const n = b * c * h * w;
  // rows always multiply by mat[j, l]: D_W^T forward, D_W inverse (see dct.wgsl)
  const mat = entry === 'rows' ? dctMatrixTensor(gpu, w, !inverse) : dctMatrixTensor(gpu, h);
  const flags = { INVERSE: inverse, SCALE: !!scale, COEFS: !!scale?.coefs };
  const extra = scale ? multiplierBindings(b, scale) : [];
  const k = await gpu.kernel({ shader: 'dct', entry, flags, bindings: ['uniform', 'read', 'read', 'rw', ...extra.map(() => 'read' as const)], constants: { WG } });
  const params = gpu.uniform(multiplierParams(n, h, w, c * h * w, scale), `dct-${entry}:params`);
  return k.bind([params, mat, src.reshape([n]), dst.reshape([n]), ...extra], grid1d(n, WG), `dct-${entry}${inverse ? '-inv' : ''}`);
}

/** X = D_H x D_W^T for every channel of every sample (rows then columns). */
export async function dctForward(gpu: Gpu, x: Tensor, X: Tensor, opts: DctOptions = {}): Promise<Dispatch[]> {
  const scratch = opts.scratch ?? scratchFor(gpu, x.size);
  checkPair('dctForward', x, X, scratch);
  const dims = imageDims('dctForward input', x);
  const tmp = scratch.view(0, [x.size]);
  return [await pass(gpu, 'rows', false, x, tmp, dims), await pass(gpu, 'cols', false, tmp, X, dims)];
}

/** x = D_H^T X D_W (columns then rows). */
export async function dctInverse(gpu: Gpu, X: Tensor, x: Tensor, opts: DctOptions = {}): Promise<Dispatch[]> {
  const scratch = opts.scratch ?? scratchFor(gpu, X.size);
  checkPair('dctInverse', X, x, scratch);
  const dims = imageDims('dctInverse input', X);
  const tmp = scratch.view(0, [X.size]);
  return [await pass(gpu, 'cols', true, X, tmp, dims), await pass(gpu, 'rows', true, tmp, x, dims)];
}

/** out = m .* X for DCT coefficients X [B, C, H, W] and the per-sample multiplier m (one dispatch). */
export async function spectralMultiply(gpu: Gpu, X: Tensor, out: Tensor, m: SpectralMultiplier): Promise<Dispatch> {
  const [b, c, h, w] = imageDims('spectralMultiply input', X);
  if (!sameShape(X.shape, out.shape)) throw new ShapeError('spectralMultiply output', X.shape, out.shape);
  if (overlaps(X, out)) throw new ValueError('spectralMultiply: X and out must not overlap.');
  const n = X.size;
  const extra = multiplierBindings(b, m);
  const k = await gpu.kernel({
    shader: 'dct',
    entry: 'spectral_scale',
    flags: { INVERSE: false, SCALE: true, COEFS: !!m.coefs },
    bindings: ['uniform', 'read', 'read', 'rw', ...extra.map(() => 'read' as const)],
    constants: { WG },
  });
  const params = gpu.uniform(multiplierParams(n, h, w, c * h * w, m), 'spectral_scale:params');
  return k.bind([params, X.reshape([n]), X.reshape([n]), out.reshape([n]), ...extra], grid1d(n, WG), 'spectral_scale');
}

/** out = d(levels[b,1])^power .* X: power 1 is C_t, power 2 is C_t^T C_t, in the DCT domain. */
export function dctScale(gpu: Gpu, X: Tensor, out: Tensor, levels: Tensor, power = 1): Promise<Dispatch> {
  return spectralMultiply(gpu, X, out, { levelsA: levels, powerA: power });
}

/**
 * out = D^T (m .* (D x)) in 4 dispatches (the multiplier is fused into the forward column pass):
 * the building block of every DCT-diagonal operator (blur, C^T C, blur combinations).
 */
export async function spectralFilter(gpu: Gpu, x: Tensor, out: Tensor, m: SpectralMultiplier, opts: DctOptions = {}): Promise<Dispatch[]> {
  const scratch = opts.scratch ?? scratchFor(gpu, x.size);
  checkPair('spectralFilter', x, out, scratch);
  const dims = imageDims('spectralFilter input', x);
  const tmp = scratch.view(0, [x.size]);
  return [
    await pass(gpu, 'rows', false, x, tmp, dims),
    await pass(gpu, 'cols', false, tmp, out, dims, m),
    await pass(gpu, 'cols', true, out, tmp, dims),
    await pass(gpu, 'rows', true, tmp, out, dims),
  ];
}
