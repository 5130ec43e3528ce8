// Momentum sampler throughput: steps per second for a batch of B images C x H x W (default 64 x 3 x 32
// x 32) with the exact Gaussian denoiser (analytic: two DCTs and a multiply), so the figure is the
// sampler's own cost (corruption filters, fused update with its noise, host writes, one submit per
// step) plus a small fixed denoiser. Variants: 'fused' (C_{t-dt} x0hat - rho C_t x0hat as one blur
// filter) and 'two-blurs'. The denoiser alone is timed too; sampler_ms = step ms - denoiser ms.
// --denoiser=unet [--preset=rgb32] times the same sampler around the U-Net (freshly initialised: the
// cost is that of trained weights) and reports the sampler's own share of a step (target < 5%).
import { timeDispatches } from '../src/gpu/autotune.ts';
import { DctBlur } from '../src/diffusion/blur.ts';
import { GaussianDenoiser } from '../src/diffusion/gaussian-denoiser.ts';
import { Sampler } from '../src/diffusion/samplers.ts';
import { Schedule } from '../src/diffusion/schedule.ts';
import { UNetDenoiser } from '../src/sample/unet-denoiser.ts';
import { unetConfig, type PresetName } from '../src/nn/config.ts';
import type { Denoiser } from '../src/diffusion/types.ts';
import type { Bench } from './types.ts';

export const bench: Bench = {
  name: 'sampler',
  description: 'momentum sampler steps/s (--batch=64 --size=32 --channels=3 --steps=50), exact Gaussian denoiser or --denoiser=unet --preset=rgb32',
  async run(gpu, opts, emit) {
    const b = Number(opts.batch ?? 64);
    const size = Number(opts.size ?? 32);
    const c = Number(opts.channels ?? 3);
    const steps = Number(opts.steps ?? 50);
    const shape = [b, c, size, size];
    const variance = Float32Array.from({ length: c * size * size }, (_, i) => 0.05 / (1 + ((Math.floor(i / size) % size) ** 2 + (i % size) ** 2) / 4));
    const useUNet = opts.denoiser === 'unet';
    const preset = (opts.preset ?? 'rgb32') as PresetName;
    const corruption = new DctBlur({ height: size });
    const noise = Schedule.geometric(0.01, 0.1);
    for (const variant of useUNet ? (['fused'] as const) : (['fused', 'two-blurs'] as const)) {
      // A planned denoiser belongs to one plan, so the sampler and the timing of the denoiser alone
      // each get their own.
      const makeDenoiser = (): Denoiser =>
        useUNet
          ? new UNetDenoiser(unetConfig(preset, { inChannels: c, imageSize: size }))
          : new GaussianDenoiser({ variance, channels: c, height: size, width: size, corruption: 'blur' });
      const denoiser = makeDenoiser();
      const sampler = await Sampler.create(gpu, { kind: 'momentum', denoiser, corruption, noise, shape, steps, fuseBlur: variant === 'fused' });
      await sampler.run({ seed: 1 }); // warm-up: pipelines, first submits
      const t0 = performance.now();
      await sampler.run({ seed: 2 });
      const ms = (performance.now() - t0) / steps;
      const levels = gpu.tensor([b, 4]);
      gpu.write(levels, Float32Array.from({ length: 4 * b }, (_, i) => [0.5, 1, 0.03, 0][i % 4]!));
      const x0 = gpu.tensor(shape);
      const denoiserMs = await timeDispatches(gpu, await makeDenoiser().plan(gpu, sampler.x, levels, x0), 3);
      emit({
        bench: 'sampler',
        shape: { batch: b, channels: c, height: size, width: size, steps },
        variant: useUNet ? `${variant} unet:${preset}` : variant,
        ms,
        stepsPerSecond: 1000 / ms,
        imagesPerSecondPerStep: (1000 * b) / ms,
        denoiserMs,
        samplerMs: ms - denoiserMs,
        samplerShare: (ms - denoiserMs) / ms,
        bytes: 6 * b * c * size * size * 4,
      });
      for (const t of [levels, x0]) gpu.release(t);
      sampler.destroy();
    }
  },
};
