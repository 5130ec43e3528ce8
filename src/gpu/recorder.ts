// A Recorder puts many dispatches into one command encoder (one compute pass while it can) and
// submits them once. A training or sampling step is one Recorder. With timestamps on (where the
// adapter has timestamp-query) each compute pass is timed on the GPU.
import type { Dispatch } from './kernel.ts';
import type { Tensor } from './tensor.ts';
import { BufferUsage, MapMode } from './usage.ts';

const MAX_TIMED_PASSES = 256;

export class Recorder {
  private encoder: GPUCommandEncoder;
  private pass: GPUComputePassEncoder | null = null;
  private passes = 0;
  private query: GPUQuerySet | null = null;
  private resolved: GPUBuffer | null = null;
  private submitted = false;
  /** Dispatches recorded so far. */
  dispatches = 0;

  constructor(
    private readonly device: GPUDevice,
    /** Makes the timestamp buffers (the Gpu passes its census, so they are counted). */
    private readonly createBuffer: (desc: GPUBufferDescriptor) => GPUBuffer,
    readonly label = 'step',
    timestamps = false,
    /** Told the kernel id of every dispatch recorded (the device's KernelUsage). */
    private readonly onDispatch: (kernel: string) => void = () => {},
  ) {
    this.encoder = device.createCommandEncoder({ label });
    if (timestamps) this.query = device.createQuerySet({ type: 'timestamp', count: 2 * MAX_TIMED_PASSES, label: `${label}:timestamps` });
  }

  private computePass(): GPUComputePassEncoder {
    if (!this.pass) {
      const desc: GPUComputePassDescriptor = { label: this.label };
      if (this.query && this.passes < MAX_TIMED_PASSES)
        desc.timestampWrites = { querySet: this.query, beginningOfPassWriteIndex: 2 * this.passes, endOfPassWriteIndex: 2 * this.passes + 1 };
      this.pass = this.encoder.beginComputePass(desc);
      this.passes++;
    }
    return this.pass;
  }

  private endPass(): void {
    this.pass?.end();
    this.pass = null;
  }

  dispatch(d: Dispatch): this {
    const p = this.computePass();
    p.setPipeline(d.pipeline);
    p.setBindGroup(0, d.bindGroup);
    p.dispatchWorkgroups(d.workgroups[0], d.workgroups[1], d.workgroups[2]);
    this.onDispatch(d.kernel);
    this.dispatches++;
    return this;
  }

  run(ds: readonly Dispatch[]): this {
    for (const d of ds) this.dispatch(d);
    return this;
  }

  copy(src: Tensor, dst: Tensor, elements = Math.min(src.size, dst.size)): this {
    this.endPass();
    this.encoder.copyBufferToBuffer(src.buffer, src.byteOffset, dst.buffer, dst.byteOffset, elements * 4);
    return this;
  }

  copyBuffer(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): this {
    this.endPass();
    this.encoder.copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
    return this;
  }

  /** Zero a tensor (bytes must be a multiple of 4; offsets of tensors are). */
  clear(t: Tensor): this {
    this.endPass();
    this.encoder.clearBuffer(t.buffer, t.byteOffset, Math.ceil(t.byteLength / 4) * 4);
    return this;
  }

  /** Finish and submit. A Recorder is used once. With timestamps, gpuTimeMs() must be awaited: it releases the query buffers. */
  submit(): void {
    if (this.submitted) throw new Error(`Recorder ${this.label} was already submitted`);
    this.endPass();
    if (this.query) {
      const n = 2 * Math.min(this.passes, MAX_TIMED_PASSES);
      this.resolved = this.createBuffer({ size: Math.max(16, n * 8), usage: BufferUsage.QUERY_RESOLVE | BufferUsage.COPY_SRC });
      if (n) this.encoder.resolveQuerySet(this.query, 0, n, this.resolved, 0);
    }
    this.device.queue.submit([this.encoder.finish()]);
    this.submitted = true;
  }

  /** GPU time of the timed passes in ms (after submit). Null when timestamps were not requested. */
  async gpuTimeMs(): Promise<number | null> {
    if (!this.query || !this.resolved) return null;
    const n = 2 * Math.min(this.passes, MAX_TIMED_PASSES);
    const staging = this.createBuffer({ size: Math.max(16, n * 8), usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
    const enc = this.device.createCommandEncoder();
    enc.copyBufferToBuffer(this.resolved, 0, staging, 0, Math.max(16, n * 8));
    this.device.queue.submit([enc.finish()]);
    await staging.mapAsync(MapMode.READ);
    const ts = new BigUint64Array(staging.getMappedRange().slice(0));
    staging.destroy();
    this.resolved.destroy();
    this.query.destroy();
    let ns = 0n;
    for (let i = 0; i < n; i += 2) if (ts[i + 1]! > ts[i]!) ns += ts[i + 1]! - ts[i]!;
    return Number(ns) / 1e6;
  }
}
