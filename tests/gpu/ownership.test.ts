// Every buffer has an owner that releases it. The census (src/gpu/census.ts) counts buffers created
// minus destroyed on the device, whoever destroyed them; these tests create and destroy the engine's
// plans many times and require the census to return exactly to its baseline (count and bytes).
import { describe, expect, test } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { useGpu } from '../helpers/gpu.ts';
import { Trainer } from '../../src/train/trainer.ts';
import { SampleRun } from '../../src/sample/sample-run.ts';
import { BlobsDataset } from '../../src/data/synthetic.ts';
import { DctBlur } from '../../src/diffusion/blur.ts';
import { Schedule } from '../../src/diffusion/schedule.ts';
import { unetConfig } from '../../src/nn/config.ts';
import { TINY } from '../train/tiny.ts';

const ctx = useGpu();
const root = resolve(import.meta.dirname, '../..');

describe('scopes', () => {
  test('a scope releases its buffers, nested scopes and shared leases; the census sees it', () => {
    const { gpu } = ctx;
    const base = gpu.census.snapshot();
    const outer = gpu.scope('outer');
    outer.tensor([100]);
    outer.uniform(new ArrayBuffer(20));
    const inner = outer.scope('inner');
    inner.upload(new Float32Array(7));
    const a = inner.scratch('test', [3, 5]);
    const b = outer.scratch('test', [15]);
    expect(b.buffer).toBe(a.buffer); // one shared buffer per (role, size)
    expect(gpu.shared.leases('scratch:test:15')).toBe(2);
    expect(outer.ownedBytes).toBe(400 + 32 + 32);
    expect(gpu.census.snapshot().buffers).toBe(base.buffers + 4);
    inner.destroy();
    expect(gpu.shared.leases('scratch:test:15')).toBe(1);
    expect(outer.ownedBytes).toBe(432);
    expect(() => inner.tensor([1])).toThrow(/destroyed scope/);
    outer.destroy();
    outer.destroy(); // idempotent
    expect(gpu.shared.leases('scratch:test:15')).toBe(0);
    expect(gpu.census.snapshot()).toEqual(base);
  });

  test('a buffer destroyed directly is counted out once', () => {
    const { gpu } = ctx;
    const base = gpu.census.snapshot();
    const s = gpu.scope('direct');
    const t = s.tensor([10]);
    t.buffer.destroy();
    expect(gpu.census.snapshot()).toEqual(base);
    s.destroy(); // destroys it again: no double count
    expect(gpu.census.snapshot()).toEqual(base);
  });

  test('release() frees one owned buffer now and refuses one owned elsewhere', () => {
    const { gpu } = ctx;
    const base = gpu.census.snapshot();
    const s = gpu.scope('r');
    const other = gpu.scope('other');
    const t = s.tensor([4]);
    const u = other.tensor([4]);
    expect(other.release(t)).toBe(false);
    expect(s.release(t)).toBe(true);
    expect(s.ownedBytes).toBe(0);
    other.destroy();
    s.destroy();
    expect(u.buffer.size).toBe(16);
    expect(gpu.census.snapshot()).toEqual(base);
  });
});

describe('plans return the device to its baseline', () => {
  const data = () => new BlobsDataset({ size: 8, channels: 1, length: 5, seed: 3 });

  test('20 trainers (step, preview, checkpoint) and 20 sample runs created and destroyed', async () => {
    const { gpu } = ctx;
    await gpu.done();
    const base = gpu.census.snapshot();
    const cfg = unetConfig('mnist', { ...TINY.modelOverrides, inChannels: 1, imageSize: 8 });
    let bank: Float32Array = new Float32Array(0);
    for (let i = 0; i < 20; i++) {
      const t = await Trainer.create(gpu, data(), TINY);
      await t.step({ readLoss: true });
      await t.sample();
      if (i === 0) await Trainer.fromCheckpoint(gpu, data(), await t.checkpoint()).then((r) => r.destroy());
      bank = t.prior;
      t.destroy();
      // Nothing of the trainer is left: not its scratch leases, not its uniforms, not its readback buffers.
      expect(gpu.census.snapshot(), `after trainer ${i + 1}`).toEqual(base);
    }
    const blur = new DctBlur({ height: 8 });
    for (let i = 0; i < 20; i++) {
      const run = await SampleRun.create(gpu, { config: cfg, corruption: blur, noise: Schedule.geometric(0.01, 0.1), priorBank: bank, count: 2, steps: 2, sampler: i % 2 ? 'naive' : 'momentum' });
      await run.run(i);
      run.destroy();
      expect(gpu.census.snapshot(), `after sample run ${i + 1}`).toEqual(base);
    }
    expect(gpu.shared.count).toBe(0);
    // The figures behind the report: live buffers and bytes before and after.
    console.log(`ownership: baseline ${base.buffers} buffers / ${base.bytes} bytes; after 20 trainers + 20 sample runs ${gpu.census.snapshot().buffers} / ${gpu.census.snapshot().bytes}; peak ${gpu.census.peakBytes} bytes, ${gpu.census.createdTotal} buffers created`);
  });
});

describe('every engine buffer is counted', () => {
  test('no source file but the census calls device.createBuffer', () => {
    const files: string[] = [];
    const walk = (d: string) => {
      for (const e of readdirSync(d)) {
        const p = join(d, e);
        if (statSync(p).isDirectory()) walk(p);
        else if (p.endsWith('.ts')) files.push(p);
      }
    };
    walk(join(root, 'src'));
    const offenders = files.filter((f) => /\bdevice\.createBuffer\s*\(/.test(readFileSync(f, 'utf8').replace(/\/\/.*$/gm, ''))).map((f) => relative(root, f));
    expect(offenders).toEqual(['src/gpu/census.ts']);
  });
});
