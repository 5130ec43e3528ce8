// PyTorch's U-Net (python/softdiff_torch) against the engine's: the same initial weights for a seed
// (bit for bit), and the same forward pass phi(x_t, t) on the weights of an engine checkpoint, within
// float32 tolerance. The model has every layer kind (ResBlocks with and without skip convs, 2-head
// attention at 4 px and in the middle, down/upsampling, the time embedding).
import { beforeAll, describe, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { useGpu } from '../helpers/gpu.ts';
import { randn } from '../helpers/random.ts';
import { UNet } from '../../src/nn/unet.ts';
import { UNetGraph } from '../../src/nn/unet-graph.ts';
import { initialParameters } from '../../src/nn/plan.ts';
import { decodeCheckpointFile, stateForLayout } from '../../src/train/checkpoint-state.ts';
import { LEVEL_STRIDE } from '../../src/diffusion/types.ts';
import { checkTorch, writeEngineCheckpoint, maxDiff, runTorch, useTmp, writeTensors } from './helpers.ts';

const ctx = useGpu();
const tmp = useTmp();
let ckptPath: string;
let ckpt: ReturnType<typeof decodeCheckpointFile>;

beforeAll(async () => {
  checkTorch();
  ({ path: ckptPath, ckpt } = await writeEngineCheckpoint(ctx.gpu, tmp.dir));
});

describe('PyTorch U-Net vs the engine', () => {
  test('the same initial weights for a seed, bit for bit, named and ordered as the engine', () => {
    const cfg = ckpt.fields.options.model;
    const graph = new UNetGraph(cfg, { batch: 1, training: false }).graph;
    const flat = initialParameters(graph, 1234);
    const got = runTorch(tmp.dir, 'init', { config: cfg, seed: 1234 });
    const { order, shapes } = JSON.parse(readFileSync(join(tmp.dir, 'init-out.safetensors.order.json'), 'utf8')) as { order: string[]; shapes: Record<string, number[]> };
    expect(order).toEqual([...graph.params.entries.keys()]);
    expect(Object.entries(shapes)).toEqual([...graph.params.entries].map(([k, e]) => [k, e.shape]));
    for (const [name, e] of graph.params.entries) {
      const want = flat.subarray(e.offset, e.offset + e.shape.reduce((a, b) => a * b, 1));
      expect(maxDiff(got.get(name)!, want).abs, name).toBe(0);
    }
  });

  test('forward pass phi(x_t, t) matches within float32 tolerance', async () => {
    const { gpu } = ctx;
    const cfg = ckpt.fields.options.model;
    const n = 4;
    const dims = [n, cfg.inChannels, cfg.imageSize, cfg.imageSize];
    const x = Float32Array.from(randn(dims.reduce((a, b) => a * b, 1), 17, 0.5));
    // t spread over (0, 1], including the ends where the time features are largest
    const ts = [1e-5, 0.31, 0.77, 1];
    const levels = new Float32Array(n * LEVEL_STRIDE);
    ts.forEach((t, b) => (levels[b * LEVEL_STRIDE] = t));
    const net = await UNet.create(gpu, cfg, { batch: n, training: false });
    try {
      net.setParameters(stateForLayout(ckpt, net.plan.graph.params).flat.model);
      gpu.write(net.x, x);
      gpu.write(net.levels, levels);
      gpu.recorder('interop:forward').run(net.forwardDispatches).submit();
      const engine = await gpu.read(net.phi);
      const inputs = writeTensors(join(tmp.dir, 'forward-in.safetensors'), { x: { shape: dims, data: x }, levels: { shape: [n, LEVEL_STRIDE], data: levels } });
      const torch = runTorch(tmp.dir, 'forward', { checkpoint: ckptPath, inputs });
      const d32 = maxDiff(torch.get('phi32')!, engine);
      const d64 = maxDiff(torch.get('phi64')!, engine);
      console.log(`forward: |phi| max ${d32.scale.toExponential(3)}; max |torch f32 - engine| ${d32.abs.toExponential(3)}; max |torch f64 - engine| ${d64.abs.toExponential(3)}`);
      // float32 on both sides with different summation orders (and float64 on the torch side).
      // Tolerance: 1e-6 absolute + 1e-5 of the output's scale (measured: 6e-8 at scale 0.1).
      expect(d32.scale).toBeGreaterThan(1e-2); // a trained network, not the zero-initialised one
      expect(d32.abs).toBeLessThan(1e-6 + 1e-5 * d32.scale);
      expect(d64.abs).toBeLessThan(1e-6 + 1e-5 * d32.scale);
    } finally {
      net.destroy();
    }
  });
});
