// The demo's thin layer over the one-call API (src/api/), used inside the worker: a training session
// (SoftDiffusion.train) and a sampling-only session (SoftDiffusion.fromCheckpoint). Both sample with
// the EMA weights through the same API, so a checkpoint saved and loaded back gives the same pictures
// for the same seed. This file only turns samples into the pictures and frames the page shows.
import type { Gpu } from '../../src/gpu/gpu.ts';
import type { Dataset } from '../../src/data/dataset.ts';
import type { Intermediate } from '../../src/diffusion/samplers.ts';
import { PRESETS } from '../../src/nn/config.ts';
import type { TrainerOptions } from '../../src/train/options.ts';
import { SoftDiffusion } from '../../src/api/soft-diffusion.ts';
import type { SoftDiffusionTrainer } from '../../src/api/training.ts';
import type { SampleOptions, SamplePlan, Samples } from '../../src/api/sampling.ts';
import { samplesToRgba } from '../../src/api/pictures.ts';
import type { DemoScores, ModelInfo, Picture, TrainSettings } from './protocol.ts';
import { DEMO_PRESETS } from './presets.ts';
import { Scorer, scorable } from './scorer.ts';

/** Annealed Langevin steps per noise level in previews (the default 100 is for final samples). */
const PREVIEW_LANGEVIN_STEPS = 5;

export function trainerOptions(s: TrainSettings): TrainerOptions {
  const p = DEMO_PRESETS[s.preset];
  if (!p) throw new Error(`Unknown preset ${s.preset}; known: ${Object.keys(DEMO_PRESETS).join(', ')}`);
  return {
    model: PRESETS[p.base],
    modelOverrides: p.overrides,
    corruption: s.corruption,
    batch: s.batch,
    lr: s.lr,
    warmupSteps: s.warmupSteps ?? 20,
    logEvery: s.logEvery,
    sampleCount: s.sampleCount,
    sampleSteps: s.sampleSteps,
    seed: s.seed,
    priorBank: 64,
  };
}

export interface PreviewResult {
  grid: Picture;
  /** x_t after sampler steps, from the blurred noisy prior to the sample. */
  frames: { t: number; picture: Picture }[];
}

function picture(s: Pick<Samples, 'images' | 'shape'>): Picture {
  const p = samplesToRgba(s, { padding: 1 });
  return { width: p.width, height: p.height, rgba: p.data };
}

/** One sampler run: the final x0hat as a grid, and about `frames` snapshots of x_t on the way. */
async function preview(source: { plan(o: SampleOptions): Promise<SamplePlan>; sample(o: SampleOptions): Promise<Samples> }, seed: number, frames: number): Promise<PreviewResult> {
  const opts: SampleOptions = { seed, langevinSteps: PREVIEW_LANGEVIN_STEPS };
  const { nfe, shape } = await source.plan(opts);
  const out: PreviewResult['frames'] = [];
  const every = frames > 0 ? Math.max(1, Math.floor(nfe / frames)) : 0;
  const onIntermediate = (i: Intermediate) => void out.push({ t: i.t, picture: picture({ images: i.xt, shape }) });
  const result = await source.sample(every ? { ...opts, intermediates: { every, onIntermediate } } : opts);
  return { grid: picture(result), frames: out };
}

/** Training on a data set, with previews from the EMA weights. */
export class TrainingSession {
  private constructor(
    readonly trainer: SoftDiffusionTrainer,
    private readonly preset: string,
    private readonly scorer: Scorer,
  ) {}

  static async create(gpu: Gpu, dataset: Dataset, settings: TrainSettings): Promise<TrainingSession> {
    return new TrainingSession(await SoftDiffusion.train(gpu, dataset, trainerOptions(settings)), settings.preset, new Scorer(gpu));
  }

  get info(): ModelInfo {
    const t = this.trainer;
    const m = t.options.model;
    return {
      mode: 'train',
      dataset: `${t.dataset.name} (${t.dataset.length} images)`,
      imageShape: [m.inChannels, m.imageSize, m.imageSize],
      parameters: t.parameters,
      preset: this.preset,
      corruption: String(t.options.corruption.name),
      step: t.currentStep,
      sampleCount: t.options.sampleCount,
      sampleSteps: t.options.sampleSteps,
      scorable: scorable(m),
    };
  }

  /** Quality scores of `count` samples of the EMA weights. */
  score(count: number): Promise<DemoScores> {
    const o = this.trainer.options;
    return this.scorer.score(this.trainer, count, { step: this.trainer.currentStep, config: o.model, sampler: o.sampler, steps: o.sampleSteps });
  }

  step(readLoss: boolean) {
    return this.trainer.step({ readLoss });
  }

  sample(seed: number, frames: number): Promise<PreviewResult> {
    return preview(this.trainer, seed, frames);
  }

  checkpoint(): Promise<Uint8Array> {
    return this.trainer.checkpoint();
  }

  destroy(): void {
    this.scorer.destroy();
    this.trainer.destroy();
  }
}

/** Sampling only, from a checkpoint's EMA weights (no data set needed: the prior bank is in the file). */
export class SamplingSession {
  private constructor(
    private readonly model: SoftDiffusion,
    readonly info: ModelInfo,
    private readonly bytes: Uint8Array,
    private readonly scorer: Scorer,
  ) {}

  static async fromCheckpoint(gpu: Gpu, bytes: Uint8Array, name: string): Promise<SamplingSession> {
    const model = await SoftDiffusion.fromCheckpoint(gpu, bytes, { name, langevinSteps: PREVIEW_LANGEVIN_STEPS });
    const i = model.info;
    const info: ModelInfo = {
      mode: 'sample',
      dataset: `${i.dataset.name} (${i.dataset.length} images)`,
      imageShape: i.imageShape,
      parameters: i.parameters,
      preset: name,
      corruption: i.corruption,
      step: i.step,
      sampleCount: i.defaults.count,
      sampleSteps: i.defaults.steps,
      scorable: scorable(i.options.model),
    };
    return new SamplingSession(model, info, bytes, new Scorer(gpu));
  }

  score(count: number): Promise<DemoScores> {
    const i = this.model.info;
    return this.scorer.score(this.model, count, { step: i.step, config: i.options.model, sampler: i.defaults.sampler, steps: i.defaults.steps });
  }

  sample(seed: number, frames: number): Promise<PreviewResult> {
    return preview(this.model, seed, frames);
  }

  async checkpoint(): Promise<Uint8Array> {
    return this.bytes;
  }

  destroy(): void {
    this.scorer.destroy();
    this.model.destroy();
  }
}
