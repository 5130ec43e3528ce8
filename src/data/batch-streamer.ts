// Feeds training batches to the GPU. The order is a seeded shuffle per epoch (a pure function of
// (seed, epoch)), flips are a pure function of (seed, epoch, position), so the stream's whole state
// is three numbers that a checkpoint can hold and a resumed run continues exactly.
//
// Overlap: JavaScript is single-threaded, so the host work (reading and flipping B images) overlaps
// the GPU only if it happens after the step is submitted. The intended loop is
//     const x = streamer.next();   // writes the prepared batch (queue.writeBuffer) and returns its tensor
//     ...record the step reading x...; submit
//     streamer.prefetch();         // fill the host buffer with the next batch while the GPU runs
// next() prepares the batch itself when prefetch() was not called. writeBuffer copies the host data at
// once and is ordered on the queue after earlier submits, so one GPU tensor would already be correct;
// with `slots: 2` (the default) consecutive batches alternate between two tensors, so a batch is never
// written into a buffer the previous step may still be reading (useful to a caller that plans one set
// of dispatches per slot). A caller with one fixed plan passes `slots: 1`.
import { ValueError } from '../gpu/errors.ts';
import type { Gpu } from '../gpu/gpu.ts';
import type { Tensor } from '../gpu/tensor.ts';
import { imageElements, type Dataset } from './dataset.ts';
import { HostRng, mixSeed, permutation } from '../base/host-rng.ts';

export interface BatchStreamerOptions {
  batch: number;
  seed?: number;
  /** Shuffle each epoch (default true); false reads the data set in order (statistics passes). */
  shuffle?: boolean;
  /** Flip each image left-right with probability 1/2 (default false). */
  flip?: boolean;
  /** GPU tensors to alternate between (default 2). */
  slots?: 1 | 2;
  label?: string;
}

/** Where the stream is: the next batch starts at position `cursor` of epoch `epoch`'s order. */
export interface StreamerState {
  seed: number;
  epoch: number;
  cursor: number;
}

export class BatchStreamer {
  readonly shape: readonly [number, number, number, number];
  readonly tensors: readonly Tensor[];
  private readonly host: Float32Array;
  private readonly seed: number;
  private epoch = 0;
  private cursor = 0;
  private slot = 0;
  private prepared = false;
  private orders = new Map<number, Uint32Array>();
  /** The streamer's own scope: its batch tensors. */
  private readonly gpu: Gpu;

  constructor(
    gpu: Gpu,
    readonly dataset: Dataset,
    private readonly opts: BatchStreamerOptions,
  ) {
    const { batch } = opts;
    if (!Number.isInteger(batch) || batch < 1) throw new ValueError(`Batch size must be a positive integer, got ${batch}.`);
    this.seed = (opts.seed ?? 0) >>> 0;
    this.shape = [batch, dataset.channels, dataset.size, dataset.size];
    this.host = new Float32Array(batch * imageElements(dataset));
    const label = opts.label ?? 'batch';
    this.gpu = gpu.scope(`batch-streamer ${label}`);
    this.tensors = Array.from({ length: opts.slots ?? 2 }, (_, k) => this.gpu.tensor(this.shape, `${label}.${k}`));
  }

  get state(): StreamerState {
    return { seed: this.seed, epoch: this.epoch, cursor: this.cursor };
  }

  /** Continue from a saved state (the seed must match the one this streamer was made with). */
  restore(s: StreamerState): void {
    if (s.seed >>> 0 !== this.seed) throw new ValueError(`Cannot restore a data stream saved with seed ${s.seed} into one with seed ${this.seed}.`);
    if (!Number.isInteger(s.epoch) || s.epoch < 0 || !Number.isInteger(s.cursor) || s.cursor < 0 || s.cursor >= this.dataset.length)
      throw new ValueError(`Invalid data stream state ${JSON.stringify(s)} for a data set of ${this.dataset.length} images.`);
    this.epoch = s.epoch;
    this.cursor = s.cursor;
    this.prepared = false;
  }

  /** Fill the host buffer with the batch at the current position (idempotent until next()). */
  prefetch(): void {
    if (this.prepared) return;
    this.fill(this.host, this.epoch, this.cursor);
    this.prepared = true;
  }

  /** Upload the batch at the current position, advance, and return the tensor holding it. */
  next(): Tensor {
    this.prefetch();
    const t = this.tensors[this.slot]!;
    this.gpu.write(t, this.host);
    this.slot = (this.slot + 1) % this.tensors.length;
    this.advance();
    this.prepared = false;
    return t;
  }

  /** The next batch on the host only (no GPU), advancing the stream; for tests and host-side passes. */
  nextHost(): Float32Array {
    this.prefetch();
    this.advance();
    this.prepared = false;
    return this.host.slice();
  }

  /** Release the GPU tensors. */
  destroy(): void {
    this.gpu.destroy();
  }

  private advance(): void {
    const n = this.dataset.length;
    const pos = this.cursor + this.shape[0];
    this.epoch += Math.floor(pos / n);
    this.cursor = pos % n;
    for (const e of this.orders.keys()) if (e < this.epoch) this.orders.delete(e);
  }

  private order(epoch: number): Uint32Array | null {
    if (this.opts.shuffle === false) return null;
    let p = this.orders.get(epoch);
    if (!p) {
      p = permutation(this.dataset.length, new HostRng(mixSeed(this.seed, epoch)));
      this.orders.set(epoch, p);
    }
    return p;
  }

  private fill(out: Float32Array, epoch: number, cursor: number): void {
    const ds = this.dataset;
    const per = imageElements(ds);
    const flipSeed = mixSeed(this.seed ^ 0x5f1195, epoch);
    for (let b = 0; b < this.shape[0]; b++) {
      // A batch may run past the end of an epoch (or be larger than the data set): wrap into the next.
      const e = epoch + Math.floor((cursor + b) / ds.length);
      const pos = (cursor + b) % ds.length;
      const order = this.order(e);
      const index = order ? order[pos]! : pos;
      if (ds.copyInto) ds.copyInto(index, out, b * per);
      else out.set(ds.get(index), b * per);
      const fs = e === epoch ? flipSeed : mixSeed(this.seed ^ 0x5f1195, e);
      if (this.opts.flip && (mixSeed(fs, pos) & 1) === 1) flipRows(out, b * per, ds.channels, ds.size);
    }
  }
}

/** Mirror an image [C, S, S] left-right in place. */
export function flipRows(a: Float32Array, offset: number, channels: number, size: number): void {
  for (let r = 0; r < channels * size; r++) {
    const row = offset + r * size;
    for (let i = 0, j = size - 1; i < j; i++, j--) {
      const t = a[row + i]!;
      a[row + i] = a[row + j]!;
      a[row + j] = t;
    }
  }
}
