// Sampling for the one-call API: the options a caller passes to `sample()`, what comes back, and the
// plan cache behind it. A SampleRun is planned for one (count, steps, sampler) and reused for every
// seed; asking for another combination replaces it (one plan alive at a time, so memory stays that of
// one batch). Calls are queued, so two sample() calls never interleave their steps on the device.
import type { Gpu } from '../gpu/gpu.ts';
import { EngineError, ValueError } from '../gpu/errors.ts';
import type { UNetConfig } from '../nn/config.ts';
import type { Intermediate, SamplerKind } from '../diffusion/samplers.ts';
import type { Schedule } from '../diffusion/schedule.ts';
import type { Corruption } from '../diffusion/types.ts';
import { SampleRun } from '../sample/sample-run.ts';
import { SAMPLERS } from '../train/options.ts';

/**
 * How to draw samples. Every field is optional: the defaults come from the checkpoint (or the
 * training options) and from the options the model was loaded with.
 * @category One-call API
 */
export interface SampleOptions {
  /**
   * Number of images, drawn as one batch. Default: the count the model was loaded with, else the
   * checkpoint's preview count (`sampleCount`, 16 unless training said otherwise). A new count plans
   * new buffers (kernels are compiled once per device).
   */
  count?: number;
  /**
   * Sampler steps N. Each step is one network evaluation (for `'langevin'`: N noise levels with
   * `langevinSteps` evaluations each). More steps: better images, proportionally slower. Default: the
   * checkpoint's `sampleSteps` (50 unless training said otherwise).
   */
  steps?: number;
  /**
   * Seed of the prior draw and of the sampler's noise, an integer in [0, 2^32). The same seed gives
   * the same images on every adapter up to float rounding (counter-based random numbers). Default 0.
   */
  seed?: number;
  /**
   * The reverse process: `'momentum'` (Soft Diffusion's sampler, the default for most checkpoints),
   * `'probability-flow'` (deterministic), `'naive'` (denoise, re-corrupt: the baseline) or
   * `'langevin'` (annealed Langevin dynamics). Default: the sampler the checkpoint was trained to
   * preview with.
   */
  sampler?: SamplerKind;
  /** Annealed Langevin steps per noise level (sampler `'langevin'` only). Default 100. */
  langevinSteps?: number;
  /**
   * Clip the network's estimate x0hat to this range (e.g. `[0, 1]`, the data range) after every
   * evaluation, before the sampler uses it. Not in the paper; off by default.
   */
  clip?: readonly [number, number];
  /** Called after every network evaluation with (done, total): for progress bars. */
  onProgress?: (done: number, total: number) => void;
  /**
   * Watch the reverse process: every `every` evaluations, `onIntermediate` receives the current
   * iterate x_t and the network's estimate of the clean image x0hat (both [count, C, H, W]).
   */
  intermediates?: { every: number; onIntermediate: (s: Intermediate) => void | Promise<void> };
}

/**
 * Images drawn by `sample()`.
 * @category One-call API
 */
export interface Samples {
  /** The images as floats, [count, C, H, W] row-major, nominally in [0, 1] (not clipped). */
  images: Float32Array;
  /** `[count, C, H, W]`, where C is 1 (grey) or 3 (RGB). */
  shape: [number, number, number, number];
  /** The seed they were drawn with. */
  seed: number;
  /** The sampler they were drawn with. */
  sampler: SamplerKind;
  /** Its step count. */
  steps: number;
  /** Network evaluations spent. */
  nfe: number;
}

/**
 * A sampling plan: what `sample()` with the same options will run, planned and compiled.
 * @category One-call API
 */
export interface SamplePlan {
  /** Images per `sample()`. */
  count: number;
  /** Sampler steps. */
  steps: number;
  /** The sampler. */
  sampler: SamplerKind;
  /** Annealed Langevin steps per noise level (used by `'langevin'` only). */
  langevinSteps: number;
  /** Network evaluations per `sample()`. */
  nfe: number;
  /** `[count, C, H, W]`. */
  shape: [number, number, number, number];
}

/** What every plan is built from: the network, the corruption and noise it was trained with, its prior. */
export interface SamplingSource {
  config: UNetConfig;
  corruption: Corruption;
  noise: Schedule;
  priorBank: Float32Array;
}

export type SampleDefaults = Required<Pick<SampleOptions, 'count' | 'steps' | 'sampler' | 'langevinSteps'>>;

const MAX_COUNT = 65_535;
const MAX_STEPS = 100_000;

function checkInt(name: string, v: number, lo: number, hi: number): void {
  if (!(Number.isInteger(v) && v >= lo && v <= hi)) throw new ValueError(`Sample option ${name} must be an integer in [${lo}, ${hi}], got ${JSON.stringify(v)}.`);
}

/** Options merged over the defaults and checked: a ValueError names the first bad one. */
export function resolveSampleOptions(o: SampleOptions, d: SampleDefaults): SampleDefaults & { seed: number } {
  const r = {
    count: o.count ?? d.count,
    steps: o.steps ?? d.steps,
    sampler: o.sampler ?? d.sampler,
    langevinSteps: o.langevinSteps ?? d.langevinSteps,
    seed: o.seed ?? 0,
  };
  checkInt('count', r.count, 1, MAX_COUNT);
  checkInt('steps', r.steps, 1, MAX_STEPS);
  checkInt('langevinSteps', r.langevinSteps, 1, MAX_STEPS);
  checkInt('seed', r.seed, 0, 0xffffffff);
  if (!SAMPLERS.includes(r.sampler)) throw new ValueError(`Unknown sampler ${JSON.stringify(r.sampler)}.`, `Use one of ${SAMPLERS.join(', ')}.`);
  if (o.intermediates && !(Number.isInteger(o.intermediates.every) && o.intermediates.every >= 1))
    throw new ValueError(`Sample option intermediates.every must be a positive integer, got ${JSON.stringify(o.intermediates.every)}.`);
  return r;
}

/**
 * The plan cache and queue behind `sample()`. `prepare(run)` runs before every sample (the trainer
 * copies its current EMA weights into the run there).
 */
export class Sampling {
  private run: SampleRun | null = null;
  private key = '';
  private plan_: SamplePlan | null = null;
  private source_: SamplingSource;
  private queue: Promise<unknown> = Promise.resolve();
  private destroyed = false;

  constructor(
    private readonly gpu: Gpu,
    source: SamplingSource,
    readonly defaults: SampleDefaults,
    /** Host weights for every new plan (a checkpoint's); null when prepare() provides them. */
    private readonly weights: Float32Array | null,
    private readonly prepare: (run: SampleRun) => void,
    private readonly what: string,
  ) {
    this.source_ = source;
  }

  /** Replace the source (a restored trainer's prior bank): the next sample re-plans. */
  set source(s: SamplingSource) {
    this.source_ = s;
    this.key = '';
  }

  /** Plan (and compile) for these options without sampling. */
  async plan(o: SampleOptions = {}): Promise<SamplePlan> {
    const r = resolveSampleOptions(o, this.defaults);
    return this.exclusive(async () => (await this.ensure(r, o.clip)).plan);
  }

  async sample(o: SampleOptions = {}): Promise<Samples> {
    const r = resolveSampleOptions(o, this.defaults);
    return this.exclusive(async () => {
      const { run, plan } = await this.ensure(r, o.clip);
      this.prepare(run);
      const out = await run.run(r.seed, o.onProgress, o.intermediates);
      return { images: out.images, shape: [...out.shape], seed: r.seed, sampler: plan.sampler, steps: plan.steps, nfe: plan.nfe };
    });
  }

  destroy(): void {
    this.destroyed = true;
    this.run?.destroy();
    this.run = null;
    this.plan_ = null;
  }

  private async ensure(r: SampleDefaults, clip?: readonly [number, number]): Promise<{ run: SampleRun; plan: SamplePlan }> {
    if (clip && !(clip.length === 2 && Number.isFinite(clip[0]) && Number.isFinite(clip[1]) && clip[0] < clip[1]))
      throw new ValueError(`Sample option clip must be [lo, hi] with finite lo < hi, got ${JSON.stringify(clip)}.`);
    const key = `${r.count}/${r.steps}/${r.sampler}/${r.sampler === 'langevin' ? r.langevinSteps : 0}/${clip ? clip.join(',') : ''}`;
    if (this.run && this.plan_ && key === this.key) return { run: this.run, plan: this.plan_ };
    this.run?.destroy();
    this.run = null;
    const s = this.source_;
    const run = await SampleRun.create(this.gpu, {
      config: s.config,
      weights: this.weights ?? undefined,
      corruption: s.corruption,
      noise: s.noise,
      priorBank: s.priorBank,
      count: r.count,
      steps: r.steps,
      sampler: r.sampler,
      langevinStepsPerLevel: r.langevinSteps,
      clip,
    });
    if (this.destroyed) {
      run.destroy();
      throw this.gone();
    }
    this.run = run;
    this.key = key;
    this.plan_ = { count: r.count, steps: r.steps, sampler: r.sampler, langevinSteps: r.langevinSteps, nfe: run.nfe, shape: [...run.shape] };
    return { run, plan: this.plan_ };
  }

  private exclusive<T>(job: () => Promise<T>): Promise<T> {
    if (this.destroyed) return Promise.reject(this.gone());
    const next = this.queue.then(() => {
      if (this.destroyed) throw this.gone();
      return job();
    });
    this.queue = next.catch(() => {});
    return next;
  }

  private gone(): EngineError {
    return new EngineError(`This ${this.what} was destroyed.`, 'Create a new one to keep sampling.');
  }
}
