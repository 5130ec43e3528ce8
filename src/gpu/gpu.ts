// The engine's handle on one GPUDevice, and the owner of everything allocated on it.
//
// A Gpu is either the root (one per device: limits, features, the kernel cache, the buffer census,
// the shared buffers, the kernel-variant choices, device-loss and validation errors) or a scope made
// with `gpu.scope(label)`: the same device and services, but what is allocated through a scope
// (tensor, upload, uniform, buffer, and leases of shared buffers) belongs to it, and `destroy()`
// releases all of it and every nested scope. Every plan (a network, an optimizer, a loss, a sampler,
// a trainer, a sampling run) takes a scope of the Gpu it is given and passes that scope to the ops it
// plans, so the ops' uniforms and scratch land in the plan's scope; its destroy() destroys the scope
// and the device returns to where it was (the census counts buffers created minus destroyed).
// Destroying the root also destroys the device.
// The core takes a GPU (navigator.gpu, or Dawn's in Node) or an existing GPUDevice; it never touches
// a browser or Node API itself.
import { DeviceLostError, EngineError, LimitError, NonFiniteError, ShapeError } from './errors.ts';
import { KernelCache, Params, type Kernel, type KernelSpec } from './kernel.ts';
import { Recorder } from './recorder.ts';
import { Tensor, numel, type DType } from './tensor.ts';
import { BufferUsage, MapMode, TENSOR_USAGE } from './usage.ts';
import { BufferCensus } from './census.ts';
import { SharedBuffers } from './shared.ts';
import { VariantChoices } from './autotune.ts';
import { describeAdapter, openDevice, type AdapterDescription, type GpuOptions } from './adapter.ts';
import type { KernelUsage } from './kernel-usage.ts';

/** What the root and its scopes share. */
interface DeviceServices {
  kernels: KernelCache;
  census: BufferCensus;
  shared: SharedBuffers;
  variants: VariantChoices;
  features: { timestamps: boolean; f16: boolean; subgroups: boolean };
  errors: { lost: DeviceLostError | null; validation: string[]; destroyed: boolean };
}

export class Gpu {
  readonly kernels: KernelCache;
  /** Every engine buffer on this device: live count and bytes (created minus destroyed). */
  readonly census: BufferCensus;
  /** Buffers shared between plans (constant tables, scratch), leased by scopes. */
  readonly shared: SharedBuffers;
  /** The kernel variant chosen per op key (export/import to pin them). */
  readonly variants: VariantChoices;
  readonly features: { timestamps: boolean; f16: boolean; subgroups: boolean };
  /** Which kernels this device compiled and dispatched (kernel-usage.ts). */
  readonly usage: KernelUsage;
  private readonly services: DeviceServices;
  /** Buffers this scope owns, with their sizes. */
  private readonly owned = new Map<GPUBuffer, number>();
  private readonly children = new Set<Gpu>();
  private readonly cleanups: (() => void)[] = [];
  private released = false;

  private constructor(
    readonly device: GPUDevice,
    readonly adapter: AdapterDescription,
    readonly label: string,
    private readonly parent: Gpu | null,
  ) {
    this.services = parent?.services ?? Gpu.openServices(device, adapter);
    ({ kernels: this.kernels, census: this.census, shared: this.shared, variants: this.variants, features: this.features } = this.services);
    this.usage = this.kernels.usage;
  }

  private static openServices(device: GPUDevice, adapter: AdapterDescription): DeviceServices {
    const errors: DeviceServices['errors'] = { lost: null, validation: [], destroyed: false };
    device.lost.then((info) => {
      if (!errors.destroyed) errors.lost = new DeviceLostError(String(info.reason), info.message);
    });
    device.onuncapturederror = (ev: GPUUncapturedErrorEvent) => {
      if (errors.validation.length < 20) errors.validation.push(ev.error.message);
    };
    return {
      kernels: new KernelCache(device),
      census: new BufferCensus(device),
      shared: new SharedBuffers(),
      variants: new VariantChoices(adapter.key),
      features: { timestamps: device.features.has('timestamp-query'), f16: device.features.has('shader-f16'), subgroups: device.features.has('subgroups') },
      errors,
    };
  }

  /** Acquire an adapter and a device with the adapter's own limits and useful optional features. */
  static async create(gpu: GPU | undefined | null, opts: GpuOptions = {}): Promise<Gpu> {
    const { device, adapter } = await openDevice(gpu, opts);
    return new Gpu(device, adapter, 'device', null);
  }

  /** Wrap a device the application already has (embedding in a page that renders with WebGPU). */
  static fromDevice(device: GPUDevice, info?: GPUAdapterInfo): Gpu {
    return new Gpu(device, describeAdapter(info ?? (device as unknown as { adapterInfo?: GPUAdapterInfo }).adapterInfo), 'device', null);
  }

  /** A scope: allocations through it belong to it and are released by its destroy() (see the file comment). */
  scope(label: string): Gpu {
    if (this.released) throw new EngineError(`The scope ${this.label} was destroyed; it cannot open ${label}.`, 'This is an engine bug; please report it.');
    const child = new Gpu(this.device, this.adapter, label, this);
    this.children.add(child);
    return child;
  }

  get limits(): GPUSupportedLimits {
    return this.device.limits;
  }

  /** Throws the device-loss or first validation error, if any happened since the last check. */
  check(): void {
    const e = this.services.errors;
    if (e.lost) throw e.lost;
    if (e.validation.length) {
      const errs = e.validation.splice(0);
      throw new EngineError(`WebGPU validation error: ${errs.join('\n')}`, 'This is an engine bug; please report it with the message.');
    }
  }

  kernel(spec: KernelSpec): Promise<Kernel> {
    return this.kernels.get(spec);
  }

  recorder(label = 'step', timestamps = false): Recorder {
    this.check();
    return new Recorder(this.device, (d) => this.census.create(d), label, timestamps && this.features.timestamps, (k) => this.usage.dispatchedKernel(k));
  }

  /** A buffer owned by this scope; size rounded up to 16 bytes (copy alignment). `setting` names what to lower if it is too large. */
  buffer(bytes: number, label = '', usage: number = TENSOR_USAGE, setting = 'the batch size or model width'): GPUBuffer {
    const size = Math.ceil(Math.max(bytes, 16) / 16) * 16;
    if (size > this.limits.maxBufferSize) throw new LimitError(`maxBufferSize (${label})`, size, this.limits.maxBufferSize, setting);
    if (this.released) throw new EngineError(`Allocation of ${label} in the destroyed scope ${this.label}.`, 'This is an engine bug; please report it.');
    const buf = this.census.create({ size, usage, label });
    this.owned.set(buf, size);
    return buf;
  }

  /** A new zero-filled tensor in its own buffer, owned by this scope. */
  tensor(shape: readonly number[], label = '', dtype: DType = 'f32', setting = 'the batch size or model width'): Tensor {
    const bytes = Math.max(16, numel(shape) * 4);
    if (bytes > this.limits.maxStorageBufferBindingSize) throw new LimitError(`maxStorageBufferBindingSize (${label})`, bytes, this.limits.maxStorageBufferBindingSize, setting);
    return new Tensor(this.buffer(bytes, label, TENSOR_USAGE, setting), shape, 0, dtype, label);
  }

  /** Upload host data into a new tensor owned by this scope. Non-finite float data is refused (it would poison training). */
  upload(data: Float32Array | Uint32Array | readonly number[], shape: readonly number[] = [data.length], label = ''): Tensor {
    const dtype: DType = data instanceof Uint32Array ? 'u32' : 'f32';
    const t = this.tensor(shape, label, dtype);
    this.write(t, data);
    return t;
  }

  /** A uniform buffer holding `params`, written once, owned by this scope. */
  uniform(params: Params | ArrayBuffer, label = 'params'): GPUBuffer {
    const data = params instanceof Params ? params.toArrayBuffer() : params;
    const buf = this.buffer(data.byteLength, label, BufferUsage.UNIFORM | BufferUsage.COPY_DST);
    this.device.queue.writeBuffer(buf, 0, data);
    return buf;
  }

  /**
   * A lease on the device's shared tensor `key` (made zero-filled, or from `init`, on first use),
   * held until this scope is destroyed. For constant tables and scratch (see shared.ts).
   */
  sharedTensor(key: string, shape: readonly number[], init?: () => Float32Array | Uint32Array): Tensor {
    const lease = this.shared.acquire(key, () => {
      const bytes = Math.max(16, numel(shape) * 4);
      const t = new Tensor(this.census.create({ size: Math.ceil(bytes / 16) * 16, usage: TENSOR_USAGE, label: `shared:${key}` }), shape, 0, 'f32', key);
      if (init) this.write(t, init());
      return t;
    });
    this.cleanups.push(lease.release);
    return lease.tensor.reshape(shape);
  }

  /** Scratch of one `role` and size shared by every plan on the device (see shared.ts), seen with `shape`. */
  scratch(role: string, shape: readonly number[]): Tensor {
    const size = numel(shape);
    return this.sharedTensor(`scratch:${role}:${size}`, [size]).reshape(shape);
  }

  /** Destroy one buffer this scope owns now (transients). Returns false when this scope does not own it. */
  release(t: Tensor | GPUBuffer): boolean {
    const buf = t instanceof Tensor ? t.buffer : t;
    if (!this.owned.delete(buf)) return false;
    buf.destroy();
    return true;
  }

  /** Bytes owned by this scope and its nested scopes (shared leases not included). */
  get ownedBytes(): number {
    let b = 0;
    for (const v of this.owned.values()) b += v;
    for (const c of this.children) b += c.ownedBytes;
    return b;
  }

  /** Overwrite a tensor's contents from the host. */
  write(t: Tensor, data: Float32Array | Uint32Array | readonly number[]): void {
    if (data.length !== t.size) throw new ShapeError(`write to ${t.label || 'tensor'}`, `${t.size} elements (${t.shape.join('x')})`, `${data.length} elements`);
    const arr = data instanceof Float32Array || data instanceof Uint32Array ? data : t.dtype === 'u32' ? Uint32Array.from(data) : Float32Array.from(data);
    if (arr instanceof Float32Array) assertFinite(arr, t.label || 'uploaded tensor');
    this.device.queue.writeBuffer(t.buffer, t.byteOffset, arr.buffer, arr.byteOffset, arr.byteLength);
  }

  /** Read a tensor back to the host (waits for queued work). */
  async read(t: Tensor): Promise<Float32Array> {
    return new Float32Array(await this.readBytes(t.buffer, t.byteOffset, t.byteLength));
  }

  async readU32(t: Tensor): Promise<Uint32Array> {
    return new Uint32Array(await this.readBytes(t.buffer, t.byteOffset, t.byteLength));
  }

  async readBytes(buffer: GPUBuffer, offset: number, bytes: number): Promise<ArrayBuffer> {
    this.check();
    const size = Math.ceil(Math.max(bytes, 4) / 4) * 4;
    const staging = this.census.create({ size, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST, label: 'readback' });
    try {
      const enc = this.device.createCommandEncoder({ label: 'readback' });
      enc.copyBufferToBuffer(buffer, offset, staging, 0, size);
      this.device.queue.submit([enc.finish()]);
      try {
        await staging.mapAsync(MapMode.READ);
      } catch (e) {
        this.check();
        throw new EngineError(`Readback failed: ${(e as Error).message}`);
      }
      const out = staging.getMappedRange().slice(0, bytes);
      staging.unmap();
      this.check();
      return out;
    } finally {
      staging.destroy();
    }
  }

  /** Resolves when all submitted work has finished. */
  async done(): Promise<void> {
    await this.device.queue.onSubmittedWorkDone();
    this.check();
  }

  /** Release everything this scope owns (nested scopes and shared leases included); the root also destroys the device. */
  destroy(): void {
    if (this.released) return;
    if (!this.parent) this.services.errors.destroyed = true;
    for (const c of [...this.children]) c.destroy();
    for (const b of this.owned.keys()) b.destroy();
    this.owned.clear();
    for (const f of this.cleanups.splice(0)) f();
    this.released = true;
    this.parent?.children.delete(this);
    if (!this.parent) this.device.destroy();
  }
}

export function assertFinite(a: Float32Array | Float64Array, what: string): void {
  for (let i = 0; i < a.length; i++)
    if (!Number.isFinite(a[i]!)) throw new NonFiniteError(`${what} contains a non-finite value (${a[i]}) at element ${i}.`, 'Check the input data.');
}

export { describeAdapter, numel, TENSOR_USAGE, type AdapterDescription, type GpuOptions };
