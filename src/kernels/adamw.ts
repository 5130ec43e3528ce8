// AdamW with global-norm gradient clipping, linear learning-rate warmup and an EMA copy of the weights,
// over every parameter of a FlatLayout at once (shaders/adamw.wgsl). A step is three prebuilt
// dispatches (gradient sum-of-squares partials, a one-workgroup finalize, the element-wise update)
// recorded into the caller's Recorder; nothing is read back.
//
// The step counter lives on the GPU (State.step), advanced by the finalize dispatch, so recording the
// same dispatches every step needs no host write. `stepCount` is the host's count of record() calls
// (plus setStep); readState() reads the GPU's own values (for logs and tests, not the hot loop).
// The learning rate is a uniform: setLearningRate writes it with queue.writeBuffer, effective from
// the next submitted step; learningRateAt(step) is the host's copy of the shader's warmup formula.
//
// The optimizer owns its state: the moments m and v, the EMA copy, the decay mask, the GPU State
// struct and its uniforms live in its own scope (destroy() releases them); exportState() and
// importState() move the moments, the EMA and the step counter in and out (checkpoints).
import type { Gpu } from '../gpu/gpu.ts';
import { grid1d, Params, type Dispatch } from '../gpu/kernel.ts';
import { ShapeError, ValueError } from '../gpu/errors.ts';
import type { FlatLayout } from '../gpu/flat-layout.ts';
import type { Recorder } from '../gpu/recorder.ts';
import type { Tensor } from '../gpu/tensor.ts';

export interface AdamWOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  /** Global gradient-norm bound; 0 or undefined disables clipping. */
  clipNorm?: number;
  /** Steps of linear warmup from lr/warmupSteps to lr; 0 disables. */
  warmupSteps?: number;
  /** ema = emaDecay * ema + (1 - emaDecay) * param after every step. Default 0.999. */
  emaDecay?: number;
  /**
   * Which parameters weight decay applies to. Default: tensors of two or more dimensions (conv and
   * linear weights), not biases or GroupNorm scales/shifts. `true` decays everything.
   */
  decay?: boolean | ((name: string, shape: readonly number[]) => boolean);
}

export interface AdamWState {
  step: number;
  /** Steps skipped because the gradient norm was not finite. */
  skipped: number;
  gradNorm: number;
  clip: number;
  /** The learning rate of the last step (after warmup). */
  lr: number;
  /** Bias corrections 1 - beta1^step, 1 - beta2^step of the last step. */
  bc1: number;
  bc2: number;
}

const WG = 256;
/**
 * Workgroups of the norm pass (one partial sum each; at most WG, one per finalize thread). A GPU wants
 * many; a CPU adapter pays per workgroup barrier (SwiftShader: 91 ms with 256, see bench/attention),
 * so few.
 */
const partialCount = (gpu: Gpu, n: number) => Math.max(1, Math.min(gpu.adapter.software ? 16 : WG, Math.ceil(n / WG)));
const STATE_BYTES = 48;

/** The optimizer's own state in the parameters' flat layout (padding included), for checkpoints. */
export interface AdamWSnapshot {
  m: Float32Array;
  v: Float32Array;
  ema: Float32Array;
  /** The GPU's step counter (steps applied, skipped ones not counted). */
  step: number;
}

export class AdamW {
  private stepsRecorded = 0;
  private constructor(
    /** The optimizer's own scope. */
    private readonly gpu: Gpu,
    readonly layout: FlatLayout,
    private readonly params: Tensor,
    readonly m: Tensor,
    readonly v: Tensor,
    readonly ema: Tensor,
    /** The GPU-side State struct (step, skipped, grad norm, ...). */
    readonly state: GPUBuffer,
    private readonly options: GPUBuffer,
    private readonly opts: Required<Omit<AdamWOptions, 'decay'>>,
    private readonly list: Dispatch[],
  ) {}

  /** Plans the optimizer over `params` with gradients `grads`; its state belongs to a scope of `gpu`. */
  static async create(parent: Gpu, layout: FlatLayout, params: Tensor, grads: Tensor, options: AdamWOptions): Promise<AdamW> {
    const n = layout.size;
    if (params.size !== n) throw new ShapeError('AdamW params', `${n} elements (the layout's size)`, `${params.size}`);
    if (grads.size !== n) throw new ShapeError('AdamW grads', `${n} elements (the layout's size)`, `${grads.size}`);
    const o = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, clipNorm: 0, warmupSteps: 0, emaDecay: 0.999, ...options };
    const check = (name: string, ok: boolean) => {
      if (!ok) throw new ValueError(`AdamW ${name} is out of range: ${(o as Record<string, unknown>)[name]}`);
    };
    check('lr', Number.isFinite(o.lr) && o.lr >= 0);
    check('beta1', o.beta1 >= 0 && o.beta1 < 1);
    check('beta2', o.beta2 >= 0 && o.beta2 < 1);
    check('eps', o.eps > 0);
    check('weightDecay', o.weightDecay >= 0);
    check('clipNorm', o.clipNorm >= 0);
    check('warmupSteps', Number.isInteger(o.warmupSteps) && o.warmupSteps >= 0);
    check('emaDecay', o.emaDecay >= 0 && o.emaDecay <= 1);
    const { decay, ...scalars } = o;

    const gpu = parent.scope('adamw');
    const m = gpu.tensor([n], 'adam:m', 'f32', 'the model size');
    const v = gpu.tensor([n], 'adam:v', 'f32', 'the model size');
    const ema = gpu.tensor([n], 'ema', 'f32', 'the model size');
    const maskT = gpu.upload(decayMask(layout, decay), [Math.ceil(n / 32) || 1], 'adam:decay-mask');
    const partialsN = partialCount(gpu, n);
    const partials = gpu.tensor([partialsN], 'adam:partials');
    const state = gpu.buffer(STATE_BYTES, 'adam:state');
    const uniform = gpu.uniform(optionsParams(n, partialsN, scalars), 'adam:options');


    const kernel = (entry: string, bindings: ('uniform' | 'read' | 'rw')[]) =>
      gpu.kernel({ shader: 'adamw', entry, bindings, constants: { WG }, flags: { PARTIAL: entry === 'sumsq_partial', FINALIZE: entry === 'finalize', UPDATE: entry === 'update' } });
    let kp, kf, ku;
    try {
      kp = await kernel('sumsq_partial', ['uniform', 'read', 'rw']);
      kf = await kernel('finalize', ['uniform', 'read', 'rw']);
      ku = await kernel('update', ['uniform', 'read', 'read', 'read', 'rw', 'rw', 'rw', 'rw']);
    } catch (e) {
      gpu.destroy();
      throw e;
    }
    const list = [
      kp.bind([uniform, grads, partials], [partialsN, 1, 1], 'adamw grad norm partials'),
      kf.bind([uniform, partials, state], [1, 1, 1], 'adamw finalize'),
      ku.bind([uniform, state, grads, maskT, params, m, v, ema], grid1d(n, WG), 'adamw update'),
    ];
    const opt = new AdamW(gpu, layout, params, m, v, ema, state, uniform, scalars, list);
    opt.resetEma();
    return opt;
  }

  /**
   * Copy the current parameters into the EMA (done at create; call again after the parameters are
   * initialised or loaded later).
   */
  resetEma(): void {
    const enc = this.gpu.device.createCommandEncoder({ label: 'adam:reset-ema' });
    enc.copyBufferToBuffer(this.params.buffer, this.params.byteOffset, this.ema.buffer, this.ema.byteOffset, this.params.byteLength);
    this.gpu.device.queue.submit([enc.finish()]);
  }

  /** The step's dispatches (the same objects every step). */
  dispatches(): Dispatch[] {
    return this.list;
  }

  /** Record one optimizer step into `rec`. */
  record(rec: Recorder): void {
    rec.run(this.list);
    this.stepsRecorded++;
  }

  /** Steps recorded through record() (plus setStep). The GPU's own counter: readState().step. */
  get stepCount(): number {
    return this.stepsRecorded;
  }

  get learningRate(): number {
    return this.opts.lr;
  }

  /** The learning rate the update applies at 1-based step `step`: adamw.wgsl's lr * min(1, step / warmup). */
  learningRateAt(step: number): number {
    const w = this.opts.warmupSteps;
    return w > 0 ? this.opts.lr * Math.min(1, step / w) : this.opts.lr;
  }

  /** Change the base learning rate from the next submitted step on. */
  setLearningRate(lr: number): void {
    if (!(Number.isFinite(lr) && lr >= 0)) throw new ValueError(`AdamW lr must be a finite non-negative number, got ${lr}`);
    this.opts.lr = lr;
    this.writeOptions();
  }

  /** Set the step counter (resuming from a checkpoint: the bias corrections and warmup continue from it). */
  setStep(step: number): void {
    if (!Number.isInteger(step) || step < 0) throw new ValueError(`AdamW step must be a non-negative integer, got ${step}`);
    this.gpu.device.queue.writeBuffer(this.state, 0, new Uint32Array([step]));
    this.stepsRecorded = step;
  }

  /** Reads the GPU state (waits for queued work). */
  async readState(): Promise<AdamWState> {
    const bytes = await this.gpu.readBytes(this.state, 0, STATE_BYTES);
    const u = new Uint32Array(bytes);
    const f = new Float32Array(bytes);
    return { step: u[0]!, skipped: u[1]!, gradNorm: f[4]!, clip: f[5]!, lr: f[6]!, bc1: f[7]!, bc2: f[8]! };
  }

  /** The moments, the EMA and the step counter, read back (waits for queued work). */
  async exportState(): Promise<AdamWSnapshot> {
    const [m, v, ema] = [await this.gpu.read(this.m), await this.gpu.read(this.v), await this.gpu.read(this.ema)];
    return { m, v, ema, step: (await this.readState()).step };
  }

  /** Overwrite the moments, the EMA and the step counter (e.g. from a checkpoint), on the queue. */
  importState(s: AdamWSnapshot): void {
    const n = this.layout.size;
    for (const [name, a] of [['m', s.m], ['v', s.v], ['ema', s.ema]] as const)
      if (a.length !== n) throw new ShapeError(`AdamW ${name} state`, `${n} values (the layout's size)`, `${a.length}`);
    this.gpu.write(this.m, s.m);
    this.gpu.write(this.v, s.v);
    this.gpu.write(this.ema, s.ema);
    this.setStep(s.step);
  }

  /** Release the optimizer's state (moments, EMA, mask, uniforms). */
  destroy(): void {
    this.gpu.destroy();
  }

  private writeOptions(): void {
    this.gpu.device.queue.writeBuffer(this.options, 0, optionsParams(this.layout.size, partialCount(this.gpu, this.layout.size), this.opts).toArrayBuffer());
  }
}

function optionsParams(n: number, partials: number, o: Required<Omit<AdamWOptions, 'decay'>>): Params {
  // beta = 0 has log -inf; -80 keeps the uniform finite and still gives 1 - beta^t = 1.
  const ln = (b: number) => Math.max(Math.log(b), -80);
  return new Params().u32(n, partials, o.warmupSteps, 0).f32(o.lr, o.beta1, o.beta2, o.eps, o.weightDecay, o.clipNorm, o.emaDecay, ln(o.beta1), ln(o.beta2));
}

/** One bit per element of the layout: 1 where weight decay applies. */
export function decayMask(layout: FlatLayout, decay: AdamWOptions['decay']): Uint32Array {
  const words = new Uint32Array(Math.ceil(layout.size / 32) || 1);
  const applies = typeof decay === 'function' ? decay : decay === true ? () => true : (_: string, shape: readonly number[]) => shape.length >= 2;
  for (const [name, e] of layout.entries) {
    if (!applies(name, e.shape)) continue;
    const count = e.shape.reduce((a, b) => a * b, 1);
    for (let i = e.offset; i < e.offset + count; i++) words[i >>> 5] = words[i >>> 5]! | (1 << (i & 31));
  }
  return words;
}
