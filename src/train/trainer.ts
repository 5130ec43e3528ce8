// The Trainer: Soft Diffusion training of the U-Net on a data set, entirely on the GPU, one submit per
// step. Browser-safe: the Node CLI and the browser demo (from a Web Worker, step by step) share it.
//
// One step: the host draws t per sample (seeded HostRng, stratified by default), writes the levels
// [B, 4] = (t, C level, sigma, w) and the GPU RNG key (seed, step) with queue.writeBuffer and uploads the
// batch; then ONE submit records: eta ~ N(0, I) (GPU RNG), x_t = C_t x0 + sigma eta, the U-Net forward
// (phi), the loss and dL/dphi (soft score matching by default), backward, AdamW (clipping, warmup) and
// its EMA update. Every `logEvery` steps the loss is copied into a mappable buffer in the same submit
// and read asynchronously. A non-finite loss stops training with a NonFiniteError naming the step;
// checkpoints are only made from a state whose loss and tensors are finite, so the last good
// checkpoint is never overwritten by a bad one.
import type { Gpu } from '../gpu/gpu.ts';
import { CheckpointError, NonFiniteError } from '../gpu/errors.ts';
import { Tensor } from '../gpu/tensor.ts';
import type { Dataset } from '../data/dataset.ts';
import { BatchStreamer } from '../data/batch-streamer.ts';
import { HostRng, mixSeed } from '../data/host-rng.ts';
import { UNet } from '../nn/unet.ts';
import { TrainingStep } from '../nn/training-step.ts';
import { AdamW } from '../kernels/adamw.ts';
import { coldX0Loss, corruptBatch, dsmLoss, softScoreLoss } from '../diffusion/losses.ts';
import { randomNormal, RngState } from '../diffusion/rng.ts';
import { Schedule, fillLevels } from '../diffusion/schedule.ts';
import { LEVEL_STRIDE, type Corruption } from '../diffusion/types.ts';
import { SampleRun, type SampleResult } from '../sample/sample-run.ts';
import { corruptionFromJSON, lossWeight, resolveOptions, type ResolvedOptions, type TrainerOptions } from './options.ts';
import { decodeCheckpointFile, encodeTrainingState, stateForLayout, STATE_KIND, type DecodedCheckpoint, type FlatCopy, type TrainingState } from './checkpoint-state.ts';

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
  /** Preview grids every `sampleEvery` steps (and after the last step) with the EMA weights. */
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

/** Internal GPU pieces of a trainer. */
interface Parts {
  net: UNet;
  optimizer: AdamW;
  streamer: BatchStreamer;
  step: TrainingStep;
  levels: Tensor;
  rng: RngState;
  owned: Tensor[];
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

  private constructor(
    readonly gpu: Gpu,
    readonly dataset: Dataset,
    readonly options: ResolvedOptions,
    readonly corruption: Corruption,
    readonly noise: Schedule,
    private readonly parts: Parts,
    private readonly hostRng: { rng: HostRng },
    private priorBank: Float32Array,
  ) {
    this.levelsHost = new Float32Array(options.batch * LEVEL_STRIDE);
    this.weight = lossWeight(options.weighting);
  }

  /** Plan everything for (model, batch): buffers, dispatches, optimizer; draws the prior bank. */
  static async create(gpu: Gpu, dataset: Dataset, opts: TrainerOptions = {}): Promise<Trainer> {
    const o = resolveOptions(opts, dataset);
    const corruption = corruptionFromJSON(o.corruption);
    const noise = Schedule.fromJSON(o.noise);
    const b = o.batch;
    const shape = [b, dataset.channels, dataset.size, dataset.size];
    const streamer = new BatchStreamer(gpu, dataset, { batch: b, seed: mixSeed(o.seed, 1), shuffle: true, flip: o.flip, slots: 1, label: 'train:x0' });
    const x0 = streamer.tensors[0]!;
    const levels = gpu.tensor([b, LEVEL_STRIDE], 'train:levels');
    const eta = gpu.tensor(shape, 'train:noise');
    const perSample = gpu.tensor([b], 'train:loss-per-sample');
    const loss = gpu.tensor([1], 'train:loss');
    const net = await UNet.create(gpu, o.model, { batch: b, seed: o.seed, levels });
    const layout = net.plan.graph.params;
    const flatTensor = (buf: GPUBuffer | null, label: string) => new Tensor(buf!, [layout.size], 0, 'f32', label);
    const optimizer = await AdamW.create(gpu, layout, flatTensor(net.buffers.params, 'params'), flatTensor(net.buffers.grads, 'grads'), {
      lr: o.lr,
      warmupSteps: o.warmupSteps,
      clipNorm: o.clipNorm,
      weightDecay: o.weightDecay,
      emaDecay: o.emaDecay,
    });
    const rng = new RngState(gpu, mixSeed(o.seed, 2), 0);
    const prepare = [await randomNormal(gpu, eta, rng), ...(await corruptBatch(gpu, corruption, x0, eta, levels, net.x))];
    const lossTensors = { phi: net.phi, xt: net.x, x0, levels, grad: net.dPhi, perSample, loss };
    const lossDispatches =
      o.loss === 'x0' ? await coldX0Loss(gpu, lossTensors)
      : o.loss === 'dsm' ? await dsmLoss(gpu, corruption, { ...lossTensors, noise: eta })
      : await softScoreLoss(gpu, corruption, lossTensors);
    const step = new TrainingStep(gpu, net, { prepare, loss: lossDispatches, lossTensor: loss, optimizer: optimizer.dispatches() });
    const bank = await computePriorBank(gpu, dataset, corruption, Math.min(o.priorBank, dataset.length), mixSeed(o.seed, 4));
    return new Trainer(gpu, dataset, o, corruption, noise, { net, optimizer, streamer, step, levels, rng, owned: [levels, eta, perSample, loss] }, { rng: new HostRng(mixSeed(o.seed, 3)) }, bank);
  }

  /** A trainer continuing from checkpoint bytes (options from the file; data set must match). */
  static async fromCheckpoint(gpu: Gpu, dataset: Dataset, ckpt: DecodedCheckpoint | Uint8Array, source = 'checkpoint'): Promise<Trainer> {
    const decoded = ckpt instanceof Uint8Array ? decodeCheckpointFile(ckpt, source) : ckpt;
    checkDataset(decoded, dataset);
    const trainer = await Trainer.create(gpu, dataset, decoded.fields.options);
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
    return this.parts.net;
  }
  get optimizer(): AdamW {
    return this.parts.optimizer;
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
    const w = this.options.warmupSteps;
    return w > 0 ? this.options.lr * Math.min(1, s / w) : this.options.lr;
  }

  /** One training step (one submit). With readLoss (default: every logEvery steps) the loss is read back. */
  async step(opts: { readLoss?: boolean } = {}): Promise<StepResult> {
    if (this.failure) throw this.failure;
    const { gpu, parts, options: o } = this;
    const s = this.steps;
    fillLevels(this.corruption, this.noise, this.drawTimes(), this.weight, this.levelsHost);
    gpu.write(parts.levels, this.levelsHost);
    parts.rng.set(parts.rng.seed, s >>> 0);
    parts.streamer.next();
    const readLoss = opts.readLoss ?? (s + 1) % o.logEvery === 0;
    const pending = parts.step.run({ readLoss });
    parts.streamer.prefetch(); // the next batch is read on the host while the GPU runs this step
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
      if (cb.onSample && (every(cb.sampleEvery, r.step) || last)) {
        await cb.onSample({ step: r.step, ...(await this.sample()) });
      }
      if (save) await this.saveCheckpoint(cb.onCheckpoint!);
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
    this.preview.copyWeightsFrom(this.parts.optimizer.ema.buffer, this.parts.optimizer.ema.byteOffset);
    return this.preview.run(seed);
  }

  /** The flat weights (or EMA, Adam moments) in the network's layout. */
  async readFlat(which: FlatCopy): Promise<Float32Array> {
    const { optimizer, net } = this.parts;
    if (which === 'model') return net.readFlat('params');
    const t = which === 'ema' ? optimizer.ema : which === 'adam_m' ? optimizer.m : optimizer.v;
    return this.gpu.read(t);
  }

  /** The whole training state, read back and checked finite (a NonFiniteError names the step otherwise). */
  async state(): Promise<TrainingState> {
    if (this.failure) throw this.failure;
    await this.gpu.done();
    const flat = {} as Record<FlatCopy, Float32Array>;
    for (const copy of ['model', 'ema', 'adam_m', 'adam_v'] as const) {
      const a = await this.readFlat(copy);
      for (let i = 0; i < a.length; i++)
        if (!Number.isFinite(a[i]!)) {
          this.failure = new NonFiniteError(`The ${copy} tensor holds a non-finite value at step ${this.steps}; training stopped.`, this.lastGoodCheckpoint === null ? 'No checkpoint had been written yet.' : `The last good checkpoint (step ${this.lastGoodCheckpoint}) is kept.`);
          throw this.failure;
        }
      flat[copy] = a;
    }
    const { streamer, rng, optimizer } = this.parts;
    const ds = this.dataset;
    return {
      fields: {
        kind: STATE_KIND,
        options: this.options,
        step: this.steps,
        dataset: { name: ds.name, channels: ds.channels, size: ds.size, length: ds.length },
        hostRng: this.hostRng.rng.state,
        streamer: streamer.state,
        gpuRng: { seed: rng.seed, counter: this.steps },
        adamStep: (await optimizer.readState()).step,
        lastLoss: this.lastLoss,
      },
      flat,
      priorBank: this.priorBank,
    };
  }

  /** The state as checkpoint bytes (safetensors). */
  async checkpoint(): Promise<Uint8Array> {
    return encodeTrainingState(this.parts.net.plan.graph.params, await this.state());
  }

  /** Continue from a checkpoint of the same configuration; everything is validated before anything is written. */
  async restore(ckpt: DecodedCheckpoint | Uint8Array, source = 'checkpoint'): Promise<void> {
    const decoded = ckpt instanceof Uint8Array ? decodeCheckpointFile(ckpt, source) : ckpt;
    const f = decoded.fields;
    const mismatch = firstDifference(f.options, this.options);
    if (mismatch) throw new CheckpointError(`${decoded.source} was written with a different configuration (${mismatch}).`, 'Resume with the options stored in the checkpoint (Trainer.fromCheckpoint / `softdiff train --resume`).');
    checkDataset(decoded, this.dataset);
    const s = stateForLayout(decoded, this.parts.net.plan.graph.params);
    const { gpu, parts } = this;
    if (f.gpuRng.seed !== parts.rng.seed) throw new CheckpointError(`${decoded.source}: GPU RNG seed ${f.gpuRng.seed} does not match ${parts.rng.seed}.`);
    parts.streamer.restore(f.streamer); // validates before changing anything
    parts.net.setParameters(s.flat.model);
    const q = gpu.device.queue;
    for (const [copy, t] of [['ema', parts.optimizer.ema], ['adam_m', parts.optimizer.m], ['adam_v', parts.optimizer.v]] as const)
      q.writeBuffer(t.buffer, t.byteOffset, s.flat[copy].buffer, s.flat[copy].byteOffset, s.flat[copy].byteLength);
    parts.optimizer.setStep(f.adamStep);
    this.hostRng.rng = new HostRng(f.hostRng);
    this.priorBank = s.priorBank;
    this.preview?.destroy();
    this.preview = null;
    this.steps = f.step;
    this.lastLoss = f.lastLoss ?? null;
    this.lastGoodCheckpoint = f.step;
    this.failure = null;
    await gpu.done();
  }

  destroy(): void {
    const { parts, gpu } = this;
    this.preview?.destroy();
    parts.step.destroy();
    parts.net.destroy();
    parts.streamer.release();
    parts.rng.destroy();
    for (const t of [parts.optimizer.m, parts.optimizer.v, parts.optimizer.ema, ...parts.owned]) gpu.pool.release(t);
  }

  /** t per sample in [tMin, 1]: one per stratum of the batch (stratified) or i.i.d. uniform. */
  private drawTimes(): number[] {
    const { batch, tMin, stratified } = this.options;
    const rng = this.hostRng.rng;
    return Array.from({ length: batch }, (_, b) => tMin + (1 - tMin) * (stratified ? (b + rng.next()) / batch : rng.next()));
  }
}

/** C_1 x0 for `count` images picked by a seeded generator: the sampler's prior bank. */
async function computePriorBank(gpu: Gpu, ds: Dataset, corruption: Corruption, count: number, seed: number): Promise<Float32Array> {
  const per = ds.channels * ds.size * ds.size;
  const shape = [count, ds.channels, ds.size, ds.size];
  const rng = new HostRng(seed);
  const host = new Float32Array(count * per);
  for (let k = 0; k < count; k++) host.set(ds.get(rng.int(ds.length)), k * per);
  const x0 = gpu.upload(host, shape, 'prior-bank:x0');
  const out = gpu.tensor(shape, 'prior-bank:c1x0');
  const levels = gpu.upload(fillLevels(corruption, Schedule.geometric(1, 1), Array(count).fill(1)), [count, LEVEL_STRIDE], 'prior-bank:levels');
  gpu.recorder('prior-bank').run(await corruption.apply(gpu, x0, out, levels)).submit();
  const bank = await gpu.read(out);
  for (const t of [x0, out, levels]) gpu.pool.release(t);
  return bank;
}

function checkDataset(ckpt: DecodedCheckpoint, ds: Dataset): void {
  const d = ckpt.fields.dataset;
  if (d.name !== ds.name || d.channels !== ds.channels || d.size !== ds.size || d.length !== ds.length)
    throw new CheckpointError(
      `${ckpt.source} was trained on '${d.name}' (${d.length} images, ${d.channels}x${d.size}x${d.size}), not on '${ds.name}' (${ds.length} images, ${ds.channels}x${ds.size}x${ds.size}).`,
      'Resume with the same data set (a changed data set would break the exact continuation of the data order).',
    );
}

/** A readable description of the first difference between two JSON values, or null. */
export function firstDifference(a: unknown, b: unknown, path = 'options'): string | null {
  if (typeof a !== typeof b || Array.isArray(a) !== Array.isArray(b) || (a === null) !== (b === null)) return `${path}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`;
  if (a && typeof a === 'object') {
    const ka = Object.keys(a as object);
    const kb = Object.keys(b as object);
    for (const k of new Set([...ka, ...kb])) {
      const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
      if (d) return d;
    }
    return null;
  }
  return a === b ? null : `${path}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`;
}
