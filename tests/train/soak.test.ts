// Long-run soak (issue 12, item 10): the tiniest configuration trains 1,000 steps with a preview and a
// checkpoint every 100 steps. After the first 100 (which plan the preview sampler and warm every
// cache) the device's live buffers (the census: created minus destroyed) must not change at all, and
// the host's memory (V8 heap + array buffers, measured after a full garbage collection) must stay
// within 2 MB of its value then: a leak of one 4 KB array per step would add 3.6 MB over 900 steps
// (measured growth without a leak: ~0.15 MB, mostly compiled code and the test's own records).
import { expect, test } from 'vitest';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { useGpu } from '../helpers/gpu.ts';
import { Trainer } from '../../src/train/trainer.ts';
import { BlobsDataset } from '../../src/data/synthetic.ts';
import { decodeCheckpointFile } from '../../src/train/checkpoint-state.ts';
import { TINY } from './tiny.ts';

const ctx = useGpu();

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function hostBytes(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

const HOST_TOLERANCE_BYTES = 2 * 1024 * 1024;

test('1,000 steps with previews and checkpoints: live GPU buffers constant and host memory flat after the first 100', async () => {
  const { gpu } = ctx;
  const baseline = gpu.census.snapshot();
  const dataset = new BlobsDataset({ size: 8, channels: 1, length: 16 });
  const trainer = await Trainer.create(gpu, dataset, { ...TINY, logEvery: 10 });
  const samples: number[] = [];
  let checkpoints = 0;
  const chunks: { step: number; buffers: number; bytes: number; host: number }[] = [];
  try {
    for (let chunk = 0; chunk < 10; chunk++) {
      await trainer.run(100, {
        sampleEvery: 100,
        onSample: (s) => void samples.push(s.step),
        checkpointEvery: 100,
        onCheckpoint: (bytes, step) => {
          // Decode it as a resume would, then drop it: the check is that nothing accumulates.
          expect(decodeCheckpointFile(bytes).fields.step).toBe(step);
          checkpoints++;
        },
      });
      await gpu.done();
      const c = gpu.census.snapshot();
      chunks.push({ step: trainer.currentStep, buffers: c.buffers, bytes: c.bytes, host: hostBytes() });
    }
    expect(trainer.currentStep).toBe(1000);
    expect(samples).toEqual(Array.from({ length: 10 }, (_, i) => 100 * (i + 1)));
    expect(checkpoints).toBe(10);
    expect(Number.isFinite(trainer.loss)).toBe(true);
    const first = chunks[0]!;
    for (const c of chunks.slice(1)) {
      expect({ step: c.step, buffers: c.buffers, bytes: c.bytes }).toEqual({ step: c.step, buffers: first.buffers, bytes: first.bytes });
      expect(c.host - first.host, `host memory at step ${c.step} vs step 100 (bytes)`).toBeLessThan(HOST_TOLERANCE_BYTES);
    }
    console.log(`soak: live buffers ${first.buffers} (${first.bytes} bytes) from step 100 to 1000; host heap+arrayBuffers ${chunks.map((c) => (c.host / 2 ** 20).toFixed(2)).join(', ')} MB`);
  } finally {
    trainer.destroy();
  }
  expect(gpu.census.snapshot()).toEqual(baseline);
}, 1_800_000);
