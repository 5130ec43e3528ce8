// 2-D convolution (PyTorch semantics: cross-correlation, zero padding, NCHW, weight [cout, cin, k, k])
// forward, input gradient and weight/bias gradient, each an implicit GEMM in two variants:
//   'direct' (shaders/conv2d_direct.wgsl): register blocks, no workgroup memory or barriers, for CPU
//            software adapters (lavapipe, SwiftShader);
//   'tiled'  (shaders/conv2d_tiled.wgsl): 64x64 workgroup-memory tiles (split-K for the weight
//            gradient), for GPUs.
// The bias gradient and split-K sums are in shaders/conv2d_reduce.wgsl.
import type { Gpu } from '../gpu/gpu.ts';
import { pickVariant, type Variant } from '../gpu/autotune.ts';
import { LimitError, ShapeError, ValueError } from '../gpu/errors.ts';
import { grid1d, Params, type Dispatch } from '../gpu/kernel.ts';
import { expectShape, type Tensor } from '../gpu/tensor.ts';

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

export const CONV2D_VARIANTS = ['direct', 'tiled'] as const;
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
 * Variants to time: a forced one, else all of them, except on lavapipe where the direct variant was
 * measured 3x faster than the tiled one at every U-Net shape (so planning skips timing a loser).
 * On SwiftShader the faster one depends on the shape and pass, so it is timed like a GPU.
 */
async function choose(gpu: Gpu, key: string, builders: Record<Conv2dVariant, () => Promise<Dispatch[]>>, force?: string): Promise<Dispatch[]> {
  const names: Conv2dVariant[] = force === undefined && gpu.adapter.key === 'lavapipe' ? ['direct'] : [...CONV2D_VARIANTS];
  const variants: Variant[] = names.map((name) => ({ name, build: builders[name] }));
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
  return choose(gpu, `conv2d.forward|${shapeKey(s)}`, {
    direct: async () => {
      const { TM, rows: ROWS } = directRun(wo, s.stride);
      const k = await gpu.kernel({ shader: 'conv2d_direct', entry: 'forward', bindings: ['uniform', 'read', 'read', 'read', 'rw'], flags: { ...FLAGS.FORWARD, ROWS }, constants: { WG: DIRECT_WG, TM, ...shapeConstants(s) } });
      return [k.bind(res, checkGrid(gpu, [Math.ceil(rows / (TM * DIRECT_WG)), Math.ceil(s.cout / 4), 1], 'conv2d forward'), 'conv2d.forward.direct')];
    },
    tiled: async () => {
      const k = await gpu.kernel({ shader: 'conv2d_tiled', entry: 'gemm', bindings: ['uniform', 'read', 'read', 'read', 'rw'], flags: FLAGS.FORWARD });
      return [k.bind(res, checkGrid(gpu, [Math.ceil(s.cout / TILE), Math.ceil(rows / TILE), 1], 'conv2d forward'), 'conv2d.forward.tiled')];
    },
  }, opts.variant);
}

/** dx = conv^T(dy, w), or dx += conv^T(dy, w) with `accumulate`. */
export async function conv2dBackwardInput(gpu: Gpu, dy: Tensor, w: Tensor, dx: Tensor, s: Conv2dShape, opts: { variant?: string; accumulate?: boolean } = {}): Promise<Dispatch[]> {
  checkTensors(s, { x: dx, w, y: dy });
  const accumulate = !!opts.accumulate;
  return choose(gpu, `conv2d.backwardInput|${shapeKey(s)}|${accumulate}`, {
    direct: async () => {
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
    },
    tiled: async () => {
      const k = await gpu.kernel({ shader: 'conv2d_tiled', entry: 'gemm', bindings: ['uniform', 'read', 'read', 'rw'], flags: FLAGS.DGRAD });
      const u = gpu.uniform(params(s, { accumulate, kchunk: roundUp(s.cout * s.k * s.k, TILE_K) }), 'conv2d.backwardInput:params');
      const grid = [Math.ceil(s.cin / TILE), Math.ceil((s.n * s.h * s.w) / TILE), 1];
      return [k.bind([u, dy, w, dx], checkGrid(gpu, grid, 'conv2d backward input'), 'conv2d.backwardInput.tiled')];
    },
  }, opts.variant);
}

/** dw = sum over n, oy, ox of dy * x window; db = sum of dy per channel. Both overwritten. */
export async function conv2dBackwardWeight(gpu: Gpu, x: Tensor, dy: Tensor, dw: Tensor, db: Tensor | null, s: Conv2dShape, opts: { variant?: string } = {}): Promise<Dispatch[]> {
  checkTensors(s, { x, w: dw, b: db, y: dy });
  const { ho, wo } = conv2dOutSize(s);
  const bias = db ? await biasGrad(gpu, dy, db, s, ho * wo) : [];
  const weight = await choose(gpu, `conv2d.backwardWeight|${shapeKey(s)}`, {
    direct: async () => {
      const k = await gpu.kernel({ shader: 'conv2d_direct', entry: 'backward_weight', bindings: ['uniform', 'read', 'read', 'rw'], flags: { ...FLAGS.WGRAD, ROWS: false }, constants: { WG: WGRAD_WG, ...shapeConstants(s) } });
      const u = gpu.uniform(params(s), 'conv2d.backwardWeight:params');
      const grid = [Math.ceil(s.cin / WGRAD_WG), Math.ceil(s.cout / 4), 1];
      return [k.bind([u, dy, x, dw], checkGrid(gpu, grid, 'conv2d backward weight'), 'conv2d.backwardWeight.direct')];
    },
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
