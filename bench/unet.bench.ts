// The issue-4 workload: one full training step of the `bench` U-Net (699,811 parameters) on a batch of
// 8 RGB 32x32 images: forward, MSE loss and its gradient, backward, AdamW (lr 2e-4), one submit.
// Reports ms per step (median), GFLOP/s of the conv/linear/attention arithmetic, dispatches per step
// and the planned bytes. Options: --preset=bench|mnist|rgb32|rgb64, --batch=8, --steps=10, --warmup=2,
// --variants=conv2d:direct,groupnorm:serial (skips autotuning, which is long on SwiftShader),
// --profile (also one JSON line per kernel label: the summed time of its dispatches, each dispatch
// timed alone, so the lines show where a step's time goes)
// (in Chromium keep steps and warm-up small: the page call must finish within puppeteer's 180 s).
import { PRESETS, unetConfig, type PresetName } from '../src/nn/config.ts';
import { UNet } from '../src/nn/unet.ts';
import { TrainingStep } from '../src/nn/training-step.ts';
import { mseLoss } from '../src/kernels/mse.ts';
import { AdamW } from '../src/kernels/adamw.ts';
import type { Bench, BenchResult } from './types.ts';
import type { Gpu } from '../src/gpu/gpu.ts';
import type { Dispatch } from '../src/gpu/kernel.ts';
import { timeDispatches } from '../src/gpu/autotune.ts';

/** Time each dispatch alone (median of 3 after a warm-up) and sum by label, largest first. */
async function profileStep(gpu: Gpu, ds: readonly Dispatch[], emit: (r: Omit<BenchResult, 'bench' | 'shape'> & { ms: number }) => void): Promise<void> {
  const byLabel = new Map<string, { ms: number; count: number }>();
  let total = 0;
  for (const d of ds) {
    const ms = await timeDispatches(gpu, [d], 3);
    total += ms;
    const e = byLabel.get(d.label) ?? { ms: 0, count: 0 };
    e.ms += ms;
    e.count++;
    byLabel.set(d.label, e);
  }
  for (const [label, e] of [...byLabel].sort((a, b) => b[1].ms - a[1].ms))
    emit({ variant: label, ms: e.ms, dispatches: e.count, share: e.ms / total });
}

export const bench: Bench = {
  name: 'unet',
  description: 'one U-Net training step (--preset=bench, --batch=8, --steps=10, --warmup=2): ms/step, GFLOP/s, dispatches, bytes',
  async run(gpu, opts, emit) {
    const preset = (opts.preset ?? 'bench') as PresetName;
    if (!(preset in PRESETS)) throw new Error(`unknown preset ${preset}`);
    const cfg = unetConfig(preset);
    const batch = Number(opts.batch ?? 8);
    const steps = Number(opts.steps ?? 10);
    const warmup = Number(opts.warmup ?? 2);
    const t0 = performance.now();
    const variants = Object.fromEntries((opts.variants ?? '').split(',').filter(Boolean).map((kv) => kv.split(':')));
    const net = await UNet.create(gpu, cfg, { batch, seed: 1, variants });
    const rand = (n: number, seed: number) => {
      let s = seed;
      return Float32Array.from({ length: n }, () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1);
    };
    gpu.write(net.x, rand(net.x.size, 1));
    gpu.write(net.levels, Float32Array.from({ length: batch * 4 }, (_, i) => (i % 4 === 0 ? (i / 4 + 0.5) / batch : 0)));
    const target = gpu.upload(rand(net.x.size, 2), net.x.shape, 'target');
    const loss = gpu.tensor([1], 'loss');
    const optimizer = await AdamW.create(gpu, net.flatLayout, net.flatParams, net.flatGrads, { lr: 2e-4 });
    const step = new TrainingStep(gpu, net, {
      loss: await mseLoss(gpu, net.phi, target, loss, net.dPhi, { n: net.phi.size }),
      lossTensor: loss,
      optimizer: optimizer.dispatches(),
    });
    const planMs = performance.now() - t0;
    // Warm-up (first-use compilation inside the driver), then timed steps, each waited for.
    const first = await step.run({ readLoss: true });
    for (let i = 0; i < warmup; i++) step.run();
    const times: number[] = [];
    for (let i = 0; i < steps; i++) {
      const s0 = performance.now();
      step.run();
      await gpu.done();
      times.push(performance.now() - s0);
    }
    const last = await step.run({ readLoss: true });
    times.sort((a, b) => a - b);
    const ms = times[Math.floor(times.length / 2)]!;
    const g = net.plan.graph;
    const flops = g.flops.forward + g.flops.backward;
    const mem = net.memory;
    emit({
      bench: 'unet',
      shape: { preset, batch, channels: cfg.inChannels, size: cfg.imageSize, params: net.parameterCount },
      variant: opts.variants ? `train-step ${opts.variants}` : 'train-step',
      ms,
      gflops: flops / ms / 1e6,
      bytes: mem.total,
      dispatches: step.dispatchesPerStep,
      dispatchBreakdown: step.dispatchBreakdown,
      memory: mem.bytes,
      gflopPerStep: flops / 1e9,
      msMin: times[0],
      msMax: times[times.length - 1],
      planMs: Math.round(planMs),
      loss: { first, last },
    });
    if (opts.profile) await profileStep(gpu, step.dispatchList, (r) => emit({ ...r, bench: 'unet-profile', shape: { preset, batch } }));
    step.destroy();
    net.destroy();
    gpu.release(target);
    gpu.release(loss);
  },
};
