// A Tensor is a view of a GPU buffer: (buffer, offset, shape), float32 (or u32), contiguous, NCHW.
// Offsets are in elements and aligned so that any tensor can be bound as its own storage binding
// (minStorageBufferOffsetAlignment is 256 bytes on some adapters, so the allocators align to 64 floats).
import { ShapeError } from './errors.ts';

export type DType = 'f32' | 'u32';

export class Tensor {
  readonly size: number;
  constructor(
    readonly buffer: GPUBuffer,
    readonly shape: readonly number[],
    /** Offset in elements from the start of the buffer. */
    readonly offset = 0,
    readonly dtype: DType = 'f32',
    readonly label = '',
  ) {
    this.size = numel(shape);
  }
  get byteOffset(): number {
    return this.offset * 4;
  }
  get byteLength(): number {
    return this.size * 4;
  }
  /** The binding resource for this tensor's bytes. */
  get binding(): GPUBufferBinding {
    return { buffer: this.buffer, offset: this.byteOffset, size: Math.max(4, this.byteLength) };
  }
  /** The same bytes seen with another shape (same element count). */
  reshape(shape: readonly number[]): Tensor {
    if (numel(shape) !== this.size) throw new ShapeError(`reshape of ${this.label || 'tensor'}`, `${this.size} elements`, shape);
    return new Tensor(this.buffer, shape, this.offset, this.dtype, this.label);
  }
  /** A contiguous sub-view of `count` elements starting `start` elements in. Binding it needs alignment. */
  view(start: number, shape: readonly number[]): Tensor {
    const n = numel(shape);
    if (start < 0 || start + n > this.size) throw new ShapeError(`view of ${this.label || 'tensor'}`, `within ${this.size} elements`, `${start}..${start + n}`);
    return new Tensor(this.buffer, shape, this.offset + start, this.dtype, this.label);
  }
  toString(): string {
    return `Tensor(${this.label || '?'} [${this.shape.join('x')}] ${this.dtype})`;
  }
}

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new ShapeError('tensor shape', 'non-negative integers', shape);
    n *= d;
  }
  return n;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function expectShape(what: string, t: Tensor, shape: readonly number[]): void {
  if (!sameShape(t.shape, shape)) throw new ShapeError(what, shape, t.shape);
}
