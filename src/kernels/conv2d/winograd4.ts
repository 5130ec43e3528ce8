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
import type { Conv2dAlgorithm } from './algorithm.ts';
import { checkGrid, conv2dOutSize, type Conv2dShape } from './shape.ts';

const WG = 64;
/** Output tile side and the 6 x 6 = 36 transformed products per tile. */
const TILE = 4;
const Q = 36;
const NO_ENTRY = { WEIGHT: false, INPUT: false, OUTPUT: false, GRADOUT: false, WGRADT: false } as const;

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

function kernel(gpu: Gpu, entry: string, flag: keyof typeof NO_ENTRY, flip: boolean, reads: number) {
  const bindings = ['uniform', ...Array<'read'>(reads).fill('read'), 'rw'] as const;
  return gpu.kernel({ shader: 'conv2d_winograd4', entry, bindings, flags: { ...NO_ENTRY, FLIP: flip, [flag]: true }, constants: { WG } });
}

const grid = (gpu: Gpu, count: number, what: string) => checkGrid(gpu, grid1d(count, WG), `conv2d winograd4 ${what}`);

/** out (+)= conv3x3(inp, kernel) (+ bias): transform, 36 batched matmuls, transform back. */
async function convolve(gpu: Gpu, g: Problem, t: { inp: Tensor; wt: Tensor; bias: Tensor | null; out: Tensor }, pass: string): Promise<Dispatch[]> {
  const { u, T } = problemParams(gpu, g, !!t.bias, `conv2d.${pass}.winograd4:params`);
  const U = gpu.scratch('wino4U', [Q, g.oc, g.ic]);
  const V = gpu.scratch('wino4V', [Q, g.ic, T]);
  const M = gpu.scratch('wino4M', [Q, g.oc, T]);
  return [
    (await kernel(gpu, 'weight_transform', 'WEIGHT', g.flip, 1)).bind([u, t.wt, U], grid(gpu, g.oc * g.ic, 'weight transform'), `conv2d.${pass}.winograd4.weight`),
    (await kernel(gpu, 'input_transform', 'INPUT', g.flip, 1)).bind([u, t.inp, V], grid(gpu, g.ic * T, 'input transform'), `conv2d.${pass}.winograd4.input`),
    ...(await matmul(gpu, U, V, M)),
    (await kernel(gpu, 'output_transform', 'OUTPUT', g.flip, 2)).bind([u, M, t.bias ?? t.wt, t.out], grid(gpu, g.oc * T, 'output transform'), `conv2d.${pass}.winograd4.output`),
  ];
}

/** Tiles of one pass's largest grid (input or output side), for the scratch size. */
const tiles = (s: Conv2dShape) => {
  const { ho, wo } = conv2dOutSize(s);
  return s.n * Math.ceil(Math.max(s.h, ho) / TILE) * Math.ceil(Math.max(s.w, wo) / TILE);
};

export const winograd4: Conv2dAlgorithm = {
  name: 'winograd4',
  /** 3x3 stride-1 convolutions with a padding that the input gradient's mirrored padding (2 - pad) keeps non-negative. */
  applies: (s) => s.k === 3 && s.stride === 1 && s.pad <= 2,
  scratchFloats: (s) => Q * Math.max(s.cin, s.cout) * tiles(s),

  forward(gpu, { x, w, b, y }, s) {
    const { ho, wo } = conv2dOutSize(s);
    return convolve(gpu, { n: s.n, ic: s.cin, oc: s.cout, h: s.h, w: s.w, ho, wo, pad: s.pad, flip: false, accumulate: false }, { inp: x, wt: w, bias: b, out: y }, 'forward');
  },

  backwardInput(gpu, { dy, w, dx }, s, accumulate) {
    const { ho, wo } = conv2dOutSize(s);
    return convolve(gpu, { n: s.n, ic: s.cout, oc: s.cin, h: ho, w: wo, ho: s.h, wo: s.w, pad: 2 - s.pad, flip: true, accumulate }, { inp: dy, wt: w, bias: null, out: dx }, 'backwardInput');
  },

  /** Transform x and dy per tile, 36 batched matmuls that sum over the tiles, transform back (overwrites dw). */
  async backwardWeight(gpu, { x, dy, dw }, s: Conv2dShape) {
    const { ho, wo } = conv2dOutSize(s);
    const g: Problem = { n: s.n, ic: s.cin, oc: s.cout, h: s.h, w: s.w, ho, wo, pad: s.pad, flip: false, accumulate: false };
    const { u, T } = problemParams(gpu, g, false, 'conv2d.backwardWeight.winograd4:params');
    const V = gpu.scratch('wino4V', [Q, g.ic, T]);
    const D = gpu.scratch('wino4M', [Q, g.oc, T]);
    const dU = gpu.scratch('wino4U', [Q, g.oc, g.ic]);
    return [
      (await kernel(gpu, 'input_transform', 'INPUT', false, 1)).bind([u, x, V], grid(gpu, g.ic * T, 'input transform'), 'conv2d.backwardWeight.winograd4.input'),
      (await kernel(gpu, 'grad_output_transform', 'GRADOUT', false, 1)).bind([u, dy, D], grid(gpu, g.oc * T, 'gradient transform'), 'conv2d.backwardWeight.winograd4.gradOutput'),
      ...(await matmul(gpu, D, V, dU, { transB: true })),
      (await kernel(gpu, 'weight_grad_transform', 'WGRADT', false, 1)).bind([u, dU, dw], grid(gpu, g.oc * g.ic, 'weight transform'), 'conv2d.backwardWeight.winograd4.weight'),
    ];
  },
};
