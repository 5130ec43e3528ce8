// The engine's handle on one GPUDevice: limits, feature flags, the kernel cache, the buffer pool,
// uploads and readbacks, and the surfacing of device loss and validation errors as typed errors.
// The core takes a GPU (navigator.gpu, or Dawn's in Node) or an existing GPUDevice; it never touches
// a browser or Node API itself.
import { DeviceLostError, EngineError, NoAdapterError, NonFiniteError, ShapeError } from './errors.ts';
import { KernelCache, Params, type Kernel, type KernelSpec } from './kernel.ts';
import { BufferPool } from './pool.ts';
import { Recorder } from './recorder.ts';
import { Tensor, numel, type DType } from './tensor.ts';
import { BufferUsage, MapMode, TENSOR_USAGE } from './usage.ts';

export interface AdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** lavapipe, SwiftShader and other CPU implementations. Kernels pick variants by this. */
  software: boolean;
  /** A short stable name used as a cache key for kernel-variant choices. */
  key: string;
}

export interface GpuOptions {
  powerPreference?: GPUPowerPreference;
  /** Where the GPU object came from; only changes the wording of the no-adapter error. */
  runtime?: 'browser' | 'node';
  /** Request the compatibility feature level (e.g. Chromium's GLES backend). */
  compatibility?: boolean;
}

/** Limits requested at their adapter maxima: the defaults (128 MiB binding, 256 invocations) are too small. */
const WANTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
] as const;

const OPTIONAL_FEATURES: GPUFeatureName[] = ['timestamp-query', 'shader-f16', 'subgroups'];

export class Gpu {
  readonly kernels: KernelCache;
  readonly pool: BufferPool;
  readonly features: { timestamps: boolean; f16: boolean; subgroups: boolean };
  /**
   * Milliseconds of CPU time spent by the threads that run this device's kernels, where the runtime
   * can tell (Node on a software adapter: they are the process's threads; set by createNodeGpu), else
   * null. Autotuning times variants with it: on a shared machine other processes stretch wall time
   * by whole scheduler slices but leave a kernel's CPU time nearly unchanged.
   */
  workClock: (() => number) | null = null;
  private lostError: DeviceLostError | null = null;
  private validationErrors: string[] = [];
  private destroyed = false;

  constructor(
    readonly device: GPUDevice,
    readonly adapter: AdapterDescription,
  ) {
    this.kernels = new KernelCache(device);
    this.pool = new BufferPool(device, device.limits);
    this.features = {
      timestamps: device.features.has('timestamp-query'),
      f16: device.features.has('shader-f16'),
      subgroups: device.features.has('subgroups'),
    };
    device.lost.then((info) => {
      if (!this.destroyed) this.lostError = new DeviceLostError(String(info.reason), info.message);
    });
    device.onuncapturederror = (ev: GPUUncapturedErrorEvent) => {
      if (this.validationErrors.length < 20) this.validationErrors.push(ev.error.message);
    };
  }

  /** Acquire an adapter and a device with the adapter's own limits and useful optional features. */
  static async create(gpu: GPU | undefined | null, opts: GpuOptions = {}): Promise<Gpu> {
    const runtime = opts.runtime ?? 'browser';
    if (!gpu) throw new NoAdapterError(runtime, 'WebGPU is not available in this environment');
    const adapterOpts: GPURequestAdapterOptions = { powerPreference: opts.powerPreference ?? 'high-performance' };
    if (opts.compatibility) (adapterOpts as { featureLevel?: string }).featureLevel = 'compatibility';
    const adapter = await gpu.requestAdapter(adapterOpts);
    if (!adapter) throw new NoAdapterError(runtime, 'requestAdapter() returned null');
    const requiredLimits: Record<string, number> = {};
    for (const name of WANTED_LIMITS) {
      const v = (adapter.limits as unknown as Record<string, number>)[name];
      if (typeof v === 'number') requiredLimits[name] = v;
    }
    const requiredFeatures = OPTIONAL_FEATURES.filter((f) => adapter.features.has(f));
    let device: GPUDevice;
    try {
      device = await adapter.requestDevice({ requiredLimits, requiredFeatures, label: 'softdiff' });
    } catch (e) {
      throw new EngineError(`requestDevice failed: ${(e as Error).message}`, 'Another program may hold the GPU; retry, or use another adapter.');
    }
    return new Gpu(device, describeAdapter(adapter.info));
  }

  /** Wrap a device the application already has (embedding in a page that renders with WebGPU). */
  static fromDevice(device: GPUDevice, info?: GPUAdapterInfo): Gpu {
    return new Gpu(device, describeAdapter(info ?? (device as unknown as { adapterInfo?: GPUAdapterInfo }).adapterInfo));
  }

  get limits(): GPUSupportedLimits {
    return this.device.limits;
  }

  /** Throws the device-loss or first validation error, if any happened since the last check. */
  check(): void {
    if (this.lostError) throw this.lostError;
    if (this.validationErrors.length) {
      const errs = this.validationErrors.splice(0);
      throw new EngineError(`WebGPU validation error: ${errs.join('\n')}`, 'This is an engine bug; please report it with the message.');
    }
  }

  kernel(spec: KernelSpec): Promise<Kernel> {
    return this.kernels.get(spec);
  }

  recorder(label = 'step', timestamps = false): Recorder {
    this.check();
    return new Recorder(this.device, label, timestamps && this.features.timestamps);
  }

  /** A uniform buffer holding `params`, written once. */
  uniform(params: Params | ArrayBuffer, label = 'params'): GPUBuffer {
    const data = params instanceof Params ? params.toArrayBuffer() : params;
    const buf = this.device.createBuffer({ size: Math.max(16, Math.ceil(data.byteLength / 16) * 16), usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST, label });
    this.device.queue.writeBuffer(buf, 0, data);
    return buf;
  }

  /** A new tensor, zero-filled. */
  tensor(shape: readonly number[], label = '', dtype: DType = 'f32'): Tensor {
    return this.pool.tensor(shape, label, dtype);
  }

  /** Upload host data into a new tensor. Non-finite float data is refused (it would poison training). */
  upload(data: Float32Array | Uint32Array | readonly number[], shape: readonly number[] = [data.length], label = ''): Tensor {
    const dtype: DType = data instanceof Uint32Array ? 'u32' : 'f32';
    const t = this.pool.tensor(shape, label, dtype);
    this.write(t, data);
    return t;
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
    const staging = this.device.createBuffer({ size, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST, label: 'readback' });
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
    staging.destroy();
    this.check();
    return out;
  }

  /** Resolves when all submitted work has finished. */
  async done(): Promise<void> {
    await this.device.queue.onSubmittedWorkDone();
    this.check();
  }

  destroy(): void {
    this.destroyed = true;
    this.pool.releaseAll();
    this.device.destroy();
  }
}

export function describeAdapter(info?: Partial<GPUAdapterInfo> | null): AdapterDescription {
  const vendor = info?.vendor ?? '';
  const architecture = info?.architecture ?? '';
  const device = info?.device ?? '';
  const description = info?.description ?? '';
  const text = `${vendor} ${architecture} ${device} ${description}`.toLowerCase();
  const software = !!(info as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter || /llvmpipe|lavapipe|swiftshader|software|warp/.test(text);
  const name = /llvmpipe|lavapipe/.test(text) ? 'lavapipe' : /swiftshader/.test(text) ? 'swiftshader' : (description || `${vendor}-${architecture}` || 'unknown');
  return { vendor, architecture, device, description, software, key: name.replace(/\s+/g, '-').toLowerCase() };
}

export function assertFinite(a: Float32Array | Float64Array, what: string): void {
  for (let i = 0; i < a.length; i++)
    if (!Number.isFinite(a[i]!)) throw new NonFiniteError(`${what} contains a non-finite value (${a[i]}) at element ${i}.`, 'Check the input data.');
}

export { numel, TENSOR_USAGE };
