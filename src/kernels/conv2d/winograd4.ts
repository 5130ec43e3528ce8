// 'winograd4' (shaders/conv2d_winograd4.wgsl + src/kernels/matmul.ts): F(4x4, 3x3) for 3x3 stride-1
// convolutions, all three passes. Against F(2x2, 3x3) ('winograd', winograd.ts) its batched matmuls
// do 1.78x fewer multiply-adds (36 products per 4x4 output tile against 16 per 2x2) and its
// transformed tiles are 1.78x smaller; its transforms cost more per tile and its float32 rounding is a
// few times larger (the tests bound it). The input gradient is the convolution of dy with the
// flipped, channel-swapped kernel, padded by 2 - pad. Transformed tiles live in the device's shared
// scratch (roles wino4U/V/M).
import type { Gpu } from '../../gpu/gpu.ts';
import { grid1d, Params, type Dispatch } from '../../gpu/kernel.ts';
import type { Tensor } from '../../gpu/tensor.ts';
import { matmul } from '../matmul.ts';
import type { AlgorithmOptions, Conv2dAlgorithm, NormPrologue } from './algorithm.ts';
import { checkGrid, conv2dOutSize, type Conv2dShape } from './shape.ts';

const WG = 64;
/** Output tile side and the 6 x 6 = 36 transformed products per tile. */
const TILE = 4;
const Q = 36;
const NO_ENTRY = { PREPARE: false, PREPARE_WGRAD: false, WEIGHT: false, INPUT: false, OUTPUT: false, GRADOUT: false, WGRADT: false } as const;
const ENTRY_FLAGS = {
  prepare: { PREPARE: true, WEIGHT: true, INPUT: true },
  prepare_wgrad: { PREPARE_WGRAD: true, INPUT: true, GRADOUT: true },
  output_transform: { OUTPUT: true },
  weight_grad_transform: { WGRADT: true },
} as const;
type Entry = keyof typeof ENTRY_FLAGS;

/** One Winograd problem: ic input channels of h x w, oc output channels of ho x wo. */
interface Problem {
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

function problemParams(gpu: Gpu, g: Problem, hasBias: boolean, label: string): { u: GPUBuffer; T: number } {
  const ty = Math.ceil(g.ho / TILE);
  const tx = Math.ceil(g.wo / TILE);
  const u = gpu.uniform(new Params().u32(g.n, g.ic, g.oc, g.h, g.w, g.ho, g.wo).i32(g.pad).u32(ty, tx, g.accumulate ? 1 : 0, hasBias ? 1 : 0), label);
  return { u, T: g.n * ty * tx };
}

/** The pipeline of `entry`: its bindings are params, then `reads` read-only tensors and one written one
 *  (prepare and prepare_wgrad: read, written, read, written). */
function kernel(gpu: Gpu, entry: Entry, flags: { flip?: boolean; channelBias?: boolean; residual?: boolean; norm?: NormPrologue | null } = {}) {
  const bindings =
    entry === 'prepare' || entry === 'prepare_wgrad'
      ? (['uniform', 'read', 'rw', 'read', 'rw', ...(flags.norm ? (['read'] as const) : [])] as const)
      : entry === 'output_transform'
        ? (['uniform', 'read', 'read', 'rw', ...(flags.channelBias || flags.residual ? (['read', 'read'] as const) : [])] as const)
        : (['uniform', 'read', 'rw'] as const);
  return gpu.kernel({
    shader: 'conv2d_winograd4',
    entry,
    bindings,
    flags: { ...NO_ENTRY, ...ENTRY_FLAGS[entry], FLIP: !!flags.flip, CHANNEL_BIAS: !!flags.channelBias, RESIDUAL: !!flags.residual, NORM: !!flags.norm, NORM_SILU: !!flags.norm?.silu },
    constants: { WG },
  });
}

const grid = (gpu: Gpu, count: number, what: string) => checkGrid(gpu, grid1d(count, WG), `conv2d winograd4 ${what}`);

/** out (+)= conv3x3(inp, kernel) (+ bias, + per-sample channel bias, + residual): transform the
 *  weights and the input (one dispatch), 36 batched matmuls, transform back. */
async function convolve(gpu: Gpu, g: Problem, t: { inp: Tensor; wt: Tensor; bias: Tensor | null; out: Tensor; channelBias?: Tensor | null; residual?: Tensor | null; norm?: NormPrologue | null }, pass: string, o: AlgorithmOptions): Promise<Dispatch[]> {
  const { u, T } = problemParams(gpu, g, !!t.bias, `conv2d.${pass}.winograd4:params`);
  const U = gpu.scratch('wino4U', [Q, g.oc, g.ic]);
  const V = gpu.scratch('wino4V', [Q, g.ic, T]);
  const M = gpu.scratch('wino4M', [Q, g.oc, T]);
  const epilogue = { channelBias: !!t.channelBias, residual: !!t.residual };
  // Unused epilogue bindings get a read-only stand-in (M).
  const extra = epilogue.channelBias || epilogue.residual ? [t.channelBias ?? M, t.residual ?? M] : [];
  return [
    (await kernel(gpu, 'prepare', { flip: g.flip, norm: t.norm })).bind([u, t.wt, U, t.inp, V, ...(t.norm ? [t.norm.coef] : [])], grid(gpu, g.ic * T + g.oc * g.ic, 'weight and input transforms'), `conv2d.${pass}.winograd4.prepare`),
    ...(await matmul(gpu, U, V, M, { variant: o.matmul })),
    (await kernel(gpu, 'output_transform', { flip: g.flip, ...epilogue })).bind([u, M, t.bias ?? t.wt, t.out, ...extra], grid(gpu, g.oc * T, 'output transform'), `conv2d.${pass}.winograd4.output`),
  ];
}

/** Tiles of one pass's largest grid (input or output side), for the scratch size. */
const tiles = (s: Conv2dShape) => {
  const { ho, wo } = conv2dOutSize(s);
  return s.n * Math.ceil(Math.max(s.h, ho) / TILE) * Math.ceil(Math.max(s.w, wo) / TILE);
};

export const winograd4: Conv2dAlgorithm = {
  name: 'winograd4',
  epilogue: true,
  prologue: true,
  /** 3x3 stride-1 convolutions with a padding that the input gradient's mirrored padding (2 - pad) keeps non-negative. */
  applies: (s) => s.k === 3 && s.stride === 1 && s.pad <= 2,
  scratchFloats: (s) => Q * Math.max(s.cin, s.cout) * tiles(s),

  forward(gpu, { x, w, b, y, channelBias, residual, norm }, s, o = {}) {
    const { ho, wo } = conv2dOutSize(s);
    return convolve(gpu, { n: s.n, ic: s.cin, oc: s.cout, h: s.h, w: s.w, ho, wo, pad: s.pad, flip: false, accumulate: false }, { inp: x, wt: w, bias: b, out: y, channelBias, residual, norm }, 'forward', o);
  },

  backwardInput(gpu, { dy, w, dx }, s, accumulate, o = {}) {
    const { ho, wo } = conv2dOutSize(s);
    return convolve(gpu, { n: s.n, ic: s.cout, oc: s.cin, h: ho, w: wo, ho: s.h, wo: s.w, pad: 2 - s.pad, flip: true, accumulate }, { inp: dy, wt: w, bias: null, out: dx }, 'backwardInput', o);
  },

  /** Transform x and dy per tile (one dispatch), 36 batched matmuls that sum over the tiles, transform back (overwrites dw). */
  async backwardWeight(gpu, { x, dy, dw, norm }, s: Conv2dShape, o = {}) {
    const { ho, wo } = conv2dOutSize(s);
    const g: Problem = { n: s.n, ic: s.cin, oc: s.cout, h: s.h, w: s.w, ho, wo, pad: s.pad, flip: false, accumulate: false };
    const { u, T } = problemParams(gpu, g, false, 'conv2d.backwardWeight.winograd4:params');
    const V = gpu.scratch('wino4V', [Q, g.ic, T]);
    const D = gpu.scratch('wino4M', [Q, g.oc, T]);
    const dU = gpu.scratch('wino4U', [Q, g.oc, g.ic]);
    return [
      (await kernel(gpu, 'prepare_wgrad', { norm })).bind([u, x, V, dy, D, ...(norm ? [norm.coef] : [])], grid(gpu, g.ic * T + g.oc * T, 'input and gradient transforms'), 'conv2d.backwardWeight.winograd4.prepare'),
      ...(await matmul(gpu, D, V, dU, { transB: true, variant: o.matmul })),
      (await kernel(gpu, 'weight_grad_transform')).bind([u, dU, dw], grid(gpu, g.oc * g.ic, 'weight transform'), 'conv2d.backwardWeight.winograd4.weight'),
    ];
  },
};
