import { describe, expect, test } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { BatchStreamer, flipRows } from '../../src/data/batch-streamer.ts';
import { PackedDataset, type Dataset } from '../../src/data/dataset.ts';
import { ValueError } from '../../src/gpu/errors.ts';

const ctx = useGpu();

/** Image i is filled with the value i / 255 except pixel (0, 0) of channel 0, which is 1 (flip marker). */
function indexed(n: number, channels = 3, size = 4): PackedDataset {
  const per = channels * size * size;
  const px = new Uint8Array(n * per);
  for (let i = 0; i < n; i++) {
    px.fill(i, i * per, (i + 1) * per);
    px[i * per] = 255;
  }
  return new PackedDataset('indexed', channels, size, px);
}

/** The image indices in a host batch, read from channel 1 (uniform, so flips do not move it). */
function indices(batch: Float32Array, per: number, size: number): number[] {
  return Array.from({ length: batch.length / per }, (_, b) => Math.round(batch[b * per + size * size + 1]! * 255));
}

describe('BatchStreamer', () => {
  test('each epoch is a permutation; the order is seeded and differs between epochs', () => {
    const { gpu } = ctx;
    const ds = indexed(10);
    const s = new BatchStreamer(gpu, ds, { batch: 5, seed: 7 });
    const per = 48;
    const e0 = [...indices(s.nextHost(), per, 4), ...indices(s.nextHost(), per, 4)];
    const e1 = [...indices(s.nextHost(), per, 4), ...indices(s.nextHost(), per, 4)];
    expect([...e0].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect([...e1].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(e0).not.toEqual(e1);
    const again = new BatchStreamer(gpu, ds, { batch: 5, seed: 7 });
    expect(indices(again.nextHost(), per, 4)).toEqual(e0.slice(0, 5));
    const other = new BatchStreamer(gpu, ds, { batch: 10, seed: 8 });
    expect(indices(other.nextHost(), per, 4)).not.toEqual(e0);
    const ordered = new BatchStreamer(gpu, ds, { batch: 4, shuffle: false });
    expect(indices(ordered.nextHost(), per, 4)).toEqual([0, 1, 2, 3]);
    for (const st of [s, again, other, ordered]) st.destroy();
  });

  test('batches crossing an epoch, and larger than the data set, wrap', () => {
    const { gpu } = ctx;
    const s = new BatchStreamer(gpu, indexed(3), { batch: 7, shuffle: false, slots: 1 });
    expect(indices(s.nextHost(), 48, 4)).toEqual([0, 1, 2, 0, 1, 2, 0]);
    expect(s.state).toEqual({ seed: 0, epoch: 2, cursor: 1 });
    expect(indices(s.nextHost(), 48, 4)).toEqual([1, 2, 0, 1, 2, 0, 1]);
    s.destroy();
  });

  test('state round trip resumes the exact stream, flips included', () => {
    const { gpu } = ctx;
    const ds = indexed(6);
    const a = new BatchStreamer(gpu, ds, { batch: 4, seed: 11, flip: true, slots: 1 });
    a.nextHost();
    a.nextHost();
    const saved = a.state;
    const want = [a.nextHost(), a.nextHost(), a.nextHost()];
    const b = new BatchStreamer(gpu, ds, { batch: 4, seed: 11, flip: true, slots: 1 });
    b.prefetch(); // a prepared batch must be discarded by restore
    b.restore(saved);
    for (const w of want) expect(Array.from(b.nextHost())).toEqual(Array.from(w));
    expect(() => b.restore({ ...saved, seed: 12 })).toThrow(ValueError);
    expect(() => b.restore({ ...saved, cursor: 6 })).toThrow(ValueError);
    a.destroy();
    b.destroy();
  });

  test('flips mirror about half of the images, left-right', () => {
    const { gpu } = ctx;
    const ds = indexed(200, 1, 4);
    const s = new BatchStreamer(gpu, ds, { batch: 200, seed: 3, flip: true, slots: 1 });
    const x = s.nextHost();
    let flipped = 0;
    for (let b = 0; b < 200; b++) {
      const marker0 = x[b * 16]!;
      const marker3 = x[b * 16 + 3]!;
      expect(marker0 === 1 || marker3 === 1).toBe(true);
      if (marker3 === 1) flipped++;
    }
    expect(flipped).toBeGreaterThan(70);
    expect(flipped).toBeLessThan(130);
    const a = Float32Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    flipRows(a, 1, 1, 3); // odd width: the middle column stays
    expect(Array.from(a)).toEqual([0, 3, 2, 1, 6, 5, 4, 9, 8, 7]);
    s.destroy();
  });

  test('next() uploads the batch into alternating GPU tensors', async () => {
    const { gpu } = ctx;
    const ds: Dataset = indexed(5, 3, 8);
    const host = new BatchStreamer(gpu, ds, { batch: 3, seed: 5 });
    const s = new BatchStreamer(gpu, ds, { batch: 3, seed: 5 });
    const t0 = s.next();
    s.prefetch();
    const t1 = s.next();
    const t2 = s.next();
    expect(t0).not.toBe(t1);
    expect(t2).toBe(t0);
    expect(t0.shape).toEqual([3, 3, 8, 8]);
    const h0 = host.nextHost();
    const h1 = host.nextHost();
    const h2 = host.nextHost();
    expect(Array.from(await gpu.read(t1))).toEqual(Array.from(h1));
    expect(Array.from(await gpu.read(t2))).toEqual(Array.from(h2));
    expect(h0).not.toEqual(h2);
    host.destroy();
    s.destroy();
    expect(() => new BatchStreamer(gpu, ds, { batch: 0 })).toThrow(ValueError);
  });
});
