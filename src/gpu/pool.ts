// Memory is planned, not collected: the pool hands out buffers for tensors, counts their bytes and
// checks the adapter's limits up front, so that a model too large for the adapter fails at planning
// time with the setting to lower, not with a validation error mid-step.
import { LimitError } from './errors.ts';
import { Tensor, numel, type DType } from './tensor.ts';
import { TENSOR_USAGE } from './usage.ts';


/** Elements per alignment unit: 256 bytes, the largest minStorageBufferOffsetAlignment in practice. */
export const ALIGN_ELEMENTS = 64;
export const alignElements = (n: number) => Math.ceil(n / ALIGN_ELEMENTS) * ALIGN_ELEMENTS;

export class BufferPool {
  private live = new Map<GPUBuffer, number>();
  private peak = 0;
  constructor(
    private readonly device: GPUDevice,
    private readonly limits: { maxStorageBufferBindingSize: number; maxBufferSize: number },
  ) {}

  /** Bytes currently allocated through this pool. */
  get bytes(): number {
    let b = 0;
    for (const v of this.live.values()) b += v;
    return b;
  }
  get peakBytes(): number {
    return this.peak;
  }

  /** A fresh zero-filled tensor in its own buffer. `setting` names what to lower if it is too large. */
  tensor(shape: readonly number[], label = '', dtype: DType = 'f32', setting = 'the batch size or model width'): Tensor {
    const bytes = Math.max(16, numel(shape) * 4);
    this.checkBinding(bytes, label, setting);
    return new Tensor(this.buffer(bytes, label), shape, 0, dtype, label);
  }

  /** A raw buffer; size rounded up to 16 bytes (copy alignment). */
  buffer(bytes: number, label = '', usage = TENSOR_USAGE): GPUBuffer {
    const size = Math.ceil(Math.max(bytes, 16) / 16) * 16;
    if (size > this.limits.maxBufferSize) throw new LimitError(`maxBufferSize (${label})`, size, this.limits.maxBufferSize, 'the batch size or model width');
    const buf = this.device.createBuffer({ size, usage, label });
    this.live.set(buf, size);
    this.peak = Math.max(this.peak, this.bytes);
    return buf;
  }

  checkBinding(bytes: number, label: string, setting: string): void {
    if (bytes > this.limits.maxStorageBufferBindingSize)
      throw new LimitError(`maxStorageBufferBindingSize (${label})`, bytes, this.limits.maxStorageBufferBindingSize, setting);
  }

  release(t: Tensor | GPUBuffer): void {
    const buf = t instanceof Tensor ? t.buffer : t;
    if (this.live.delete(buf)) buf.destroy();
  }

  releaseAll(): void {
    for (const b of this.live.keys()) b.destroy();
    this.live.clear();
  }
}

/**
 * Several named tensors packed into one buffer, each aligned so it can be bound on its own. Used for
 * parameters, gradients, Adam moments and EMA weights, so that the optimizer is one dispatch over one
 * flat range and a checkpoint is one copy.
 */
export class FlatLayout {
  readonly entries = new Map<string, { offset: number; shape: number[] }>();
  private cursor = 0;
  add(name: string, shape: readonly number[]): number {
    if (this.entries.has(name)) throw new Error(`FlatLayout: duplicate name ${name}`);
    const offset = this.cursor;
    this.entries.set(name, { offset, shape: [...shape] });
    this.cursor = alignElements(offset + numel(shape));
    return offset;
  }
  /** Total elements including alignment padding. */
  get size(): number {
    return this.cursor;
  }
  /** Elements actually used by tensors (the parameter count for a parameter layout). */
  get used(): number {
    let n = 0;
    for (const e of this.entries.values()) n += numel(e.shape);
    return n;
  }
  /** The views of `buffer` laid out by this layout. */
  views(buffer: GPUBuffer, label = ''): Map<string, Tensor> {
    const m = new Map<string, Tensor>();
    for (const [name, e] of this.entries) m.set(name, new Tensor(buffer, e.shape, e.offset, 'f32', `${label}${name}`));
    return m;
  }
}
