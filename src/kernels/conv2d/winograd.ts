// The Winograd algorithms for 3x3 stride-1 convolutions, all three passes, in one planner
// parametrised by the output tile (src/kernels/matmul.ts does the products):
//   'winograd'  F(2x2, 3x3), shaders/conv2d_winograd.wgsl:  4 x 4 = 16 products per 2x2 output tile,
//               2.25x fewer multiply-adds than any direct form (a software adapter is bound by its
//               arithmetic: 1.5-2.5x faster than 'direct' on lavapipe at most U-Net shapes);
//   'winograd4' F(4x4, 3x3), shaders/conv2d_winograd4.wgsl: 6 x 6 = 36 products per 4x4 output tile,
//               so its batched matmuls do 1.78x fewer multiply-adds than F(2x2)'s and its transformed
//               tiles are 1.78x smaller; its transforms cost more per tile and its float32 rounding is
//               a few times larger (the tests bound it).
// The input gradient is the convolution of dy with the flipped, channel-swapped kernel, padded by
// 2 - pad. Transformed tiles live in the device's shared scratch, each algorithm under its own roles
// (U: weights, V: input, M: products). A pass is three dispatches: both transforms before the product
// in one, the batched matmul, the transform back (which adds the forward's epilogue: per-sample
// channel bias and residual). The two shaders share entry points, bindings and flags.
import type { Gpu } from '../../gpu/gpu.ts';
import { grid1d, Params, type Dispatch } from '../../gpu/kernel.ts';
import type { Tensor } from '../../gpu/tensor.ts';
import { matmul } from '../matmul.ts';
import type { AlgorithmOptions, Conv2dAlgorithm, NormPrologue } from './algorithm.ts';
import { checkGrid, conv2dOutSize, type Conv2dShape } from './shape.ts';

const WG = 64;
const NO_ENTRY = { PREPARE: false, PREPARE_WGRAD: false, WEIGHT: false, INPUT: false, OUTPUT: false, GRADOUT: false, WGRADT: false } as const;
const ENTRY_FLAGS = {
  prepare: { PREPARE: true, WEIGHT: true, INPUT: true },
  prepare_wgrad: { PREPARE_WGRAD: true, INPUT: true, GRADOUT: true },
  output_transform: { OUTPUT: true },
  weight_grad_transform: { WGRADT: true },
} as const;
type Entry = keyof typeof ENTRY_FLAGS;

/** What tells one Winograd algorithm from the other. */
interface WinogradKind {
  name: 'winograd' | 'winograd4';
  shader: string;
  /** Output tile side m of F(m x m, 3x3); (m + 2)^2 transformed products per tile. */
  tile: number;
  /** Shared-scratch roles of the transformed weights, input and products. */
  roles: { U: string; V: string; M: string };
}

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

function winogradAlgorithm(kind: WinogradKind): Conv2dAlgorithm {
  const { name, tile } = kind;
  const Q = (tile + 2) * (tile + 2);
  const scratch = (gpu: Gpu, role: keyof WinogradKind['roles'], rows: number, cols: number) => gpu.scratch(kind.roles[role], [Q, rows, cols]);

  function problemParams(gpu: Gpu, g: Problem, hasBias: boolean, label: string): { u: GPUBuffer; T: number } {
    const ty = Math.ceil(g.ho / tile);
    const tx = Math.ceil(g.wo / tile);
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
      shader: kind.shader,
      entry,
      bindings,
      flags: { ...NO_ENTRY, ...ENTRY_FLAGS[entry], FLIP: !!flags.flip, CHANNEL_BIAS: !!flags.channelBias, RESIDUAL: !!flags.residual, NORM: !!flags.norm, NORM_SILU: !!flags.norm?.silu },
      constants: { WG },
    });
  }

  const grid = (gpu: Gpu, count: number, what: string) => checkGrid(gpu, grid1d(count, WG), `conv2d ${name} ${what}`);

  /** out (+)= conv3x3(inp, kernel) (+ bias, + per-sample channel bias, + residual): transform the
   *  weights and the input (one dispatch), Q batched matmuls, transform back. */
  async function convolve(gpu: Gpu, g: Problem, t: { inp: Tensor; wt: Tensor; bias: Tensor | null; out: Tensor; channelBias?: Tensor | null; residual?: Tensor | null; norm?: NormPrologue | null }, pass: string, o: AlgorithmOptions): Promise<Dispatch[]> {
    const { u, T } = problemParams(gpu, g, !!t.bias, `conv2d.${pass}.${name}:params`);
    const U = scratch(gpu, 'U', g.oc, g.ic);
    const V = scratch(gpu, 'V', g.ic, T);
    const M = scratch(gpu, 'M', g.oc, T);
    const epilogue = { channelBias: !!t.channelBias, residual: !!t.residual };
    // Unused epilogue bindings get a read-only stand-in (M).
    const extra = epilogue.channelBias || epilogue.residual ? [t.channelBias ?? M, t.residual ?? M] : [];
    return [
      (await kernel(gpu, 'prepare', { flip: g.flip, norm: t.norm })).bind([u, t.wt, U, t.inp, V, ...(t.norm ? [t.norm.coef] : [])], grid(gpu, g.ic * T + g.oc * g.ic, 'weight and input transforms'), `conv2d.${pass}.${name}.prepare`),
      ...(await matmul(gpu, U, V, M, { variant: o.matmul })),
      (await kernel(gpu, 'output_transform', { flip: g.flip, ...epilogue })).bind([u, M, t.bias ?? t.wt, t.out, ...extra], grid(gpu, g.oc * T, 'output transform'), `conv2d.${pass}.${name}.output`),
    ];
  }

  /** Tiles of one pass's largest grid (input or output side), for the scratch size. */
  const tiles = (s: Conv2dShape) => {
    const { ho, wo } = conv2dOutSize(s);
    return s.n * Math.ceil(Math.max(s.h, ho) / tile) * Math.ceil(Math.max(s.w, wo) / tile);
  };

  return {
    name,
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

    /** Transform x and dy per tile (one dispatch), Q batched matmuls that sum over the tiles, transform back (overwrites dw). */
    async backwardWeight(gpu, { x, dy, dw, norm }, s: Conv2dShape, o = {}) {
      const { ho, wo } = conv2dOutSize(s);
      const g: Problem = { n: s.n, ic: s.cin, oc: s.cout, h: s.h, w: s.w, ho, wo, pad: s.pad, flip: false, accumulate: false };
      const { u, T } = problemParams(gpu, g, false, `conv2d.backwardWeight.${name}:params`);
      // V stays [Q, ic, T] and is read transposed: storing it [Q, T, ic] for vec4 reads scatters the
      // transform's stores, measured 0-20% slower overall on lavapipe (F(2x2)).
      const V = scratch(gpu, 'V', g.ic, T);
      const D = scratch(gpu, 'M', g.oc, T);
      const dU = scratch(gpu, 'U', g.oc, g.ic);
      return [
        (await kernel(gpu, 'prepare_wgrad', { norm })).bind([u, x, V, dy, D, ...(norm ? [norm.coef] : [])], grid(gpu, g.ic * T + g.oc * T, 'input and gradient transforms'), `conv2d.backwardWeight.${name}.prepare`),
        ...(await matmul(gpu, D, V, dU, { transB: true, variant: o.matmul })),
        (await kernel(gpu, 'weight_grad_transform')).bind([u, dU, dw], grid(gpu, g.oc * g.ic, 'weight transform'), `conv2d.backwardWeight.${name}.weight`),
      ];
    },
  };
}

export const winograd = winogradAlgorithm({ name: 'winograd', shader: 'conv2d_winograd', tile: 2, roles: { U: 'winoU', V: 'winoV', M: 'winoM' } });
export const winograd4 = winogradAlgorithm({ name: 'winograd4', shader: 'conv2d_winograd4', tile: 4, roles: { U: 'wino4U', V: 'wino4V', M: 'wino4M' } });
