// The Trainer: Soft Diffusion training of the U-Net on a data set, entirely on the GPU, one submit per
// step. Browser-safe: the Node CLI and the browser demo (from a Web Worker, step by step) share it.
// This file is the loop; step-builder.ts plans the GPU step, training-state.ts moves the state in
// and out of checkpoints.
//
// One step: the host draws t per sample (seeded HostRng, stratified by default), writes the levels
// [B, 4] = (t, C level, sigma, w) and the GPU RNG key (seed, step) with queue.writeBuffer and uploads
// the batch; then ONE submit runs the planned step (noise, corruption, forward, loss, backward,
// AdamW + EMA). Every `logEvery` steps the loss is copied into a mappable buffer in the same submit
// and read asynchronously. A non-finite loss stops training with a NonFiniteError naming the step;
// checkpoints are only made from a state whose loss and tensors are finite, so the last good
// checkpoint is never overwritten by a bad one. Everything the trainer allocates (its plan, the
// preview sampler) lives in its scope; destroy() releases it.
import type { Gpu } from '../gpu/gpu.ts';
import { NonFiniteError } from '../gpu/errors.ts';
import type { Dataset } from '../data/dataset.ts';
import { HostRng, mixSeed } from '../base/host-rng.ts';
import { LEVEL_STRIDE } from '../kernels/levels.ts';
import type { AdamW } from '../kernels/adamw.ts';
import type { UNet } from '../nn/unet.ts';
import { Schedule, fillLevels } from '../diffusion/schedule.ts';
import type { Corruption } from '../diffusion/types.ts';
import { SampleRun, type SampleResult } from '../sample/sample-run.ts';
import { computePriorBank } from '../sample/bank-prior.ts';
import { corruptionFromJSON, lossWeight, resolveOptions, type ResolvedOptions, type TrainerOptions } from './options.ts';
import { decodeCheckpointFile, encodeTrainingState, type DecodedCheckpoint, type FlatCopy, type TrainingState } from './checkpoint-state.ts';
import { buildTrainingPlan, SEED_STREAM, type TrainingPlan } from './step-builder.ts';
import { adoptVariantChoices, captureState, checkDataset, nonFiniteCopy, readFlatCopies, readFlatCopy, restoreState } from './training-state.ts';

export interface StepResult {
  /** Steps completed, this one included. */
  step: number;
  /** The batch loss of this step, when it was read back. */
  loss?: number;
}

export interface LogRecord {
  step: number;
  loss: number;
  /** Learning rate of the step (after warmup). */
  lr: number;
  /** Seconds since the trainer was created (or resumed). */
  elapsed: number;
}

export interface RunCallbacks {
  /** After every step (progress bars). */
  onStep?: (r: StepResult) => void;
  /** Each loss read back (every logEvery steps, and at checkpoints and the last step). */
  onLog?: (r: LogRecord) => void | Promise<void>;
  /** Preview grids every `sampleEvery` steps (and after the last step) with the EMA weights; made after that step's checkpoint. */
  sampleEvery?: number;
  onSample?: (s: SampleResult & { step: number }) => void | Promise<void>;
  /** Checkpoint bytes every `checkpointEvery` steps (and after the last step); write them atomically. */
  checkpointEvery?: number;
  onCheckpoint?: (bytes: Uint8Array, step: number) => void | Promise<void>;
  /** Awaited every `evalEvery` steps (e.g. quality scores of the EMA weights; the CLI's --eval-every). */
  evalEvery?: number;
  onEval?: (step: number) => void | Promise<void>;
  /** Polled before each step: return true to pause (run returns; call run again to continue). */
  shouldStop?: () => boolean;
}

export class Trainer {
  private steps = 0;
  private failure: NonFiniteError | null = null;
  private inFlight: Promise<void> = Promise.resolve();
  private preview: SampleRun | null = null;
  private lastGoodCheckpoint: number | null = null;
  private lastLoss: number | null = null;
  private readonly started = performance.now();
  private readonly levelsHost: Float32Array<ArrayBuffer>;
  private readonly weight: (t: number, sigma: number) => number;
  /** After fromCheckpoint: what became of the kernel variant choices stored in the checkpoint (null: none stored). */
  variantNote: string | null = null;

  private constructor(
    /** The trainer's own scope. */
    readonly gpu: Gpu,
    readonly dataset: Dataset,
    readonly options: ResolvedOptions,
    readonly corruption: Corruption,
    readonly noise: Schedule,
    private readonly plan: TrainingPlan,
    private hostRng: HostRng,
    private priorBank: Float32Array,
  ) {
    this.levelsHost = new Float32Array(options.batch * LEVEL_STRIDE);
    this.weight = lossWeight(options.weighting);
  }

  /** Plan everything for (model, batch) in a scope of `parent`: buffers, dispatches, optimizer; draws the prior bank. */
  static async create(parent: Gpu, dataset: Dataset, opts: TrainerOptions = {}): Promise<Trainer> {
    const o = resolveOptions(opts, dataset);
    const corruption = corruptionFromJSON(o.corruption);
    const noise = Schedule.fromJSON(o.noise);
    const gpu = parent.scope('trainer');
    try {
      const plan = await buildTrainingPlan(gpu, dataset, o, corruption);
      const bank = await computePriorBank(gpu, dataset, corruption, Math.min(o.priorBank, dataset.length), mixSeed(o.seed, SEED_STREAM.priorBank));
      return new Trainer(gpu, dataset, o, corruption, noise, plan, new HostRng(mixSeed(o.seed, SEED_STREAM.times)), bank);
    } catch (e) {
      gpu.destroy();
      throw e;
    }
  }

  /** A trainer continuing from checkpoint bytes (options from the file; data set must match). */
  static async fromCheckpoint(gpu: Gpu, dataset: Dataset, ckpt: DecodedCheckpoint | Uint8Array, source = 'checkpoint'): Promise<Trainer> {
    const decoded = ckpt instanceof Uint8Array ? decodeCheckpointFile(ckpt, source) : ckpt;
    checkDataset(decoded, dataset);
    const variantNote = adoptVariantChoices(gpu, decoded.fields.variants); // before planning: the plan picks the variants
    const trainer = await Trainer.create(gpu, dataset, decoded.fields.options);
    trainer.variantNote = variantNote;
    try {
      await trainer.restore(decoded);
    } catch (e) {
      trainer.destroy();
      throw e;
    }
    return trainer;
  }

  /** Steps completed. */
  get currentStep(): number {
    return this.steps;
  }
  get net(): UNet {
    return this.plan.net;
  }
  get optimizer(): AdamW {
    return this.plan.optimizer;
  }
  /** The last loss read back (null before the first read). */
  get loss(): number | null {
    return this.lastLoss;
  }
  /** Step of the last checkpoint handed to onCheckpoint successfully. */
  get lastCheckpointStep(): number | null {
    return this.lastGoodCheckpoint;
  }
  /** C_1 x0 of K training images [K, C, H, W] (the sampler's prior). */
  get prior(): Float32Array {
    return this.priorBank;
  }

  /** Learning rate of step `s` (1-based) after warmup. */
  learningRate(s = this.steps): number {
    return this.plan.optimizer.learningRateAt(s);
  }

  /** One training step (one submit). With readLoss (default: every logEvery steps) the loss is read back. */
  async step(opts: { readLoss?: boolean } = {}): Promise<StepResult> {
    if (this.failure) throw this.failure;
    const { gpu, plan, options: o } = this;
    const s = this.steps;
    fillLevels(this.corruption, this.noise, this.drawTimes(), this.weight, this.levelsHost);
    gpu.write(plan.levels, this.levelsHost);
    plan.rng.set(plan.rng.seed, s >>> 0);
    plan.streamer.next();
    const readLoss = opts.readLoss ?? (s + 1) % o.logEvery === 0;
    const pending = plan.step.run({ readLoss });
    plan.streamer.prefetch(); // the next batch is read on the host while the GPU runs this step
    this.steps = s + 1;
    // Keep at most one step queued behind the running one, so the host never runs far ahead.
    const done = gpu.device.queue.onSubmittedWorkDone();
    await this.inFlight;
    this.inFlight = done;
    if (!pending) return { step: this.steps };
    const loss = await pending;
    gpu.check();
    if (!Number.isFinite(loss)) {
      const kept = this.lastGoodCheckpoint === null ? 'no checkpoint had been written yet' : `the last good checkpoint (step ${this.lastGoodCheckpoint}) is kept`;
      this.failure = new NonFiniteError(`The training loss is ${loss} at step ${this.steps}; training stopped.`, `${kept[0]!.toUpperCase()}${kept.slice(1)}. Lower the learning rate (now ${o.lr}) or keep gradient clipping on (clipNorm ${o.clipNorm}).`);
      throw this.failure;
    }
    this.lastLoss = loss;
    return { step: this.steps, loss };
  }

  /** Run `count` more steps with logging, previews and checkpoints; returns early when shouldStop says so. */
  async run(count: number, cb: RunCallbacks = {}): Promise<void> {
    const every = (n: number | undefined, s: number) => !!n && n > 0 && s % n === 0;
    for (let i = 0; i < count; i++) {
      if (cb.shouldStop?.()) return;
      const next = this.steps + 1;
      const last = i === count - 1;
      const save = !!cb.onCheckpoint && (every(cb.checkpointEvery, next) || last);
      const r = await this.step({ readLoss: next % this.options.logEvery === 0 || save || last });
      if (r.loss !== undefined) await cb.onLog?.({ step: r.step, loss: r.loss, lr: this.learningRate(r.step), elapsed: (performance.now() - this.started) / 1000 });
      cb.onStep?.(r);
      // The checkpoint before the preview: a preview that fails (a full disk, an unwritable folder)
      // must not cost the steps since the last checkpoint.
      if (save) await this.saveCheckpoint(cb.onCheckpoint!);
      if (cb.onSample && (every(cb.sampleEvery, r.step) || last)) {
        await cb.onSample({ step: r.step, ...(await this.sample()) });
      }
      if (cb.onEval && every(cb.evalEvery, r.step)) await cb.onEval(r.step);
    }
  }

  /** Hand a checkpoint of the current (verified finite) state to `write`; remembers it as the last good one. */
  async saveCheckpoint(write: (bytes: Uint8Array, step: number) => void | Promise<void>): Promise<void> {
    const bytes = await this.checkpoint();
    await write(bytes, this.steps);
    this.lastGoodCheckpoint = this.steps;
  }

  /** Preview samples with the EMA weights (momentum sampler by default), same seed every time. */
  async sample(seed = this.options.seed): Promise<SampleResult> {
    if (this.failure) throw this.failure;
    const o = this.options;
    if (!this.preview)
      this.preview = await SampleRun.create(this.gpu, {
        config: o.model,
        corruption: this.corruption,
        noise: this.noise,
        priorBank: this.priorBank,
        count: o.sampleCount,
        steps: o.sampleSteps,
        sampler: o.sampler,
        langevinStepsPerLevel: 5,
      });
    this.preview.copyWeightsFrom(this.plan.optimizer.ema);
    return this.preview.run(seed);
  }

  /** The flat weights (or EMA, Adam moments) in the network's layout. */
  readFlat(which: FlatCopy): Promise<Float32Array> {
    return readFlatCopy(this.plan, which);
  }

  /** The whole training state, read back and checked finite (a NonFiniteError names the step otherwise). */
  async state(): Promise<TrainingState> {
    if (this.failure) throw this.failure;
    await this.gpu.done();
    const flat = await readFlatCopies(this.plan);
    const bad = nonFiniteCopy(flat);
    if (bad) {
      this.failure = new NonFiniteError(`The ${bad} tensor holds a non-finite value at step ${this.steps}; training stopped.`, this.lastGoodCheckpoint === null ? 'No checkpoint had been written yet.' : `The last good checkpoint (step ${this.lastGoodCheckpoint}) is kept.`);
      throw this.failure;
    }
    const host = { step: this.steps, hostRng: this.hostRng.state, lastLoss: this.lastLoss, priorBank: this.priorBank };
    return captureState(this.plan, flat, host, this.options, this.dataset);
  }

  /** The state as checkpoint bytes (safetensors). */
  async checkpoint(): Promise<Uint8Array> {
    return encodeTrainingState(this.plan.net.flatLayout, await this.state());
  }

  /** Continue from a checkpoint of the same configuration; everything is validated before anything is written. */
  async restore(ckpt: DecodedCheckpoint | Uint8Array, source = 'checkpoint'): Promise<void> {
    const decoded = ckpt instanceof Uint8Array ? decodeCheckpointFile(ckpt, source) : ckpt;
    const host = restoreState(this.plan, decoded, this.options, this.dataset);
    this.hostRng = new HostRng(host.hostRng);
    this.priorBank = host.priorBank;
    this.preview?.destroy();
    this.preview = null;
    this.steps = host.step;
    this.lastLoss = host.lastLoss;
    this.lastGoodCheckpoint = host.step;
    this.failure = null;
    await this.gpu.done();
  }

  /** Release everything the trainer allocated (network, optimizer, data stream, preview sampler). */
  destroy(): void {
    this.gpu.destroy();
  }

  /** t per sample in [tMin, 1]: one per stratum of the batch (stratified) or i.i.d. uniform. */
  private drawTimes(): number[] {
    const { batch, tMin, stratified } = this.options;
    const rng = this.hostRng;
    return Array.from({ length: batch }, (_, b) => tMin + (1 - tMin) * (stratified ? (b + rng.next()) / batch : rng.next()));
  }
}
