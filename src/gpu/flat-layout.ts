// Several named tensors packed into one buffer, each aligned so it can be bound on its own. Used for
// parameters, gradients, Adam moments and EMA weights, so that the optimizer is one dispatch over one
// flat range and a checkpoint is one copy.
import { Tensor, numel } from './tensor.ts';

/** Elements per alignment unit: 256 bytes, the largest minStorageBufferOffsetAlignment in practice. */
export const ALIGN_ELEMENTS = 64;
export const alignElements = (n: number) => Math.ceil(n / ALIGN_ELEMENTS) * ALIGN_ELEMENTS;

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
