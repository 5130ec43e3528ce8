// Synthetic data sets for tests and quick runs: every image is a pure function of (seed, index), so
// they need no files and give the same pixels in Node and the browser.
import { ValueError } from '../gpu/errors.ts';
import { checkIndex, imageElements, type Dataset } from './dataset.ts';
import { HostRng, mixSeed } from '../base/host-rng.ts';

export interface SyntheticOptions {
  size: number;
  channels?: 1 | 3;
  length?: number;
  seed?: number;
}

abstract class SyntheticDataset implements Dataset {
  readonly channels: 1 | 3;
  readonly size: number;
  readonly length: number;
  readonly seed: number;
  abstract readonly name: string;
  constructor(o: SyntheticOptions) {
    if (!Number.isInteger(o.size) || o.size < 1) throw new ValueError(`Image size must be a positive integer, got ${o.size}.`);
    this.size = o.size;
    this.channels = o.channels ?? 3;
    this.length = o.length ?? 1024;
    this.seed = o.seed ?? 0;
    if (!Number.isInteger(this.length) || this.length < 1) throw new ValueError(`A synthetic data set needs at least one image, got length ${this.length}.`);
  }
  get(i: number): Float32Array {
    const out = new Float32Array(imageElements(this));
    this.copyInto(i, out, 0);
    return out;
  }
  copyInto(i: number, out: Float32Array, offset: number): void {
    checkIndex(this, i);
    this.draw(new HostRng(mixSeed(this.seed, i)), out, offset);
  }
  protected abstract draw(rng: HostRng, out: Float32Array, offset: number): void;
}

/** 1 to 3 soft Gaussian blobs of random colour, centre and width on a white background. */
export class BlobsDataset extends SyntheticDataset {
  readonly name = 'blobs';
  protected draw(rng: HostRng, out: Float32Array, offset: number): void {
    const s = this.size;
    const plane = s * s;
    out.fill(1, offset, offset + this.channels * plane);
    const blobs = 1 + rng.int(3);
    for (let k = 0; k < blobs; k++) {
      const cx = rng.next() * s;
      const cy = rng.next() * s;
      const r = s * (0.08 + 0.15 * rng.next());
      const colour = Array.from({ length: this.channels }, () => rng.next());
      for (let y = 0; y < s; y++)
        for (let x = 0; x < s; x++) {
          const a = Math.exp(-((x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2) / (2 * r * r));
          for (let c = 0; c < this.channels; c++) {
            const p = offset + c * plane + y * s + x;
            out[p] = out[p]! * (1 - a) + colour[c]! * a;
          }
        }
    }
  }
}

/** Sinusoidal stripes of random orientation, frequency, phase and two random colours. */
export class StripesDataset extends SyntheticDataset {
  readonly name = 'stripes';
  protected draw(rng: HostRng, out: Float32Array, offset: number): void {
    const s = this.size;
    const plane = s * s;
    const angle = rng.next() * Math.PI;
    const freq = (1 + rng.next() * 3) / s; // 1 to 4 periods across the image
    const phase = rng.next() * 2 * Math.PI;
    const a = Array.from({ length: this.channels }, () => rng.next());
    const b = Array.from({ length: this.channels }, () => rng.next());
    const ux = Math.cos(angle);
    const uy = Math.sin(angle);
    for (let y = 0; y < s; y++)
      for (let x = 0; x < s; x++) {
        const m = 0.5 + 0.5 * Math.sin(2 * Math.PI * freq * (x * ux + y * uy) + phase);
        for (let c = 0; c < this.channels; c++) out[offset + c * plane + y * s + x] = a[c]! * m + b[c]! * (1 - m);
      }
  }
}
