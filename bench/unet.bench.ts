// The issue-4 workload: one full training step of the `bench` U-Net (699,811 parameters) on a batch of
// 8 RGB 32x32 images: forward, MSE loss and its gradient, backward, AdamW (lr 2e-4), one submit.
// Reports ms per step (median), GFLOP/s of the conv/linear/attention arithmetic, dispatches per step
// and the planned bytes. Options: --preset=bench|mnist|rgb32|rgb64, --batch=8, --steps=10, --warmup=2,
// --variants=conv2d:direct,groupnorm:serial (skips autotuning, which is long on SwiftShader),
// --profile (also a table on stderr and one JSON line per kernel family: the summed GPU time of its
// dispatches, bench/profile.ts; --profile=labels for one per label; --profileReps=3),
// cpuMs / workMs = the cheapest timed step's CPU time: the whole process's / the kernel threads'
// (Node on lavapipe; bench/timing.ts)
// (in Chromium keep steps and warm-up small: SwiftShader is slow, and planning autotunes there too).
import { PRESETS, unetConfig, type PresetName } from '../src/nn/config.ts';
import { UNet } from '../src/nn/unet.ts';
import { TrainingStep } from '../src/nn/training-step.ts';
import { mseLoss } from '../src/kernels/mse.ts';
import { AdamW } from '../src/kernels/adamw.ts';
import type { Bench, BenchResult } from './types.ts';
import { formatTable, profileDispatches, summarize } from './profile.ts';
import { processCpuMs } from './timing.ts';

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
    // Per step: wall ms (median), process CPU ms and work ms (the Gpu's work clock: CPU time of the
    // threads that run the kernels, main thread excluded; Node on lavapipe) of the cheapest step.
    let cpuMs = Infinity;
    let workMs = Infinity;
    for (let i = 0; i < steps; i++) {
      const c0 = processCpuMs();
      const w0 = gpu.workClock?.();
      const s0 = performance.now();
      step.run();
      await gpu.done();
      times.push(performance.now() - s0);
      if (c0 !== null) cpuMs = Math.min(cpuMs, processCpuMs()! - c0);
      if (w0 !== undefined) workMs = Math.min(workMs, gpu.workClock!() - w0);
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
      cpuMs: Number.isFinite(cpuMs) ? cpuMs : undefined,
      workMs: Number.isFinite(workMs) ? workMs : undefined,
      planMs: Math.round(planMs),
      loss: { first, last },
    });
    if (opts.profile) {
      const p = await profileDispatches(gpu, step.dispatchList, Number(opts.profileReps ?? 3));
      const key = opts.profile === 'labels' ? 'label' : 'family';
      const rows = summarize(p, key);
      for (const r of rows) emit({ bench: 'unet-profile', shape: { preset, batch }, variant: r.name, ms: r.ms, dispatches: r.dispatches, share: r.share, method: p.method });
      console.error(formatTable(`U-Net step (${preset}, batch ${batch}) by ${key}: per-dispatch GPU time (${p.method}, min of ${opts.profileReps ?? 3})`, rows, p.totalMs));
    }
    step.destroy();
    net.destroy();
    gpu.release(target);
    gpu.release(loss);
  },
};
