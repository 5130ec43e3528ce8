// Training for the one-call API: a Trainer with a step loop that stops cleanly on an AbortSignal,
// checkpoints as bytes, and sampling with the current EMA weights through the same plan cache as a
// loaded model (so a trainer's samples equal those of its checkpoint for the same seed).
import type { Gpu } from '../gpu/gpu.ts';
import type { Dataset } from '../data/dataset.ts';
import { Trainer, type LogRecord, type StepResult } from '../train/trainer.ts';
import type { ResolvedOptions, TrainerOptions } from '../train/options.ts';
import { samplesToImageData, samplesToRgba, type PictureOptions, type RgbaPicture } from './pictures.ts';
import { Sampling, type SampleOptions, type SamplePlan, type Samples } from './sampling.ts';

/**
 * Options of {@link SoftDiffusion.train}: every training option (network, corruption, loss,
 * optimizer, previews; see {@link TrainerOptions}) plus where to start from.
 * @category One-call API
 */
export interface TrainOptions extends TrainerOptions {
  /**
   * Continue from these checkpoint bytes (from `checkpoint()` or `softdiff train`) instead of
   * starting afresh: weights, optimizer state, data order and step count are restored exactly. The
   * options stored in the checkpoint are used; the data must be the same set.
   */
  resume?: Uint8Array;
  /** Name of the resumed checkpoint in error messages (a file name or URL). */
  resumeName?: string;
}

/**
 * Callbacks and stop signal of {@link SoftDiffusionTrainer.run}.
 * @category One-call API
 */
export interface TrainRunOptions {
  /** Stop between two steps once this signal is aborted: `run` then resolves with `aborted: true`. */
  signal?: AbortSignal;
  /** Each loss read back: every `logEvery` steps (a training option) and after the last step. */
  onLog?: (r: LogRecord) => void | Promise<void>;
  /** After every step (progress bars). The loss is there only on steps where it was read back. */
  onStep?: (r: StepResult) => void;
  /** Draw preview samples with the EMA weights every this many steps (and after the last one). */
  sampleEvery?: number;
  /** Receives those previews (the training options' sampleCount, sampleSteps, sampler; fixed seed). */
  onSample?: (s: Samples & { step: number }) => void | Promise<void>;
  /** Hand checkpoint bytes to `onCheckpoint` every this many steps (and after the last one). */
  checkpointEvery?: number;
  /** Receives checkpoint bytes; store them (a file, IndexedDB, a download) before returning. */
  onCheckpoint?: (bytes: Uint8Array, step: number) => void | Promise<void>;
}

/**
 * What {@link SoftDiffusionTrainer.run} did.
 * @category One-call API
 */
export interface TrainRunResult {
  /** Steps done by this call. */
  steps: number;
  /** Steps done in total (the step count a checkpoint would record). */
  step: number;
  /** True when the signal stopped the run before all steps were done. */
  aborted: boolean;
  /** The last loss read back, null before the first read. */
  loss: number | null;
}

/**
 * A training run on the GPU: made by {@link SoftDiffusion.train}. Step it one at a time (a worker
 * loop) or run many steps with callbacks; `checkpoint()` gives bytes that
 * {@link SoftDiffusion.fromCheckpoint} (or `softdiff sample`) loads.
 *
 * @example
 * ```ts
 * const trainer = await SoftDiffusion.train(gpu, { synthetic: 'blobs', size: 32 }, { model: 'mnist', batch: 16 });
 * const stop = new AbortController();
 * await trainer.run(1000, { signal: stop.signal, onLog: (r) => console.log(r.step, r.loss) });
 * const bytes = await trainer.checkpoint();
 * const samples = await trainer.sample({ count: 16, seed: 1 });
 * trainer.destroy();
 * ```
 * @category One-call API
 */
export class SoftDiffusionTrainer {
  private readonly sampling: Sampling;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly started = performance.now();
  private prior: Float32Array;

  private constructor(
    /** The lower-level Trainer this wraps (for loops of your own). */
    readonly trainer: Trainer,
  ) {
    const o = trainer.options;
    this.prior = trainer.prior;
    this.sampling = new Sampling(
      trainer.gpu,
      { config: o.model, corruption: trainer.corruption, noise: trainer.noise, priorBank: trainer.prior },
      { count: o.sampleCount, steps: o.sampleSteps, sampler: o.sampler, langevinSteps: 100 },
      null,
      (run) => run.copyWeightsFrom(trainer.optimizer.ema),
      'trainer',
    );
  }

  /** @internal Use SoftDiffusion.train. */
  static async create(gpu: Gpu, dataset: Dataset, options: TrainOptions): Promise<SoftDiffusionTrainer> {
    const { resume, resumeName, ...opts } = options;
    const trainer = resume ? await Trainer.fromCheckpoint(gpu, dataset, resume, resumeName ?? 'checkpoint') : await Trainer.create(gpu, dataset, opts);
    return new SoftDiffusionTrainer(trainer);
  }

  /** Every option with its value (what a checkpoint stores). */
  get options(): ResolvedOptions {
    return this.trainer.options;
  }
  /** The data set being trained on. */
  get dataset(): Dataset {
    return this.trainer.dataset;
  }
  /** Steps done so far. */
  get currentStep(): number {
    return this.trainer.currentStep;
  }
  /** The last loss read back (null before the first read). */
  get loss(): number | null {
    return this.trainer.loss;
  }
  /** Number of trained parameters of the network. */
  get parameters(): number {
    return this.trainer.net.flatLayout.used;
  }

  /**
   * One training step (one GPU submit). The loss is read back every `logEvery` steps, or on this
   * step when `readLoss` is true (each read waits for the GPU). A NonFiniteError stops training.
   */
  step(opts: { readLoss?: boolean } = {}): Promise<StepResult> {
    return this.exclusive(() => this.trainer.step(opts));
  }

  /**
   * Run `count` more steps. Between steps it yields to other calls (a `sample()` or `checkpoint()`
   * issued meanwhile runs between two steps) and checks `signal`. Resolves when done or aborted.
   */
  async run(count: number, o: TrainRunOptions = {}): Promise<TrainRunResult> {
    const t = this.trainer;
    const every = (n: number | undefined, s: number) => !!n && n > 0 && s % n === 0;
    let done = 0;
    for (; done < count; done++) {
      if (o.signal?.aborted) break;
      const last = done === count - 1;
      await this.exclusive(async () => {
        const next = t.currentStep + 1;
        const save = !!o.onCheckpoint && (every(o.checkpointEvery, next) || last);
        const r = await t.step({ readLoss: next % t.options.logEvery === 0 || save || last });
        if (r.loss !== undefined) await o.onLog?.({ step: r.step, loss: r.loss, lr: t.learningRate(r.step), elapsed: (performance.now() - this.started) / 1000 });
        o.onStep?.(r);
        if (o.onSample && (every(o.sampleEvery, r.step) || last)) await o.onSample({ step: r.step, ...(await this.sampleNow({ seed: t.options.seed })) });
        if (save) await t.saveCheckpoint(o.onCheckpoint!);
      });
    }
    return { steps: done, step: t.currentStep, aborted: done < count, loss: t.loss };
  }

  /** The whole training state as checkpoint bytes (safetensors), verified finite. */
  checkpoint(): Promise<Uint8Array> {
    return this.exclusive(() => this.trainer.checkpoint());
  }

  /**
   * Samples with the current EMA weights. Defaults: the training options' `sampleCount`,
   * `sampleSteps` and `sampler`; seed 0. The same seed gives the same images as the checkpoint
   * of this state loaded with SoftDiffusion.fromCheckpoint.
   */
  sample(opts: SampleOptions = {}): Promise<Samples> {
    return this.exclusive(() => this.sampleNow(opts));
  }

  /** Plan (and compile) sampling for these options without sampling. */
  plan(opts: SampleOptions = {}): Promise<SamplePlan> {
    return this.exclusive(() => this.sampling.plan(opts));
  }

  /** Samples as RGBA pixels: a grid, or one image with `index` (see {@link samplesToRgba}). */
  toRgba(samples: Samples, opts: PictureOptions = {}): RgbaPicture {
    return samplesToRgba(samples, opts);
  }

  /** Samples as an ImageData for a canvas (see {@link samplesToImageData}). */
  toImageData(samples: Samples, opts: PictureOptions = {}): ImageData {
    return samplesToImageData(samples, opts);
  }

  /** Release every GPU buffer of the run, its samplers included (the Gpu itself stays yours). */
  destroy(): void {
    this.sampling.destroy();
    this.trainer.destroy();
  }

  private sampleNow(opts: SampleOptions): Promise<Samples> {
    const t = this.trainer;
    if (t.prior !== this.prior) {
      this.prior = t.prior;
      this.sampling.source = { config: t.options.model, corruption: t.corruption, noise: t.noise, priorBank: t.prior };
    }
    return this.sampling.sample(opts);
  }

  private exclusive<T>(job: () => Promise<T>): Promise<T> {
    const next = this.queue.then(job);
    this.queue = next.catch(() => {});
    return next;
  }
}
