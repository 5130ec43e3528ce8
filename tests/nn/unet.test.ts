// The U-Net as a whole: parameter count of the workload, config validation, the memory plan
// and its limit errors, forward and gradients of a tiny network against the float64 reference U-Net
// (central finite differences), the zero-initialised output, and the safetensors round trip.
import { describe, expect, test } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { expectClose, relError } from '../helpers/expect-close.ts';
import { randn, randu } from '../helpers/random.ts';
import { PRESETS, unetConfig, type UNetConfig } from '../../src/nn/config.ts';
import { UNetGraph } from '../../src/nn/unet-graph.ts';
import { UNet } from '../../src/nn/unet.ts';
import { checkLimits, initialParameters, memoryPlan, type Graph, type KernelVariants } from '../../src/nn/plan.ts';
import { decodeUNetWeights, encodeUNetWeights, loadUNetWeights, saveUNetWeights } from '../../src/nn/weights.ts';
import { LimitError, ValueError, CheckpointError } from '../../src/gpu/errors.ts';
import { unetRef } from '../reference/unet.ts';

const ctx = useGpu();

/** Width 4, two levels, groups 2: every layer kind, small enough for float64 finite differences. */
const tiny: UNetConfig = unetConfig('bench', {
  inChannels: 2,
  imageSize: 8,
  baseChannels: 4,
  channelMults: [1, 2],
  numResBlocks: 1,
  groups: 2,
  timeFeatures: 8,
  timeEmbedDim: 8,
});
/** The same with self-attention at 4 px (2 heads) and in the middle. */
const tinyAttention: UNetConfig = { ...tiny, attentionResolutions: [4], midAttention: true, attentionHeads: 2 };
const N = 2;

describe('U-Net configuration and plan (no GPU)', () => {
  test('the bench preset is the issue workload: 699,811 parameters', () => {
    expect(new UNetGraph(PRESETS.bench, { batch: 8 }).parameterCount).toBe(699_811);
  });

  test('presets validate and have the documented sizes', () => {
    const counts = Object.fromEntries(Object.keys(PRESETS).map((k) => [k, new UNetGraph(unetConfig(k as keyof typeof PRESETS), { batch: 1 }).parameterCount]));
    expect(counts.mnist).toBeGreaterThan(100_000);
    expect(counts.mnist).toBeLessThan(250_000);
    expect(counts.rgb32).toBeGreaterThan(counts.bench!);
    expect(counts.rgb64).toBeGreaterThan(counts.rgb32!);
  });

  test('invalid configs name the setting', () => {
    expect(() => unetConfig('bench', { groups: 7 })).toThrow(/groups \(7\) does not divide the 32 channels/);
    expect(() => unetConfig('bench', { imageSize: 28, channelMults: [1, 2, 2, 2] })).toThrow(/imageSize 28 is not divisible by 2\^\(levels-1\) = 8/);
    expect(() => unetConfig('bench', { attentionResolutions: [12] })).toThrow(/attentionResolutions contains 12/);
    expect(() => unetConfig('bench', { timeFeatures: 63 })).toThrow(ValueError);
    expect(() => unetConfig('bench', { channelMults: [] })).toThrow(/channelMults/);
    expect(() => unetConfig('bench', { baseChannels: 0 })).toThrow(/baseChannels must be a positive integer/);
    // 28 px works with three levels (28 -> 14 -> 7).
    expect(new UNetGraph(unetConfig('mnist', { imageSize: 28 }), { batch: 2 }).graph.shape('phi')).toEqual([2, 1, 28, 28]);
  });

  test('memory plan: bytes by category add up, activations scale with the batch', () => {
    const g8 = new UNetGraph(PRESETS.bench, { batch: 8 });
    const m8 = memoryPlan(g8.graph);
    const flat = g8.graph.params.size * 4;
    expect(flat).toBeGreaterThanOrEqual(699_811 * 4);
    expect(flat).toBeLessThan(699_811 * 4 + 64 * 4 * g8.graph.params.entries.size); // alignment padding only
    expect(m8.bytes.parameters).toBe(flat);
    expect(m8.bytes.gradients).toBe(flat);
    expect(m8.bytes.adam).toBe(2 * flat);
    expect(m8.bytes.ema).toBe(flat);
    expect(m8.bytes.io).toBe((8 * 3 * 32 * 32 + 8 * 4) * 4);
    expect(m8.total).toBe(Object.values(m8.bytes).reduce((a, b) => a + b, 0));
    const m16 = memoryPlan(new UNetGraph(PRESETS.bench, { batch: 16 }).graph);
    expect(m16.bytes.activations).toBe(2 * m8.bytes.activations);
    const inference = memoryPlan(new UNetGraph(PRESETS.bench, { batch: 8, training: false }).graph);
    expect(inference.bytes.gradients + inference.bytes.adam + inference.bytes.ema + inference.bytes.activationGrads).toBe(0);
    expect(inference.bytes.activations).toBe(m8.bytes.activations);
  });

  test('a plan beyond the adapter limits fails with the setting to lower', () => {
    const g = new UNetGraph(PRESETS.bench, { batch: 8 }).graph;
    const big = 1 << 30;
    expect(() => checkLimits(g, { maxStorageBufferBindingSize: big, maxBufferSize: big })).not.toThrow();
    const largest = memoryPlan(g).largest;
    const tooSmall = { maxStorageBufferBindingSize: largest.bytes - 4, maxBufferSize: big };
    expect(() => checkLimits(g, { ...tooSmall, maxStorageBufferBindingSize: g.params.size * 4 })).toThrow(LimitError);
    expect(() => checkLimits(g, { maxStorageBufferBindingSize: g.params.size * 4, maxBufferSize: big })).toThrow(/Lower the batch size \(now 8\)/);
    expect(() => checkLimits(g, { maxStorageBufferBindingSize: big, maxBufferSize: 1024 })).toThrow(/flat parameter buffer[\s\S]*Lower the model width/);
  });
});

/** Random parameters that exercise every path (GroupNorm scales away from 1, a non-zero last conv). */
function randomParameters(graph: Graph, seed: number): Float32Array {
  const flat = initialParameters(graph, seed);
  const noise = randn(flat.length, seed + 1);
  for (const [name, e] of graph.params.entries) {
    const n = e.shape.reduce((a, b) => a * b, 1);
    const fanIn = e.shape.length > 1 ? n / e.shape[0]! : 4;
    for (let i = 0; i < n; i++) {
      const j = e.offset + i;
      if (name.startsWith('out.conv')) flat[j] = (0.5 * noise[j]!) / Math.sqrt(fanIn);
      else if (/norm\d?\.weight$/.test(name)) flat[j] = 1 + 0.2 * noise[j]!;
      else if (/norm\d?\.bias$/.test(name)) flat[j] = 0.1 * noise[j]!;
    }
  }
  return flat;
}

function lookup(graph: Graph, flat: ArrayLike<number>) {
  return (name: string) => {
    const e = graph.params.entries.get(name);
    if (!e) throw new Error(`no parameter ${name}`);
    const n = e.shape.reduce((a, b) => a * b, 1);
    return Float64Array.from({ length: n }, (_, i) => flat[e.offset + i]!);
  };
}

describe('U-Net on the GPU against the float64 reference', () => {
  const x64 = randn(N * tiny.inChannels * tiny.imageSize * tiny.imageSize, 11);
  const t64 = Float64Array.from([0.03, 0.71]);
  const levels = Float32Array.from([...t64].flatMap((t) => [t, 0, 0, 0]));

  async function tinyNet(inputGrad: boolean, cfg = tiny, variants: KernelVariants = {}) {
    const net = await UNet.create(ctx.gpu, cfg, { batch: N, inputGrad, seed: 3, variants });
    ctx.gpu.write(net.x, Float32Array.from(x64));
    ctx.gpu.write(net.levels, levels);
    return net;
  }

  test('a fresh network outputs phi = 0 (x0_hat = x_t); only the last conv gets a gradient', async () => {
    const { gpu } = ctx;
    const net = await tinyNet(false);
    gpu.write(net.dPhi, Float32Array.from(randn(net.dPhi.size, 5)));
    gpu.recorder().run(net.forwardDispatches).run(net.backwardDispatches).submit();
    const phi = await gpu.read(net.phi);
    expect(phi.every((v) => v === 0)).toBe(true);
    const grads = await net.readFlat('grads');
    for (const [name, e] of net.parameterLayout) {
      const n = e.shape.reduce((a, b) => a * b, 1);
      const g = grads.subarray(e.offset, e.offset + n);
      const nonzero = g.some((v) => v !== 0);
      expect(nonzero, `gradient of ${name}`).toBe(name.startsWith('out.conv'));
    }
    net.destroy();
  });

  // Every conv, matmul, GroupNorm and attention kernel variant is exercised inside the whole network
  // (tests/gpu/kernel-usage.test.ts checks that each was dispatched during the run).
  test.each([
    ['without attention, direct conv, serial GroupNorm', tiny, { conv2d: 'direct', groupnorm: 'serial' }],
    ['without attention, tiled conv, tree GroupNorm', tiny, { conv2d: 'tiled', groupnorm: 'tree' }],
    ['without attention, gemm conv on reg8x8 matmuls', tiny, { conv2d: 'gemm', matmul: 'reg8x8' }],
    ['without attention, gemm conv on tiled matmuls', tiny, { conv2d: 'gemm', matmul: 'tiled' }],
    ['without attention, winograd conv on reg4x4 matmuls', tiny, { conv2d: 'winograd', matmul: 'reg4x4' }],
    ['with attention (rows)', tinyAttention, { attention: 'rows' }],
    ['with attention (lanes), winograd conv on tiled matmuls', tinyAttention, { attention: 'lanes', conv2d: 'winograd', matmul: 'tiled' }],
  ] as const)('%s: forward matches the reference; gradients match central finite differences', async (_, cfg, variants) => {
    const { gpu } = ctx;
    const net = await tinyNet(true, cfg, variants);
    const graph = net.plan.graph;
    const flat = randomParameters(graph, 21);
    net.setParameters(flat);
    const g = randn(net.phi.size, 8);
    gpu.write(net.dPhi, Float32Array.from(g));
    gpu.recorder().run(net.forwardDispatches).run(net.backwardDispatches).submit();
    const [phi, grads, dx] = [await gpu.read(net.phi), await net.readFlat('grads'), await gpu.read(net.dx!)];

    const params64 = Float64Array.from(flat);
    const forward = () => unetRef(cfg, lookup(graph, params64), x64, t64);
    const phiRef = forward();
    // float32 GPU vs float64: a few ulps per layer through ~20 layers.
    expectClose(phi, phiRef, { atol: 2e-5, rtol: 1e-3, label: 'phi' });

    const loss = () => forward().reduce((s, v, i) => s + v * g[i]!, 0);
    const eps = 1e-5;
    const fd = (arr: Float64Array, i: number) => {
      const o = arr[i]!;
      arr[i] = o + eps;
      const lp = loss();
      arr[i] = o - eps;
      const lm = loss();
      arr[i] = o;
      return (lp - lm) / (2 * eps);
    };
    // A sample of every parameter tensor (first, last and a middle element) and of the input.
    const idx: number[] = [];
    for (const e of graph.params.entries.values()) {
      const n = e.shape.reduce((a, b) => a * b, 1);
      idx.push(e.offset, e.offset + n - 1, e.offset + Math.floor(n / 2));
    }
    const fdParams = idx.map((i) => fd(params64, i));
    const gpuParams = idx.map((i) => grads[i]!);
    const scale = Math.max(...fdParams.map(Math.abs));
    // float32 backward through the whole network: elementwise 1e-3 of the largest gradient plus 2%.
    expectClose(gpuParams, fdParams, { atol: 1e-3 * scale, rtol: 2e-2, label: 'parameter gradients' });
    expect(relError(gpuParams, fdParams)).toBeLessThan(5e-3);

    const xi = [...new Set(Array.from(randu(24, 4), (u) => Math.floor(u * x64.length)))];
    const fdX = xi.map((i) => fd(x64, i));
    const gpuX = xi.map((i) => dx[i]!);
    expectClose(gpuX, fdX, { atol: 1e-3 * Math.max(...fdX.map(Math.abs)), rtol: 2e-2, label: 'input gradient' });
    net.destroy();
  });

  test('weights round-trip through safetensors with PyTorch names and layouts', async () => {
    const { gpu } = ctx;
    const net = await tinyNet(false);
    const flat = randomParameters(net.plan.graph, 5);
    net.setParameters(flat);
    const bytes = await saveUNetWeights(net);
    const decoded = decodeUNetWeights(net.plan.graph, bytes);
    expect(JSON.parse(decoded.metadata.config!)).toEqual(tiny);
    for (const [name, e] of net.parameterLayout) {
      const n = e.shape.reduce((a, b) => a * b, 1);
      expect(Array.from(decoded.flat.subarray(e.offset, e.offset + n)), name).toEqual(Array.from(flat.subarray(e.offset, e.offset + n)));
    }
    expect(net.parameterLayout.get('down.1.res.0.skip.weight')!.shape).toEqual([8, 4, 1, 1]);
    expect(net.parameterLayout.get('down.0.res.0.conv1.weight')!.shape).toEqual([4, 4, 3, 3]);
    expect(net.parameterLayout.get('time.dense0.weight')!.shape).toEqual([8, 8]);

    const other = await UNet.create(gpu, tiny, { batch: N, training: false, seed: 9 });
    loadUNetWeights(other, bytes);
    expect(Array.from(await other.readFlat('params'))).toEqual(Array.from(await net.readFlat('params')));
    // A file from another configuration is refused.
    const wider = new UNetGraph({ ...tiny, baseChannels: 8 }, { batch: 1 }).graph;
    const wrong = encodeUNetWeights(wider, tiny, initialParameters(wider));
    expect(() => loadUNetWeights(other, wrong)).toThrow(CheckpointError);
    net.destroy();
    other.destroy();
  });
});
