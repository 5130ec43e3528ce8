// The one-call API: a trained model loaded from checkpoint bytes (validated, planned once) that
// samples images, and the entry to training. The same code runs in a page, a worker and Node: it
// takes the engine's Gpu and bytes, never files or DOM nodes. The CLI, the demo and demos/embed/ go
// through it; the classes it assembles (SampleRun, Trainer, ...) stay exported for custom loops.
import type { Gpu } from '../gpu/gpu.ts';
import { CheckpointError, ValueError } from '../gpu/errors.ts';
import { UNetGraph } from '../nn/unet-graph.ts';
import { Schedule } from '../diffusion/schedule.ts';
import type { CheckpointFormat } from '../io/checkpoint-metadata.ts';
import type { BatchShape } from '../io/grid.ts';
import { decodeCheckpointFile, stateForLayout, type DatasetInfo } from '../train/checkpoint-state.ts';
import { corruptionFromJSON, type ResolvedOptions } from '../train/options.ts';
import type { SamplerKind } from '../diffusion/samplers.ts';
import { trainingDataset, type TrainingData } from './data.ts';
import { samplesToImageData, samplesToRgba, type PictureOptions, type RgbaPicture } from './pictures.ts';
import { Sampling, resolveSampleOptions, type SampleOptions, type SamplePlan, type Samples } from './sampling.ts';
import { SoftDiffusionTrainer, type TrainOptions } from './training.ts';

/**
 * Options of {@link SoftDiffusion.fromCheckpoint}.
 * @category One-call API
 */
export interface LoadOptions {
  /** The checkpoint's name in error messages (a file name or URL). Default `'checkpoint'`. */
  name?: string;
  /**
   * Which weights to sample with: `'ema'` (the exponential moving average, smoother; default) or
   * `'model'` (the raw trained weights).
   */
  weights?: 'ema' | 'model';
  /** Default image count of `sample()` (default: the checkpoint's preview count). */
  count?: number;
  /** Default sampler steps of `sample()` (default: the checkpoint's preview steps). */
  steps?: number;
  /** Default sampler of `sample()` (default: the checkpoint's preview sampler). */
  sampler?: SamplerKind;
  /** Default annealed Langevin steps per noise level (default 100). */
  langevinSteps?: number;
}

/**
 * What a loaded checkpoint is.
 * @category One-call API
 */
export interface ModelInfo {
  /** Training steps behind these weights. */
  step: number;
  /** The data set it was trained on (name, channels, image size, number of images). */
  dataset: DatasetInfo;
  /** [C, H, W] of the images it makes. */
  imageShape: [number, number, number];
  /** Trained parameters of the network. */
  parameters: number;
  /** The corruption it reverses: 'blur', 'mask' or 'identity'. */
  corruption: string;
  /** Which weights `sample()` uses. */
  weights: 'ema' | 'model';
  /** `sample()`'s defaults. */
  defaults: { count: number; steps: number; sampler: SamplerKind; langevinSteps: number };
  /** The checkpoint's format version and the release that wrote it. */
  format: CheckpointFormat;
  /** Every training option stored in the checkpoint (network, corruption, schedules, ...). */
  options: ResolvedOptions;
}

/**
 * A trained Soft Diffusion model, ready to sample.
 *
 * @example In a page (or a worker):
 * ```ts
 * import { Gpu, SoftDiffusion } from 'softdiff';
 * const gpu = await Gpu.create(navigator.gpu);
 * const bytes = new Uint8Array(await (await fetch('/models/mnist.safetensors')).arrayBuffer());
 * const model = await SoftDiffusion.fromCheckpoint(gpu, bytes);
 * const samples = await model.sample({ count: 16, steps: 50, seed: 1 });
 * canvas.getContext('2d')!.putImageData(model.toImageData(samples), 0, 0);
 * model.destroy();
 * ```
 * In Node the same, with `createNodeGpu()` from `softdiff/node` and the bytes of a file.
 * @category One-call API
 */
export class SoftDiffusion {
  private constructor(
    /** The model's own scope of the Gpu it was given: destroy() releases it (the Gpu stays yours). */
    private readonly scope: Gpu,
    /** What was loaded: step, data set, shape, defaults, format, options. */
    readonly info: ModelInfo,
    private readonly sampling: Sampling,
  ) {}

  /**
   * Load a training checkpoint (safetensors bytes written by `checkpoint()`, `softdiff train` or the
   * demo): validates the whole file first (a CheckpointError says what is wrong, e.g. a newer
   * format, another network, a damaged tensor), then plans and compiles the default sampling run so
   * that the first `sample()` starts at once.
   */
  static async fromCheckpoint(gpu: Gpu, bytes: Uint8Array | ArrayBuffer, opts: LoadOptions = {}): Promise<SoftDiffusion> {
    const name = opts.name ?? 'checkpoint';
    const data = bytes instanceof Uint8Array ? bytes : bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : null;
    if (!data) throw new CheckpointError(`${name}: expected the checkpoint's bytes (Uint8Array or ArrayBuffer), got ${typeof bytes}.`);
    const which = opts.weights ?? 'ema';
    if (which !== 'ema' && which !== 'model') throw new ValueError(`Load option weights must be 'ema' or 'model', got ${JSON.stringify(which)}.`);
    const ckpt = decodeCheckpointFile(data, name);
    const o = ckpt.fields.options;
    const layout = new UNetGraph(o.model, { batch: 1, training: false }).graph.params;
    const state = stateForLayout(ckpt, layout);
    const d = ckpt.fields.dataset;
    const defaults = resolveSampleOptions(
      { count: opts.count, steps: opts.steps, sampler: opts.sampler, langevinSteps: opts.langevinSteps },
      { count: o.sampleCount, steps: o.sampleSteps, sampler: o.sampler, langevinSteps: 100 },
    );
    const info: ModelInfo = {
      step: ckpt.fields.step,
      dataset: { name: d.name, channels: d.channels, size: d.size, length: d.length },
      imageShape: [o.model.inChannels, o.model.imageSize, o.model.imageSize],
      parameters: layout.used,
      corruption: String(o.corruption.name),
      weights: which,
      defaults: { count: defaults.count, steps: defaults.steps, sampler: defaults.sampler, langevinSteps: defaults.langevinSteps },
      format: ckpt.format,
      options: o,
    };
    const scope = gpu.scope('soft-diffusion');
    const sampling = new Sampling(
      scope,
      { config: o.model, corruption: corruptionFromJSON(o.corruption), noise: Schedule.fromJSON(o.noise), priorBank: state.priorBank },
      info.defaults,
      state.flat[which],
      () => {},
      'SoftDiffusion model',
    );
    try {
      await sampling.plan();
    } catch (e) {
      sampling.destroy();
      scope.destroy();
      throw e;
    }
    return new SoftDiffusion(scope, info, sampling);
  }

  /**
   * Start training on `data` (or continue from checkpoint bytes with `options.resume`). Plans the
   * network, optimizer and data pipeline on `gpu` and compiles the kernels.
   *
   * @param data a data set, a list of images or a synthetic set (see {@link TrainingData}).
   * @param options network, corruption, loss, optimizer and preview settings (see {@link TrainOptions}); all optional.
   */
  static async train(gpu: Gpu, data: TrainingData, options: TrainOptions = {}): Promise<SoftDiffusionTrainer> {
    return SoftDiffusionTrainer.create(gpu, trainingDataset(data), options);
  }

  /**
   * Draw images. Options left out take the defaults in `info.defaults`; the same options with the
   * same seed give the same images. Changing count, steps or sampler re-plans (buffers; kernels are
   * already compiled); calls made meanwhile wait their turn.
   */
  sample(opts: SampleOptions = {}): Promise<Samples> {
    return this.sampling.sample(opts);
  }

  /** Plan (and compile) for these options without sampling, e.g. to know the network evaluations. */
  plan(opts: SampleOptions = {}): Promise<SamplePlan> {
    return this.sampling.plan(opts);
  }

  /** Samples as RGBA pixels: a grid, or one image with `index` (see {@link samplesToRgba}). */
  toRgba(samples: { images: ArrayLike<number>; shape: BatchShape }, opts: PictureOptions = {}): RgbaPicture {
    return samplesToRgba(samples, opts);
  }

  /** Samples as an ImageData for `ctx.putImageData` (see {@link samplesToImageData}). */
  toImageData(samples: { images: ArrayLike<number>; shape: BatchShape }, opts: PictureOptions = {}): ImageData {
    return samplesToImageData(samples, opts);
  }

  /** Free every GPU buffer this model allocated. The Gpu stays alive (it is yours); later calls fail. */
  destroy(): void {
    this.sampling.destroy();
    this.scope.destroy();
  }
}
