// Browser cases for the RNG and the momentum sampler: tests/browser/sampler.test.ts checks that a seed
// gives the float64 references' numbers in Chromium (and in Node, which runs the same functions).
import type { Gpu } from '../../../src/gpu/gpu.ts';
import { randomNormal, RngState } from '../../../src/diffusion/rng.ts';
import { GaussianDenoiser } from '../../../src/diffusion/gaussian-denoiser.ts';
import { Sampler } from '../../../src/diffusion/samplers.ts';
import { DctBlur } from '../../../src/diffusion/blur.ts';
import { Schedule } from '../../../src/diffusion/schedule.ts';
import type { BrowserCase } from './types.ts';

export interface RngArgs {
  n: number;
  seed: number;
  step: number;
  stream: number;
}

export interface MomentumArgs {
  dims: [number, number, number, number];
  variance: number[];
  x1: number[];
  seed: number;
  steps: number;
}

export async function rngNormals(gpu: Gpu, { n, seed, step, stream }: RngArgs): Promise<number[]> {
  const out = gpu.tensor([n]);
  const state = new RngState(gpu, seed, step);
  gpu.recorder().dispatch(await randomNormal(gpu, out, state, { stream })).submit();
  const r = Array.from(await gpu.read(out));
  gpu.release(out);
  state.destroy();
  return r;
}

/** The blur and noise schedules of momentumSample for images of side h (the float64 side uses them too). */
export const MOMENTUM_SCHEDULES = (h: number) => ({ blur: Schedule.geometric(0.01, 0.36 * h), noise: Schedule.geometric(0.01, 0.1) });

export async function momentumSample(gpu: Gpu, { dims, variance, x1, seed, steps }: MomentumArgs): Promise<number[]> {
  const [, c, h, w] = dims;
  const { blur, noise } = MOMENTUM_SCHEDULES(h);
  const sampler = await Sampler.create(gpu, {
    kind: 'momentum',
    denoiser: new GaussianDenoiser({ variance: Float32Array.from(variance), channels: c, height: h, width: w, corruption: 'blur' }),
    corruption: new DctBlur({ height: h, width: w, schedule: blur }),
    noise,
    shape: dims,
    steps,
  });
  const init = gpu.upload(Float32Array.from(x1), dims);
  const out = Array.from(await gpu.read(await sampler.run({ init, seed, output: 'iterate' })));
  sampler.destroy();
  gpu.release(init);
  return out;
}

export const cases: Record<string, BrowserCase> = {
  rngNormals: (gpu, args: RngArgs) => rngNormals(gpu, args),
  momentumSample: (gpu, args: MomentumArgs) => momentumSample(gpu, args),
};
