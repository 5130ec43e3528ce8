// 'direct' (shaders/conv2d_direct.wgsl): implicit GEMM with register blocks, no workgroup memory or
// barriers, for CPU software adapters (lavapipe, SwiftShader). Every shape; the fallback of the
// algorithms that cover only some.
import type { Gpu } from '../../gpu/gpu.ts';
import type { Dispatch } from '../../gpu/kernel.ts';
import type { Conv2dAlgorithm } from './algorithm.ts';
import { checkGrid, conv2dOutSize, convParams, PASS_FLAGS, shapeConstants, type Conv2dShape } from './shape.ts';

const WG = 64;
const WGRAD_WG = 16;

/**
 * Pixels per invocation: runs of 8 where a row splits into them and the run's input span stays short
 * (unit step; measured ~1.25x faster than 4 on lavapipe), else 4. `rows` says whether the runs never
 * straddle two rows. `step` is the input stride between the run's pixels.
 */
function run(rowLength: number, step: number): { TM: number; rows: boolean } {
  const TM = rowLength % 8 === 0 && step === 1 ? 8 : 4;
  return { TM, rows: rowLength % TM === 0 };
}

export const direct: Conv2dAlgorithm = {
  name: 'direct',
  applies: () => true,
  scratchFloats: () => 0,

  async forward(gpu, { x, w, b, y }, s) {
    const { ho, wo } = conv2dOutSize(s);
    const u = gpu.uniform(convParams(s, { hasBias: !!b }), 'conv2d.forward:params');
    const { TM, rows: ROWS } = run(wo, s.stride);
    const k = await gpu.kernel({ shader: 'conv2d_direct', entry: 'forward', bindings: ['uniform', 'read', 'read', 'read', 'rw'], flags: { ...PASS_FLAGS.FORWARD, ROWS }, constants: { WG, TM, ...shapeConstants(s) } });
    const grid = [Math.ceil((s.n * ho * wo) / (TM * WG)), Math.ceil(s.cout / 4), 1];
    return [k.bind([u, x, w, b ?? w, y], checkGrid(gpu, grid, 'conv2d forward'), 'conv2d.forward.direct')];
  },

  async backwardInput(gpu: Gpu, { dy, w, dx }, s, accumulate) {
    const u = gpu.uniform(convParams(s, { accumulate }), 'conv2d.backwardInput:params');
    // One dispatch per input parity class (iy mod stride, ix mod stride): its taps are fixed.
    const out: Dispatch[] = [];
    for (let py = 0; py < Math.min(s.stride, s.h); py++)
      for (let px = 0; px < Math.min(s.stride, s.w); px++) {
        const classW = Math.ceil((s.w - px) / s.stride);
        const classRows = s.n * Math.ceil((s.h - py) / s.stride) * classW;
        const { TM, rows: ROWS } = run(classW, 1);
        const flags = { ...PASS_FLAGS.DGRAD, ROWS };
        const constants = { WG, TM, ...shapeConstants(s), PY: py, PX: px };
        const k = await gpu.kernel({ shader: 'conv2d_direct', entry: 'backward_input', bindings: ['uniform', 'read', 'read', 'rw'], flags, constants });
        const grid = [Math.ceil(classRows / (TM * WG)), Math.ceil(s.cin / 4), 1];
        out.push(k.bind([u, dy, w, dx], checkGrid(gpu, grid, 'conv2d backward input'), `conv2d.backwardInput.direct[${py},${px}]`));
      }
    return out;
  },

  async backwardWeight(gpu: Gpu, { x, dy, dw }, s: Conv2dShape) {
    const k = await gpu.kernel({ shader: 'conv2d_direct', entry: 'backward_weight', bindings: ['uniform', 'read', 'read', 'rw'], flags: { ...PASS_FLAGS.WGRAD, ROWS: false }, constants: { WG: WGRAD_WG, ...shapeConstants(s) } });
    const u = gpu.uniform(convParams(s), 'conv2d.backwardWeight:params');
    const grid = [Math.ceil(s.cin / WGRAD_WG), Math.ceil(s.cout / 4), 1];
    return [k.bind([u, dy, x, dw], checkGrid(gpu, grid, 'conv2d backward weight'), 'conv2d.backwardWeight.direct')];
  },
};
