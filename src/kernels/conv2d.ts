// 2-D convolution (PyTorch semantics: cross-correlation, zero padding, NCHW, weight [cout, cin, k, k])
// forward, input gradient and weight/bias gradient, in four variants:
//   'direct' (shaders/conv2d_direct.wgsl): implicit GEMM with register blocks, no workgroup memory or
//            barriers, for CPU software adapters (lavapipe, SwiftShader);
//   'tiled'  (shaders/conv2d_tiled.wgsl): implicit GEMM with 64x64 workgroup-memory tiles (split-K for
//            the weight gradient), for GPUs;
//   'gemm'   (shaders/conv2d_gemm.wgsl + src/kernels/matmul.ts): explicit GEMM on a scratch matrix of
//            unfolded windows (im2col) with the matmul's register blocks. On lavapipe it measured
//            1.0-2.4x slower than 'direct' at the 3x3 stride-1 U-Net shapes (both are bound by
//            arithmetic, not loads, and im2col adds traffic) but up to 1.3x faster at some stride-2
//            ones; on SwiftShader it is the fastest weight gradient at some shapes.
//   'winograd' (shaders/conv2d_winograd.wgsl + matmul): F(2x2, 3x3) for 3x3 stride-1 convolutions (all
//            three passes): 2.25x fewer multiply-adds than any direct form, and a software adapter is
//            bound by its arithmetic (1.5-2.5x faster than 'direct' on lavapipe at most U-Net
//            shapes); other shapes fall back to 'direct'.
// The bias gradient and split-K sums are in shaders/conv2d_reduce.wgsl.
import type { Gpu } from '../gpu/gpu.ts';
import { pickVariant, type Variant } from '../gpu/autotune.ts';
import { LimitError, ShapeError, ValueError } from '../gpu/errors.ts';
import { grid1d, Params, type Dispatch } from '../gpu/kernel.ts';
import { expectShape, type Tensor } from '../gpu/tensor.ts';
import { matmul } from './matmul.ts';

export interface Conv2dShape {
  n: number;
  cin: number;
  h: number;
  w: number;
  cout: number;
  k: 1 | 3;
  stride: 1 | 2;
  pad: number;
}

export const CONV2D_VARIANTS = ['direct', 'tiled', 'gemm', 'winograd'] as const;
export type Conv2dVariant = (typeof CONV2D_VARIANTS)[number];

/** Output size with PyTorch's rounding: floor((h + 2 pad - k) / stride) + 1. */
export function conv2dOutSize(s: Conv2dShape): { ho: number; wo: number } {
  return { ho: Math.floor((s.h + 2 * s.pad - s.k) / s.stride) + 1, wo: Math.floor((s.w + 2 * s.pad - s.k) / s.stride) + 1 };
}

function validate(s: Conv2dShape): { ho: number; wo: number } {
  const dims = [s.n, s.cin, s.h, s.w, s.cout];
  if (!dims.every((d) => Number.isInteger(d) && d >= 1)) throw new ShapeError('conv2d shape (n, cin, h, w, cout)', 'positive integers', dims);
  if (s.k !== 1 && s.k !== 3) throw new ValueError(`conv2d kernel size must be 1 or 3, got ${s.k}`);
  if (s.stride !== 1 && s.stride !== 2) throw new ValueError(`conv2d stride must be 1 or 2, got ${s.stride}`);
  if (!Number.isInteger(s.pad) || s.pad < 0) throw new ValueError(`conv2d pad must be a non-negative integer, got ${s.pad}`);
  const out = conv2dOutSize(s);
  if (out.ho < 1 || out.wo < 1) throw new ShapeError(`conv2d output of a ${s.h}x${s.w} input (k ${s.k}, stride ${s.stride}, pad ${s.pad})`, 'at least 1x1', [out.ho, out.wo]);
  return out;
}

function checkTensors(s: Conv2dShape, t: { x?: Tensor; w?: Tensor; b?: Tensor | null; y?: Tensor }): void {
  const { ho, wo } = validate(s);
  if (t.x) expectShape('conv2d input x [n, cin, h, w]', t.x, [s.n, s.cin, s.h, s.w]);
  if (t.w) expectShape('conv2d weight [cout, cin, k, k]', t.w, [s.cout, s.cin, s.k, s.k]);
  if (t.b) expectShape('conv2d bias [cout]', t.b, [s.cout]);
  if (t.y) expectShape('conv2d output [n, cout, ho, wo]', t.y, [s.n, s.cout, ho, wo]);
}

function params(s: Conv2dShape, extra: { accumulate?: boolean; hasBias?: boolean; splits?: number; kchunk?: number } = {}): Params {
  const { ho, wo } = conv2dOutSize(s);
  return new Params()
    .u32(s.n, s.cin, s.h, s.w, s.cout, ho, wo, s.k)
    .u32(s.stride, s.pad, extra.accumulate ? 1 : 0, extra.hasBias ? 1 : 0)
    .u32(extra.splits ?? 1, extra.kchunk ?? 0, 0, 0);
}

function checkGrid(gpu: Gpu, grid: readonly number[], what: string): [number, number, number] {
  const max = gpu.limits.maxComputeWorkgroupsPerDimension;
  for (const g of grid) if (g > max) throw new LimitError(`maxComputeWorkgroupsPerDimension (${what})`, g, max, 'the batch size or image size');
  return [grid[0]!, grid[1]!, grid[2]!];
}

/**
 * Variants to time: a forced one, else all that apply ('winograd' is 'direct' outside 3x3 stride 1,
 * so it is not timed twice), minus measured losers on the software adapters, whose timing runs are
 * what makes planning slow there (bench/conv, batch 8, every U-Net shape):
 *   lavapipe: 'tiled' (3x) and, at 3x3 stride 1, 'gemm' (1-2.4x) are slower than 'direct';
 *     'winograd' wins at most 3x3 stride-1 shapes but not all (e.g. the 32-channel 32x32 weight
 *     gradient), and 'gemm' at some stride-2 ones, so those are timed against 'direct'.
 *   swiftshader: 'direct' (3-6x) and 'tiled' (5-7x) are slower than 'gemm' (their private arrays or
 *     barriers are slow there); 'winograd' wins the forward and input gradient, 'gemm' mostly the
 *     weight gradient.
 */
async function choose(gpu: Gpu, key: string, s: Conv2dShape, builders: Record<Conv2dVariant, () => Promise<Dispatch[]>>, force?: string): Promise<Dispatch[]> {
  const wino = winogradApplies(s);
  let names: Conv2dVariant[] = CONV2D_VARIANTS.filter((v) => v !== 'winograd' || wino);
  if (gpu.adapter.key === 'lavapipe') names = wino ? ['direct', 'winograd'] : ['direct', 'gemm'];
  if (gpu.adapter.key === 'swiftshader') names = wino ? ['gemm', 'winograd'] : ['gemm'];
  // A variant whose scratch matrices would exceed one binding is left out rather than failing the
  // plan ('direct' and 'tiled' need none).
  names = names.filter((v) => scratchFloats(s, v) * 4 <= gpu.limits.maxStorageBufferBindingSize);
  if (!names.length) names = ['direct'];
  const variants: Variant[] = (force === undefined ? names : [...CONV2D_VARIANTS]).map((name) => ({ name, build: builders[name] }));
  return (await pickVariant(gpu, key, variants, force)).dispatches;
}

const shapeKey = (s: Conv2dShape) => `${s.n}x${s.cin}x${s.h}x${s.w}->${s.cout} k${s.k}s${s.stride}p${s.pad}`;
const DIRECT_WG = 64;
/**
 * Pixels per invocation of the direct variant: runs of 8 where a row splits into them and the run's
 * input span stays short (unit step; measured ~1.25x faster than 4 on lavapipe), else 4. `rows` says
 * whether the runs never straddle two rows. `step` is the input stride between the run's pixels.
 */
function directRun(rowLength: number, step: number): { TM: number; rows: boolean } {
  const TM = rowLength % 8 === 0 && step === 1 ? 8 : 4;
  return { TM, rows: rowLength % TM === 0 };
}
const WGRAD_WG = 16;
const TILE = 64;
const TILE_K = 16;

/** y = conv(x, w) + b. */
export async function conv2dForward(gpu: Gpu, x: Tensor, w: Tensor, b: Tensor | null, y: Tensor, s: Conv2dShape, opts: { variant?: string } = {}): Promise<Dispatch[]> {
  checkTensors(s, { x, w, b, y });
  const { ho, wo } = conv2dOutSize(s);
  const rows = s.n * ho * wo;
  // kchunk (the tiled variant's K range per workgroup) is ignored by the direct variant.
  const u = gpu.uniform(params(s, { hasBias: !!b, kchunk: roundUp(s.cin * s.k * s.k, TILE_K) }), 'conv2d.forward:params');
  const res = [u, x, w, b ?? w, y];
  const direct = async () => {
    const { TM, rows: ROWS } = directRun(wo, s.stride);
    const k = await gpu.kernel({ shader: 'conv2d_direct', entry: 'forward', bindings: ['uniform', 'read', 'read', 'read', 'rw'], flags: { ...FLAGS.FORWARD, ROWS }, constants: { WG: DIRECT_WG, TM, ...shapeConstants(s) } });
    return [k.bind(res, checkGrid(gpu, [Math.ceil(rows / (TM * DIRECT_WG)), Math.ceil(s.cout / 4), 1], 'conv2d forward'), 'conv2d.forward.direct')];
  };
  return choose(gpu, `conv2d.forward|${shapeKey(s)}`, s, {
    direct,
    tiled: async () => {
      const k = await gpu.kernel({ shader: 'conv2d_tiled', entry: 'gemm', bindings: ['uniform', 'read', 'read', 'read', 'rw'], flags: FLAGS.FORWARD });
      return [k.bind(res, checkGrid(gpu, [Math.ceil(s.cout / TILE), Math.ceil(rows / TILE), 1], 'conv2d forward'), 'conv2d.forward.tiled')];
    },
    gemm: async () => {
      // y[n] = W[cout, K] @ col[n][K, ho*wo]: the output comes out NCHW directly.
      const K = s.cin * s.k * s.k;
      const out: Dispatch[] = [];
      const col = isPointwise(s) ? x.reshape([s.n, K, ho * wo]) : scratch(gpu, 'col', [s.n, K, ho * wo]);
      if (!isPointwise(s)) out.push(await gemmHelper(gpu, 'im2col', s, [x, col], s.n * s.cin * ho * wo));
      out.push(...(await matmul(gpu, w.reshape([s.cout, K]), col, y.reshape([s.n, s.cout, ho * wo]))));
      if (b) out.push(await gemmHelper(gpu, 'add_bias', s, [b, y], s.n * s.cout * ho * wo));
      return out;
    },
    winograd: async () =>
      winogradApplies(s)
        ? winograd(gpu, { n: s.n, ic: s.cin, oc: s.cout, h: s.h, w: s.w, ho, wo, pad: s.pad, flip: false, accumulate: false }, { inp: x, wt: w, bias: b, out: y }, 'forward')
        : direct(),
  }, opts.variant);
}

/** dx = conv^T(dy, w), or dx += conv^T(dy, w) with `accumulate`. */
export async function conv2dBackwardInput(gpu: Gpu, dy: Tensor, w: Tensor, dx: Tensor, s: Conv2dShape, opts: { variant?: string; accumulate?: boolean } = {}): Promise<Dispatch[]> {
  checkTensors(s, { x: dx, w, y: dy });
  const accumulate = !!opts.accumulate;
  const direct = async () => {
    const u = gpu.uniform(params(s, { accumulate }), 'conv2d.backwardInput:params');
    // One dispatch per input parity class (iy mod stride, ix mod stride): its taps are fixed.
    const out: Dispatch[] = [];
    for (let py = 0; py < Math.min(s.stride, s.h); py++)
      for (let px = 0; px < Math.min(s.stride, s.w); px++) {
        const classW = Math.ceil((s.w - px) / s.stride);
        const classRows = s.n * Math.ceil((s.h - py) / s.stride) * classW;
        const { TM, rows: ROWS } = directRun(classW, 1);
        const flags = { ...FLAGS.DGRAD, ROWS };
        const constants = { WG: DIRECT_WG, TM, ...shapeConstants(s), PY: py, PX: px };
        const k = await gpu.kernel({ shader: 'conv2d_direct', entry: 'backward_input', bindings: ['uniform', 'read', 'read', 'rw'], flags, constants });
        const grid = [Math.ceil(classRows / (TM * DIRECT_WG)), Math.ceil(s.cin / 4), 1];
        out.push(k.bind([u, dy, w, dx], checkGrid(gpu, grid, 'conv2d backward input'), `conv2d.backwardInput.direct[${py},${px}]`));
      }
    return out;
  };
  return choose(gpu, `conv2d.backwardInput|${shapeKey(s)}|${accumulate}`, s, {
    direct,
    tiled: async () => {
      const k = await gpu.kernel({ shader: 'conv2d_tiled', entry: 'gemm', bindings: ['uniform', 'read', 'read', 'rw'], flags: FLAGS.DGRAD });
      const u = gpu.uniform(params(s, { accumulate, kchunk: roundUp(s.cout * s.k * s.k, TILE_K) }), 'conv2d.backwardInput:params');
      const grid = [Math.ceil(s.cin / TILE), Math.ceil((s.n * s.h * s.w) / TILE), 1];
      return [k.bind([u, dy, w, dx], checkGrid(gpu, grid, 'conv2d backward input'), 'conv2d.backwardInput.tiled')];
    },
    gemm: async () => {
      // dcol[n] = W^T[K, cout] @ dy[n][cout, ho*wo], then each input pixel gathers its taps (col2im).
      const { ho, wo } = conv2dOutSize(s);
      const K = s.cin * s.k * s.k;
      const dym = dy.reshape([s.n, s.cout, ho * wo]);
      const wm = w.reshape([s.cout, K]);
      if (isPointwise(s) && !accumulate) return matmul(gpu, wm, dym, dx.reshape([s.n, s.cin, ho * wo]), { transA: true });
      const dcol = scratch(gpu, 'col', [s.n, K, ho * wo]);
      const mm = await matmul(gpu, wm, dym, dcol, { transA: true });
      return [...mm, await gemmHelper(gpu, 'col2im', s, [dcol, dx], s.n * s.cin * s.h * s.w, accumulate)];
    },
    winograd: async () => {
      if (!winogradApplies(s)) return direct();
      // dx is the convolution of dy with the flipped, channel-swapped kernel, padded by 2 - pad.
      const { ho, wo } = conv2dOutSize(s);
      return winograd(gpu, { n: s.n, ic: s.cout, oc: s.cin, h: ho, w: wo, ho: s.h, wo: s.w, pad: 2 - s.pad, flip: true, accumulate }, { inp: dy, wt: w, bias: null, out: dx }, 'backwardInput');
    },
  }, opts.variant);
}

/** dw = sum over n, oy, ox of dy * x window; db = sum of dy per channel. Both overwritten. */
export async function conv2dBackwardWeight(gpu: Gpu, x: Tensor, dy: Tensor, dw: Tensor, db: Tensor | null, s: Conv2dShape, opts: { variant?: string } = {}): Promise<Dispatch[]> {
  checkTensors(s, { x, w: dw, b: db, y: dy });
  const { ho, wo } = conv2dOutSize(s);
  const bias = db ? await biasGrad(gpu, dy, db, s, ho * wo) : [];
  const direct = async () => {
    const k = await gpu.kernel({ shader: 'conv2d_direct', entry: 'backward_weight', bindings: ['uniform', 'read', 'read', 'rw'], flags: { ...FLAGS.WGRAD, ROWS: false }, constants: { WG: WGRAD_WG, ...shapeConstants(s) } });
    const u = gpu.uniform(params(s), 'conv2d.backwardWeight:params');
    const grid = [Math.ceil(s.cin / WGRAD_WG), Math.ceil(s.cout / 4), 1];
    return [k.bind([u, dy, x, dw], checkGrid(gpu, grid, 'conv2d backward weight'), 'conv2d.backwardWeight.direct')];
  };
  const weight = await choose(gpu, `conv2d.backwardWeight|${shapeKey(s)}`, s, {
    direct,
    tiled: async () => {
      const k = await gpu.kernel({ shader: 'conv2d_tiled', entry: 'gemm', bindings: ['uniform', 'read', 'read', 'rw'], flags: FLAGS.WGRAD });
      const len = s.cout * s.cin * s.k * s.k;
      const kTotal = s.n * ho * wo;
      const tiles = Math.ceil(s.cout / TILE) * Math.ceil((s.cin * s.k * s.k) / TILE);
      // Split K until there are enough workgroups to fill a GPU, keeping each split at least 8 K tiles.
      const splits = Math.max(1, Math.min(Math.ceil(128 / tiles), Math.floor(kTotal / (8 * TILE_K))));
      const kchunk = roundUp(Math.ceil(kTotal / splits), TILE_K);
      const used = Math.ceil(kTotal / kchunk);
      const u = gpu.uniform(params(s, { splits: used, kchunk }), 'conv2d.backwardWeight:params');
      const grid = checkGrid(gpu, [Math.ceil((s.cin * s.k * s.k) / TILE), Math.ceil(s.cout / TILE), used], 'conv2d backward weight');
      if (used === 1) return [k.bind([u, dy, x, dw], grid, 'conv2d.backwardWeight.tiled')];
      const part = gpu.pool.tensor([used, len], 'conv2d.backwardWeight:splits');
      const sum = await gpu.kernel({ shader: 'conv2d_reduce', entry: 'sum_splits', bindings: ['uniform', 'read', 'rw'], constants: { RWG: REDUCE_WG } });
      const su = gpu.uniform(new Params().u32(0, 0, 0, used, len, 0, 0, 0), 'conv2d.sumSplits:params');
      return [k.bind([u, dy, x, part], grid, 'conv2d.backwardWeight.tiled'), sum.bind([su, part, dw], grid1d(len, REDUCE_WG), 'conv2d.sumSplits')];
    },
    gemm: async () => {
      // Per image dW_n[cout, K] = dy[n][cout, ho*wo] @ col[n]^T, then a sum over the batch.
      const K = s.cin * s.k * s.k;
      const P = ho * wo;
      const out: Dispatch[] = [];
      const col = isPointwise(s) ? x.reshape([s.n, K, P]) : scratch(gpu, 'col', [s.n, K, P]);
      if (!isPointwise(s)) out.push(await gemmHelper(gpu, 'im2col', s, [x, col], s.n * s.cin * P));
      if (s.n === 1) return [...out, ...(await matmul(gpu, dy.reshape([s.cout, P]), col.reshape([K, P]), dw.reshape([s.cout, K]), { transB: true }))];
      const len = s.cout * K;
      const part = scratch(gpu, 'perImage', [s.n, s.cout, K]);
      out.push(...(await matmul(gpu, dy.reshape([s.n, s.cout, P]), col, part, { transB: true })));
      const sum = await gpu.kernel({ shader: 'conv2d_reduce', entry: 'sum_splits', bindings: ['uniform', 'read', 'rw'], constants: { RWG: REDUCE_WG } });
      const su = gpu.uniform(new Params().u32(0, 0, 0, s.n, len, 0, 0, 0), 'conv2d.sumImages:params');
      out.push(sum.bind([su, part, dw], grid1d(len, REDUCE_WG), 'conv2d.sumImages'));
      return out;
    },
    winograd: async () =>
      winogradApplies(s)
        ? winogradWeightGrad(gpu, { n: s.n, ic: s.cin, oc: s.cout, h: s.h, w: s.w, ho, wo, pad: s.pad, flip: false, accumulate: false }, { x, dy, dw })
        : direct(),
  }, opts.variant);
  return [...weight, ...bias];
}

const REDUCE_WG = 64;

async function biasGrad(gpu: Gpu, dy: Tensor, db: Tensor, s: Conv2dShape, ohw: number): Promise<Dispatch[]> {
  const k = await gpu.kernel({ shader: 'conv2d_reduce', entry: 'bias_grad', bindings: ['uniform', 'read', 'rw'], constants: { RWG: REDUCE_WG } });
  const u = gpu.uniform(new Params().u32(s.n, s.cout, ohw, 0, 0, 0, 0, 0), 'conv2d.biasGrad:params');
  return [k.bind([u, dy, db], checkGrid(gpu, [s.cout, 1, 1], 'conv2d bias gradient'), 'conv2d.biasGrad')];
}

const FLAGS = {
  FORWARD: { FORWARD: true, DGRAD: false, WGRAD: false },
  DGRAD: { FORWARD: false, DGRAD: true, WGRAD: false },
  WGRAD: { FORWARD: false, DGRAD: false, WGRAD: true },
} as const;

/** Pipeline constants of the direct shader: kernel size, stride and padding, so its tap loops unroll. */
const shapeConstants = (s: Conv2dShape) => ({ KS: s.k, ST: s.stride, PD: s.pad });

const roundUp = (v: number, m: number) => Math.ceil(v / m) * m;

/** Winograd F(2x2, 3x3) covers 3x3 stride-1 convolutions with a padding that the input gradient's
 *  mirrored padding (2 - pad) keeps non-negative. */
const winogradApplies = (s: Conv2dShape) => s.k === 3 && s.stride === 1 && s.pad <= 2;

interface WinogradShape {
  n: number;
  ic: number;
  oc: number;
  h: number;
  w: number;
  ho: number;
  wo: number;
  pad: number;
  flip: boolean;
  accumulate: boolean;
}

/** out (+)= conv3x3(inp, kernel) (+ bias) by F(2x2, 3x3): transform, 16 batched matmuls, transform back. */
async function winograd(gpu: Gpu, g: WinogradShape, t: { inp: Tensor; wt: Tensor; bias: Tensor | null; out: Tensor }, pass: string): Promise<Dispatch[]> {
  const { u, T } = winogradParams(gpu, g, !!t.bias, `conv2d.${pass}.winograd:params`);
  const U = scratch(gpu, 'winoU', [16, g.oc, g.ic]);
  const V = scratch(gpu, 'winoV', [16, g.ic, T]);
  const M = scratch(gpu, 'winoM', [16, g.oc, T]);
  const flags = { ...NO_WINOGRAD_ENTRY, FLIP: g.flip };
  const wk = await gpu.kernel({ shader: 'conv2d_winograd', entry: 'weight_transform', bindings: ['uniform', 'read', 'rw'], flags: { ...flags, WEIGHT: true }, constants: { WG: GEMM_WG } });
  const ik = await gpu.kernel({ shader: 'conv2d_winograd', entry: 'input_transform', bindings: ['uniform', 'read', 'rw'], flags: { ...flags, INPUT: true }, constants: { WG: GEMM_WG } });
  const ok = await gpu.kernel({ shader: 'conv2d_winograd', entry: 'output_transform', bindings: ['uniform', 'read', 'read', 'rw'], flags: { ...flags, OUTPUT: true }, constants: { WG: GEMM_WG } });
  const grid = (count: number, what: string) => checkGrid(gpu, grid1d(count, GEMM_WG), `conv2d winograd ${what}`);
  return [
    wk.bind([u, t.wt, U], grid(g.oc * g.ic, 'weight transform'), `conv2d.${pass}.winograd.weight`),
    ik.bind([u, t.inp, V], grid(g.ic * T, 'input transform'), `conv2d.${pass}.winograd.input`),
    ...(await matmul(gpu, U, V, M)),
    ok.bind([u, M, t.bias ?? t.wt, t.out], grid(g.oc * T, 'output transform'), `conv2d.${pass}.winograd.output`),
  ];
}

const NO_WINOGRAD_ENTRY = { WEIGHT: false, INPUT: false, OUTPUT: false, GRADOUT: false, WGRADT: false } as const;

function winogradParams(gpu: Gpu, g: WinogradShape, hasBias: boolean, label: string): { u: GPUBuffer; ty: number; tx: number; T: number } {
  const ty = Math.ceil(g.ho / 2);
  const tx = Math.ceil(g.wo / 2);
  const u = gpu.uniform(new Params().u32(g.n, g.ic, g.oc, g.h, g.w, g.ho, g.wo).i32(g.pad).u32(ty, tx, g.accumulate ? 1 : 0, hasBias ? 1 : 0), label);
  return { u, ty, tx, T: g.n * ty * tx };
}

/** dw = the weight gradient of a 3x3 stride-1 convolution by F(2x2, 3x3): transform x and dy per
 *  tile, 16 batched matmuls that sum over the tiles, transform back (overwrites dw). */
async function winogradWeightGrad(gpu: Gpu, g: WinogradShape, t: { x: Tensor; dy: Tensor; dw: Tensor }): Promise<Dispatch[]> {
  const { u, T } = winogradParams(gpu, g, false, 'conv2d.backwardWeight.winograd:params');
  // V stays [16, ic, T] and is read transposed: storing it [16, T, ic] for vec4 reads scatters the
  // transform's stores, measured 0-20% slower overall on lavapipe.
  const V = scratch(gpu, 'winoV', [16, g.ic, T]);
  const D = scratch(gpu, 'winoM', [16, g.oc, T]);
  const dU = scratch(gpu, 'winoU', [16, g.oc, g.ic]);
  const kernel = (entry: string, flag: keyof typeof NO_WINOGRAD_ENTRY) =>
    gpu.kernel({ shader: 'conv2d_winograd', entry, bindings: ['uniform', 'read', 'rw'], flags: { ...NO_WINOGRAD_ENTRY, FLIP: false, [flag]: true }, constants: { WG: GEMM_WG } });
  const grid = (count: number, what: string) => checkGrid(gpu, grid1d(count, GEMM_WG), `conv2d winograd ${what}`);
  return [
    (await kernel('input_transform', 'INPUT')).bind([u, t.x, V], grid(g.ic * T, 'input transform'), 'conv2d.backwardWeight.winograd.input'),
    (await kernel('grad_output_transform', 'GRADOUT')).bind([u, t.dy, D], grid(g.oc * T, 'gradient transform'), 'conv2d.backwardWeight.winograd.gradOutput'),
    ...(await matmul(gpu, D, V, dU, { transB: true })),
    (await kernel('weight_grad_transform', 'WGRADT')).bind([u, dU, t.dw], grid(g.oc * g.ic, 'weight transform'), 'conv2d.backwardWeight.winograd.weight'),
  ];
}

/** The largest scratch matrix (floats) that a variant's three passes bind. */
function scratchFloats(s: Conv2dShape, v: Conv2dVariant): number {
  const { ho, wo } = conv2dOutSize(s);
  if (v === 'gemm') return s.n * s.cin * s.k * s.k * Math.max(ho * wo, s.cout);
  if (v === 'winograd') return 16 * Math.max(s.cin, s.cout) * s.n * Math.ceil(Math.max(s.h, ho) / 2) * Math.ceil(Math.max(s.w, wo) / 2);
  return 0;
}

/** A 1x1, stride-1, unpadded convolution: its unfolded matrix is the input itself. */
const isPointwise = (s: Conv2dShape) => s.k === 1 && s.stride === 1 && s.pad === 0;

const GEMM_WG = 64;

/** One dispatch of shaders/conv2d_gemm.wgsl (`entry` over `count` invocations), bound to [src, dst]. */
async function gemmHelper(gpu: Gpu, entry: 'im2col' | 'col2im' | 'add_bias', s: Conv2dShape, [src, dst]: [Tensor, Tensor], count: number, accumulate = false): Promise<Dispatch> {
  const k = await gpu.kernel({ shader: 'conv2d_gemm', entry, bindings: ['uniform', 'read', 'rw'], constants: { WG: GEMM_WG, ...shapeConstants(s) } });
  const u = gpu.uniform(params(s, { accumulate }), `conv2d.${entry}:params`);
  return k.bind([u, src, dst], checkGrid(gpu, grid1d(count, GEMM_WG), `conv2d ${entry}`), `conv2d.gemm.${entry}`);
}

/**
 * Scratch matrices of the gemm and winograd variants (unfolded windows, per-image weight gradients,
 * transformed tiles), one per (role, size) on this device, shared by every convolution that needs
 * it: each op fills its scratch and reads it back within its own consecutive dispatches, and a queue
 * runs dispatches in order, so ops never see each other's contents. Roles keep the matrices of one
 * op apart. They live as long as the device (they are not part of a model's planned bytes).
 */
const scratches = new WeakMap<Gpu, Map<string, Tensor>>();
function scratch(gpu: Gpu, role: 'col' | 'perImage' | 'winoU' | 'winoV' | 'winoM', shape: [number, number, number]): Tensor {
  let byKey = scratches.get(gpu);
  if (!byKey) scratches.set(gpu, (byKey = new Map()));
  const size = shape[0] * shape[1] * shape[2];
  const key = `${role}:${size}`;
  let t = byKey.get(key);
  if (!t) byKey.set(key, (t = gpu.pool.tensor([size], `conv2d.gemm:${role}`)));
  return t.reshape(shape);
}
