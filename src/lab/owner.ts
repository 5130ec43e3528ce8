// Buffer ownership for the lab's objects: every tensor, upload and uniform a lab object makes goes
// through its Owner, and destroy() releases them all, returning the device to its baseline.
// Engine calls that allocate internally (AdamW.create, planReduce) run inside capture(), which records
// the buffers the device creates meanwhile. (Interim: replaced by the engine's own ownership API
// once every engine plan releases what it allocates.) capture() is not re-entrant across concurrent
// async work: the lab builds its plans one after another.
import type { Gpu } from '../gpu/gpu.ts';
import { Params } from '../gpu/kernel.ts';
import type { Tensor, DType } from '../gpu/tensor.ts';

export class Owner {
  private readonly buffers = new Set<GPUBuffer>();
  private destroyed = false;

  constructor(readonly gpu: Gpu) {}

  /** A zero-filled tensor owned here. `setting` names what to lower when it is too large. */
  tensor(shape: readonly number[], label: string, dtype: DType = 'f32', setting = 'the batch size or model width'): Tensor {
    const t = this.gpu.pool.tensor(shape, label, dtype, setting);
    this.buffers.add(t.buffer);
    return t;
  }

  /** Host data in a new tensor owned here. */
  upload(data: Float32Array | Uint32Array, shape: readonly number[], label: string): Tensor {
    const t = this.tensor(shape, label, data instanceof Uint32Array ? 'u32' : 'f32');
    this.gpu.write(t, data);
    return t;
  }

  /** A uniform buffer owned here. */
  uniform(params: Params | ArrayBuffer, label: string): GPUBuffer {
    const b = this.gpu.uniform(params, label);
    this.buffers.add(b);
    return b;
  }

  /** Runs `fn`, taking ownership of every buffer the device creates while it runs. */
  async capture<T>(fn: () => Promise<T>): Promise<T> {
    const device = this.gpu.device as GPUDevice & { createBuffer: GPUDevice['createBuffer'] };
    const original = device.createBuffer;
    const seen = this.buffers;
    device.createBuffer = function (this: GPUDevice, desc: GPUBufferDescriptor) {
      const b = original.call(this, desc);
      seen.add(b);
      return b;
    };
    try {
      return await fn();
    } finally {
      delete (device as { createBuffer?: unknown }).createBuffer;
      if (device.createBuffer !== original) device.createBuffer = original;
    }
  }

  /** Buffers held (for tests). */
  get count(): number {
    return this.buffers.size;
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const b of this.buffers) {
      this.gpu.pool.release(b);
      b.destroy();
    }
    this.buffers.clear();
  }
}
