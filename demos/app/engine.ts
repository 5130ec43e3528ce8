// The demo's thin layer over the engine, used inside the worker: a training session (the Trainer
// plus a previewer) and a sampling-only session (a checkpoint plus a previewer). Both sample through
// the same Previewer, so a checkpoint saved and loaded back gives the same pictures for the same seed.
import type { Gpu } from '../../src/gpu/gpu.ts';
import type { Dataset } from '../../src/data/dataset.ts';
import { imageToRgba, tileGrid, type BatchShape } from '../../src/io/grid.ts';
import { PRESETS, type UNetConfig } from '../../src/nn/config.ts';
import { UNetGraph } from '../../src/nn/unet-graph.ts';
import type { Intermediate, SamplerKind } from '../../src/diffusion/samplers.ts';
import { Schedule } from '../../src/diffusion/schedule.ts';
import type { Corruption } from '../../src/diffusion/types.ts';
import { SampleRun } from '../../src/sample/sample-run.ts';
import { Trainer } from '../../src/train/trainer.ts';
import { decodeCheckpointFile, stateForLayout } from '../../src/train/checkpoint-state.ts';
import { corruptionFromJSON, type TrainerOptions } from '../../src/train/options.ts';
import type { DemoScores, ModelInfo, Picture, TrainSettings } from './protocol.ts';
import { DEMO_PRESETS } from './presets.ts';
import { Scorer, scorable } from './scorer.ts';

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

function picture(data: Float32Array, shape: BatchShape): Picture {
  const img = tileGrid(data, shape, { padding: 1 });
  return { width: img.width, height: img.height, rgba: imageToRgba(img) as Uint8ClampedArray<ArrayBuffer> };
}

/** The sampler of the previews: a SampleRun (U-Net denoiser, bank prior) whose weights are set before each run. */
export class Previewer {
  private constructor(
    private readonly run_: SampleRun,
    readonly shape: BatchShape,
  ) {}

  static async create(
    gpu: Gpu,
    o: { config: UNetConfig; corruption: Corruption; noise: Schedule; priorBank: Float32Array; count: number; steps: number; sampler: SamplerKind; weights?: Float32Array },
  ): Promise<Previewer> {
    const run = await SampleRun.create(gpu, { ...o, langevinStepsPerLevel: 5 });
    return new Previewer(run, run.shape);
  }

  setWeights(flat: Float32Array): void {
    this.run_.setWeights(flat);
  }

  /** One sampler run: the final x0hat as a grid, and about `frames` snapshots of x_t on the way. */
  async run(seed: number, frames = 0): Promise<PreviewResult> {
    const out: PreviewResult['frames'] = [];
    const every = frames > 0 ? Math.max(1, Math.floor(this.run_.nfe / frames)) : 0;
    const onIntermediate = (s: Intermediate) => void out.push({ t: s.t, picture: picture(s.xt, this.shape) });
    const result = await this.run_.run(seed, undefined, every ? { every, onIntermediate } : undefined);
    return { grid: picture(result.images, this.shape), frames: out };
  }

  destroy(): void {
    this.run_.destroy();
  }
}

/** Training on a data set, with previews from the EMA weights. */
export class TrainingSession {
  private constructor(
    readonly trainer: Trainer,
    private readonly previewer: Previewer,
    private readonly preset: string,
    private readonly scorer: Scorer,
  ) {}

  static async create(gpu: Gpu, dataset: Dataset, settings: TrainSettings): Promise<TrainingSession> {
    const trainer = await Trainer.create(gpu, dataset, trainerOptions(settings));
    const o = trainer.options;
    const previewer = await Previewer.create(gpu, {
      config: o.model,
      corruption: trainer.corruption,
      noise: trainer.noise,
      priorBank: trainer.prior,
      count: o.sampleCount,
      steps: o.sampleSteps,
      sampler: o.sampler,
    });
    const scorer = new Scorer(gpu, { config: o.model, corruption: trainer.corruption, noise: trainer.noise, priorBank: trainer.prior, steps: o.sampleSteps, sampler: o.sampler });
    return new TrainingSession(trainer, previewer, settings.preset, scorer);
  }

  get info(): ModelInfo {
    const t = this.trainer;
    const m = t.options.model;
    return {
      mode: 'train',
      dataset: `${t.dataset.name} (${t.dataset.length} images)`,
      imageShape: [m.inChannels, m.imageSize, m.imageSize],
      parameters: t.net.plan.graph.params.used,
      preset: this.preset,
      corruption: String(t.options.corruption.name),
      step: t.currentStep,
      sampleCount: t.options.sampleCount,
      sampleSteps: t.options.sampleSteps,
      scorable: scorable(m),
    };
  }

  /** Quality scores of `count` samples of the EMA weights. */
  async score(count: number): Promise<DemoScores> {
    return this.scorer.score(await this.trainer.readFlat('ema'), count, this.trainer.currentStep);
  }

  step(readLoss: boolean) {
    return this.trainer.step({ readLoss });
  }

  async sample(seed: number, frames: number): Promise<PreviewResult> {
    this.previewer.setWeights(await this.trainer.readFlat('ema'));
    return this.previewer.run(seed, frames);
  }

  checkpoint(): Promise<Uint8Array> {
    return this.trainer.checkpoint();
  }

  destroy(): void {
    this.scorer.destroy();
    this.previewer.destroy();
    this.trainer.destroy();
  }
}

/** Sampling only, from a checkpoint's EMA weights (no data set needed: the prior bank is in the file). */
export class SamplingSession {
  private constructor(
    private readonly previewer: Previewer,
    readonly info: ModelInfo,
    private readonly bytes: Uint8Array,
    private readonly scorer: Scorer,
    private readonly ema: Float32Array,
  ) {}

  static async fromCheckpoint(gpu: Gpu, bytes: Uint8Array, name: string): Promise<SamplingSession> {
    const ckpt = decodeCheckpointFile(bytes, name);
    const o = ckpt.fields.options;
    const graph = new UNetGraph(o.model, { batch: 1, training: false });
    const state = stateForLayout(ckpt, graph.graph.params);
    const setup = { config: o.model, corruption: corruptionFromJSON(o.corruption), noise: Schedule.fromJSON(o.noise), priorBank: state.priorBank, steps: o.sampleSteps, sampler: o.sampler };
    const previewer = await Previewer.create(gpu, { ...setup, count: o.sampleCount, weights: state.flat.ema });
    const d = ckpt.fields.dataset;
    const info: ModelInfo = {
      mode: 'sample',
      dataset: `${d.name} (${d.length} images)`,
      imageShape: [o.model.inChannels, o.model.imageSize, o.model.imageSize],
      parameters: graph.graph.params.used,
      preset: name,
      corruption: String(o.corruption.name),
      step: ckpt.fields.step,
      sampleCount: o.sampleCount,
      sampleSteps: o.sampleSteps,
      scorable: scorable(o.model),
    };
    return new SamplingSession(previewer, info, bytes, new Scorer(gpu, setup), state.flat.ema);
  }

  score(count: number): Promise<DemoScores> {
    return this.scorer.score(this.ema, count, this.info.step);
  }

  sample(seed: number, frames: number): Promise<PreviewResult> {
    return this.previewer.run(seed, frames);
  }

  async checkpoint(): Promise<Uint8Array> {
    return this.bytes;
  }

  destroy(): void {
    this.scorer.destroy();
    this.previewer.destroy();
  }
}
