// The device-wide count of the engine's GPU buffers. Every buffer the engine makes goes through
// BufferCensus.create, which counts it and wraps its destroy() so that each buffer is counted out
// once, whoever destroys it (its owner, a staging copy's reader, the shared-buffer service). `live`
// is therefore buffers created minus buffers destroyed, not an owner's own ledger: a buffer that
// nobody destroys shows up here even when every owner believes it has released everything. The
// ownership tests compare it with a baseline after creating and destroying trainers and samplers.

export interface CensusSnapshot {
  /** Buffers created and not yet destroyed. */
  buffers: number;
  /** Their bytes. */
  bytes: number;
}

export class BufferCensus {
  private liveBuffers = 0;
  private liveBytes = 0;
  private peak = 0;
  private created = 0;

  constructor(private readonly device: GPUDevice) {}

  /** device.createBuffer, counted; the buffer's destroy() counts it out (once). */
  create(desc: GPUBufferDescriptor): GPUBuffer {
    const buf = this.device.createBuffer(desc);
    const size = desc.size;
    this.created++;
    this.liveBuffers++;
    this.liveBytes += size;
    this.peak = Math.max(this.peak, this.liveBytes);
    const destroy = buf.destroy.bind(buf);
    let alive = true;
    buf.destroy = () => {
      if (alive) {
        alive = false;
        this.liveBuffers--;
        this.liveBytes -= size;
      }
      destroy();
    };
    return buf;
  }

  /** Live buffers and bytes now. */
  snapshot(): CensusSnapshot {
    return { buffers: this.liveBuffers, bytes: this.liveBytes };
  }

  get peakBytes(): number {
    return this.peak;
  }

  /** Buffers created since the device was opened (destroyed ones included). */
  get createdTotal(): number {
    return this.created;
  }
}
