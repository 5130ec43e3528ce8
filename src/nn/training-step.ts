// One training step = one submit: forward, the loss and its gradient dL/dphi (written into
// net.dPhi), backward, the optimizer (and whatever else the caller adds, e.g. the EMA update), all
// prebuilt dispatches recorded into one command encoder. Nothing is read back, except that every
// N steps the caller may ask for the loss: the step then copies it into a mappable buffer inside
// the same submit and resolves asynchronously, without stalling the next steps.
import type { Gpu } from '../gpu/gpu.ts';
import type { Dispatch } from '../gpu/kernel.ts';
import type { Recorder } from '../gpu/recorder.ts';
import type { Tensor } from '../gpu/tensor.ts';
import { BufferUsage, MapMode } from '../gpu/usage.ts';
import type { UNet } from './unet.ts';

export interface TrainingStepParts {
  /** Dispatches that fill the network input (x_t, levels) from the batch, e.g. the corruption. */
  prepare?: Dispatch[];
  /** Dispatches computing the loss (into `loss`) and dL/dphi (into net.dPhi) from net.phi. */
  loss: Dispatch[];
  /** The scalar loss tensor (at least one element). */
  lossTensor: Tensor;
  /** Optimizer dispatches (reading the gradient buffer, updating parameters). */
  optimizer: Dispatch[];
  /** After the optimizer: EMA update, statistics... */
  after?: Dispatch[];
}

export class TrainingStep {
  private readonly all: Dispatch[];
  private readonly freeStaging: GPUBuffer[] = [];
  /** The step's own scope: the loss readback buffers. */
  readonly gpu: Gpu;

  constructor(
    gpu: Gpu,
    readonly net: UNet,
    readonly parts: TrainingStepParts,
  ) {
    if (!net.backwardDispatches.length) throw new Error('TrainingStep needs a U-Net planned for training');
    this.gpu = gpu.scope('training-step');
    this.all = [...(parts.prepare ?? []), ...net.forwardDispatches, ...parts.loss, ...net.backwardDispatches, ...parts.optimizer, ...(parts.after ?? [])];
  }

  /** Every dispatch of a step, in order (for profiling). */
  get dispatchList(): readonly Dispatch[] {
    return this.all;
  }

  /** Compute dispatches per step (the budget for the bench network is < 300). */
  get dispatchesPerStep(): number {
    return this.all.length;
  }

  /** Counts by phase, for reports. */
  get dispatchBreakdown(): Record<string, number> {
    const p = this.parts;
    return {
      prepare: p.prepare?.length ?? 0,
      forward: this.net.forwardDispatches.length,
      loss: p.loss.length,
      backward: this.net.backwardDispatches.length,
      optimizer: p.optimizer.length,
      after: p.after?.length ?? 0,
    };
  }

  /** Record the whole step into `rec` (for callers that add work to the same submit). */
  record(rec: Recorder): Recorder {
    return rec.run(this.all);
  }

  /**
   * Record and submit one step. With `readLoss`, returns a promise of the loss value read
   * asynchronously (await it whenever convenient; the queue keeps running meanwhile).
   */
  run(opts: { readLoss?: boolean } = {}): Promise<number> | null {
    const rec = this.gpu.recorder('train-step');
    this.record(rec);
    let staging: GPUBuffer | null = null;
    if (opts.readLoss) {
      staging = this.freeStaging.pop() ?? this.gpu.buffer(16, 'loss-readback', BufferUsage.MAP_READ | BufferUsage.COPY_DST);
      rec.copyBuffer(this.parts.lossTensor.buffer, this.parts.lossTensor.byteOffset, staging, 0, 4);
    }
    rec.submit();
    if (!staging) return null;
    const buf = staging;
    return buf.mapAsync(MapMode.READ).then(() => {
      const v = new Float32Array(buf.getMappedRange(0, 4))[0]!;
      buf.unmap();
      this.freeStaging.push(buf);
      return v;
    });
  }

  /** Release the readback buffers (the dispatches' buffers belong to their own plans). */
  destroy(): void {
    this.freeStaging.length = 0;
    this.gpu.destroy();
  }
}
