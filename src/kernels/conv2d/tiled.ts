// 'tiled' (shaders/conv2d_tiled.wgsl): implicit GEMM with 64x64 workgroup-memory tiles, for GPUs; the
// weight gradient splits K (the n * ho * wo sum) over workgroups and sums the parts.
import type { Conv2dAlgorithm } from './algorithm.ts';
import { checkGrid, conv2dOutSize, convParams, PASS_FLAGS, roundUp } from './shape.ts';
import { sumParts } from './reduce.ts';

const TILE = 64;
const TILE_K = 16;

export const tiled: Conv2dAlgorithm = {
  name: 'tiled',
  applies: () => true,
  scratchFloats: () => 0,

  async forward(gpu, { x, w, b, y }, s) {
    const { ho, wo } = conv2dOutSize(s);
    const u = gpu.uniform(convParams(s, { hasBias: !!b, kchunk: roundUp(s.cin * s.k * s.k, TILE_K) }), 'conv2d.forward:params');
    const k = await gpu.kernel({ shader: 'conv2d_tiled', entry: 'gemm', bindings: ['uniform', 'read', 'read', 'read', 'rw'], flags: PASS_FLAGS.FORWARD });
    return [k.bind([u, x, w, b ?? w, y], checkGrid(gpu, [Math.ceil(s.cout / TILE), Math.ceil((s.n * ho * wo) / TILE), 1], 'conv2d forward'), 'conv2d.forward.tiled')];
  },

  async backwardInput(gpu, { dy, w, dx }, s, accumulate) {
    const k = await gpu.kernel({ shader: 'conv2d_tiled', entry: 'gemm', bindings: ['uniform', 'read', 'read', 'rw'], flags: PASS_FLAGS.DGRAD });
    const u = gpu.uniform(convParams(s, { accumulate, kchunk: roundUp(s.cout * s.k * s.k, TILE_K) }), 'conv2d.backwardInput:params');
    const grid = [Math.ceil(s.cin / TILE), Math.ceil((s.n * s.h * s.w) / TILE), 1];
    return [k.bind([u, dy, w, dx], checkGrid(gpu, grid, 'conv2d backward input'), 'conv2d.backwardInput.tiled')];
  },

  async backwardWeight(gpu, { x, dy, dw }, s) {
    const { ho, wo } = conv2dOutSize(s);
    const k = await gpu.kernel({ shader: 'conv2d_tiled', entry: 'gemm', bindings: ['uniform', 'read', 'read', 'rw'], flags: PASS_FLAGS.WGRAD });
    const len = s.cout * s.cin * s.k * s.k;
    const kTotal = s.n * ho * wo;
    const tiles = Math.ceil(s.cout / TILE) * Math.ceil((s.cin * s.k * s.k) / TILE);
    // Split K until there are enough workgroups to fill a GPU, keeping each split at least 8 K tiles.
    const splits = Math.max(1, Math.min(Math.ceil(128 / tiles), Math.floor(kTotal / (8 * TILE_K))));
    const kchunk = roundUp(Math.ceil(kTotal / splits), TILE_K);
    const used = Math.ceil(kTotal / kchunk);
    const u = gpu.uniform(convParams(s, { splits: used, kchunk }), 'conv2d.backwardWeight:params');
    const grid = checkGrid(gpu, [Math.ceil((s.cin * s.k * s.k) / TILE), Math.ceil(s.cout / TILE), used], 'conv2d backward weight');
    if (used === 1) return [k.bind([u, dy, x, dw], grid, 'conv2d.backwardWeight.tiled')];
    const part = gpu.tensor([used, len], 'conv2d.backwardWeight:splits');
    return [k.bind([u, dy, x, part], grid, 'conv2d.backwardWeight.tiled'), await sumParts(gpu, part, dw, used, len, 'conv2d.sumSplits')];
  },
};
