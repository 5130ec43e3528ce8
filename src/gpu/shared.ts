// Buffers that several plans on one device share: constant tables (the DCT matrices) and scratch
// matrices of one role and size (the convolution variants' unfolded windows and Winograd tiles, the
// DCT passes' intermediate). A plan leases one through its scope (Gpu.shared, Gpu.scratch); the buffer
// lives while any lease does and is destroyed with the last one, so a page that rebuilds its trainer
// does not keep the old one's scratch, and two live plans do not pay for the same matrix twice.
//
// Sharing scratch is safe because a plan fills its scratch and reads it back within its own
// consecutive dispatches, and a queue runs dispatches in order: two plans never see each other's
// contents. A role keeps the matrices that one op needs at the same time apart.
import type { Tensor } from './tensor.ts';

interface Entry {
  tensor: Tensor;
  leases: number;
}

export class SharedBuffers {
  private readonly entries = new Map<string, Entry>();

  /** The buffer for `key` (made by `make` on first use) and the function that ends this lease. */
  acquire(key: string, make: () => Tensor): { tensor: Tensor; release: () => void } {
    let entry = this.entries.get(key);
    if (!entry) this.entries.set(key, (entry = { tensor: make(), leases: 0 }));
    const e = entry;
    e.leases++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      if (--e.leases === 0) {
        this.entries.delete(key);
        e.tensor.buffer.destroy();
      }
    };
    return { tensor: e.tensor, release };
  }

  /** Shared buffers alive now (each with at least one lease). */
  get count(): number {
    return this.entries.size;
  }

  /** Leases held on `key` (0 when it has none). */
  leases(key: string): number {
    return this.entries.get(key)?.leases ?? 0;
  }
}
