// 'winograd' (shaders/conv2d_winograd.wgsl + src/kernels/matmul.ts): F(2x2, 3x3) for 3x3 stride-1
// convolutions, all three passes: 2.25x fewer multiply-adds than any direct form, and a software
// adapter is bound by its arithmetic (1.5-2.5x faster than 'direct' on lavapipe at most U-Net
// shapes). The input gradient is the convolution of dy with the flipped, channel-swapped kernel,
// padded by 2 - pad. Transformed tiles live in the device's shared scratch (roles winoU/V/M).
import type { Gpu } from '../../gpu/gpu.ts';
import { grid1d, Params, type Dispatch } from '../../gpu/kernel.ts';
import type { Tensor } from '../../gpu/tensor.ts';
import { matmul } from '../matmul.ts';
import type { AlgorithmOptions, Conv2dAlgorithm } from './algorithm.ts';
import { checkGrid, conv2dOutSize, type Conv2dShape } from './shape.ts';

const WG = 64;
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
  const ty = Math.ceil(g.ho / 2);
  const tx = Math.ceil(g.wo / 2);
  const u = gpu.uniform(new Params().u32(g.n, g.ic, g.oc, g.h, g.w, g.ho, g.wo).i32(g.pad).u32(ty, tx, g.accumulate ? 1 : 0, hasBias ? 1 : 0), label);
  return { u, T: g.n * ty * tx };
}

function kernel(gpu: Gpu, entry: string, flag: keyof typeof NO_ENTRY, flip: boolean, reads: number) {
  const bindings = ['uniform', ...Array<'read'>(reads).fill('read'), 'rw'] as const;
  return gpu.kernel({ shader: 'conv2d_winograd', entry, bindings, flags: { ...NO_ENTRY, FLIP: flip, [flag]: true }, constants: { WG } });
}

const grid = (gpu: Gpu, count: number, what: string) => checkGrid(gpu, grid1d(count, WG), `conv2d winograd ${what}`);

/** out (+)= conv3x3(inp, kernel) (+ bias): transform, 16 batched matmuls, transform back. */
async function convolve(gpu: Gpu, g: Problem, t: { inp: Tensor; wt: Tensor; bias: Tensor | null; out: Tensor }, pass: string, o: AlgorithmOptions): Promise<Dispatch[]> {
  const { u, T } = problemParams(gpu, g, !!t.bias, `conv2d.${pass}.winograd:params`);
  const U = gpu.scratch('winoU', [16, g.oc, g.ic]);
  const V = gpu.scratch('winoV', [16, g.ic, T]);
  const M = gpu.scratch('winoM', [16, g.oc, T]);
  return [
    (await kernel(gpu, 'weight_transform', 'WEIGHT', g.flip, 1)).bind([u, t.wt, U], grid(gpu, g.oc * g.ic, 'weight transform'), `conv2d.${pass}.winograd.weight`),
    (await kernel(gpu, 'input_transform', 'INPUT', g.flip, 1)).bind([u, t.inp, V], grid(gpu, g.ic * T, 'input transform'), `conv2d.${pass}.winograd.input`),
    ...(await matmul(gpu, U, V, M, { variant: o.matmul })),
    (await kernel(gpu, 'output_transform', 'OUTPUT', g.flip, 2)).bind([u, M, t.bias ?? t.wt, t.out], grid(gpu, g.oc * T, 'output transform'), `conv2d.${pass}.winograd.output`),
  ];
}

export const winograd: Conv2dAlgorithm = {
  name: 'winograd',
  /** 3x3 stride-1 convolutions with a padding that the input gradient's mirrored padding (2 - pad) keeps non-negative. */
  applies: (s) => s.k === 3 && s.stride === 1 && s.pad <= 2,
  scratchFloats(s) {
    const { ho, wo } = conv2dOutSize(s);
    return 16 * Math.max(s.cin, s.cout) * s.n * Math.ceil(Math.max(s.h, ho) / 2) * Math.ceil(Math.max(s.w, wo) / 2);
  },

  forward(gpu, { x, w, b, y }, s, o = {}) {
    const { ho, wo } = conv2dOutSize(s);
    return convolve(gpu, { n: s.n, ic: s.cin, oc: s.cout, h: s.h, w: s.w, ho, wo, pad: s.pad, flip: false, accumulate: false }, { inp: x, wt: w, bias: b, out: y }, 'forward', o);
  },

  backwardInput(gpu, { dy, w, dx }, s, accumulate, o = {}) {
    const { ho, wo } = conv2dOutSize(s);
    return convolve(gpu, { n: s.n, ic: s.cout, oc: s.cin, h: ho, w: wo, ho: s.h, wo: s.w, pad: 2 - s.pad, flip: true, accumulate }, { inp: dy, wt: w, bias: null, out: dx }, 'backwardInput', o);
  },

  /** Transform x and dy per tile, 16 batched matmuls that sum over the tiles, transform back (overwrites dw). */
  async backwardWeight(gpu, { x, dy, dw }, s: Conv2dShape, o = {}) {
    const { ho, wo } = conv2dOutSize(s);
    const g: Problem = { n: s.n, ic: s.cin, oc: s.cout, h: s.h, w: s.w, ho, wo, pad: s.pad, flip: false, accumulate: false };
    const { u, T } = problemParams(gpu, g, false, 'conv2d.backwardWeight.winograd:params');
    // V stays [16, ic, T] and is read transposed: storing it [16, T, ic] for vec4 reads scatters the
    // transform's stores, measured 0-20% slower overall on lavapipe.
    const V = gpu.scratch('winoV', [16, g.ic, T]);
    const D = gpu.scratch('winoM', [16, g.oc, T]);
    const dU = gpu.scratch('winoU', [16, g.oc, g.ic]);
    return [
      (await kernel(gpu, 'input_transform', 'INPUT', false, 1)).bind([u, x, V], grid(gpu, g.ic * T, 'input transform'), 'conv2d.backwardWeight.winograd.input'),
      (await kernel(gpu, 'grad_output_transform', 'GRADOUT', false, 1)).bind([u, dy, D], grid(gpu, g.oc * T, 'gradient transform'), 'conv2d.backwardWeight.winograd.gradOutput'),
      ...(await matmul(gpu, D, V, dU, { transB: true, variant: o.matmul })),
      (await kernel(gpu, 'weight_grad_transform', 'WGRADT', false, 1)).bind([u, dU, dw], grid(gpu, g.oc * g.ic, 'weight transform'), 'conv2d.backwardWeight.winograd.weight'),
    ];
  },
};
