import { describe, expect, test } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { expectClose } from '../helpers/expect-close.ts';
import { f32, randu } from '../helpers/random.ts';
import { timeEmbedding } from '../../src/kernels/timeembed.ts';
import { timeEmbeddingRef } from '../reference/timeembed.ts';
import { LEVEL_STRIDE } from '../../src/diffusion/types.ts';
import { ShapeError, ValueError } from '../../src/gpu/errors.ts';

const ctx = useGpu();

describe('sinusoidal time embedding', () => {
  test('reference: sines first, then cosines, frequencies from 1 down to 10000^(-(half-1)/half)', () => {
    const e = timeEmbeddingRef([0, 0.5], 64, 1000);
    for (let k = 0; k < 32; k++) {
      expect(e[k]).toBe(0);
      expect(e[32 + k]).toBe(1);
    }
    expect(e[64]).toBeCloseTo(Math.sin(500), 12);
    expect(e[64 + 32]).toBeCloseTo(Math.cos(500), 12);
    expect(e[64 + 31]).toBeCloseTo(Math.sin(500 * 10000 ** (-31 / 32)), 12);
  });

  // WGSL allows sin/cos an absolute error of 2^-11 (~4.9e-4) on [-pi, pi]; rounding t * turns[k] to
  // float32 adds up to ~1e-4 at the highest frequency (1000 rad at t = 1).
  const tol = { atol: 1e-3, rtol: 0 };

  test('GPU matches the reference for t in [0, 1] read from the levels tensor (dim 64, scale 1000)', async () => {
    const { gpu } = ctx;
    const ts = f32([0, 1e-5, 0.25, 0.5, 0.999, 1, ...randu(7, 3)]);
    const n = ts.length;
    const levels = new Float32Array(n * LEVEL_STRIDE).map((_, i) => 7 + i); // other slots: junk
    ts.forEach((t, b) => (levels[b * LEVEL_STRIDE] = t));
    const out = gpu.tensor([n, 64]);
    gpu.recorder().run(await timeEmbedding(gpu, gpu.upload(levels), out, { n, dim: 64, scale: 1000, stride: LEVEL_STRIDE, offset: 0 })).submit();
    expectClose(await gpu.read(out), timeEmbeddingRef(ts, 64, 1000), { ...tol, label: 'features' });
  });

  test('batch 1, dim 6, another offset and stride', async () => {
    const { gpu } = ctx;
    const levels = f32([0.1, 0.2, 0.731, 0.4, 0.5]);
    const out = gpu.tensor([1, 6]);
    gpu.recorder().run(await timeEmbedding(gpu, gpu.upload(levels), out, { n: 1, dim: 6, scale: 1000, stride: 5, offset: 2 })).submit();
    expectClose(await gpu.read(out), timeEmbeddingRef([levels[2]!], 6, 1000), { ...tol, label: 'features' });
  });

  test('bad settings get typed errors', async () => {
    const { gpu } = ctx;
    const s = { n: 2, dim: 8, scale: 1000, stride: 4, offset: 0 };
    await expect(timeEmbedding(gpu, gpu.tensor([8]), gpu.tensor([16]), { ...s, dim: 7 })).rejects.toThrow(ValueError);
    await expect(timeEmbedding(gpu, gpu.tensor([8]), gpu.tensor([16]), { ...s, offset: 4 })).rejects.toThrow(ValueError);
    await expect(timeEmbedding(gpu, gpu.tensor([7]), gpu.tensor([16]), s)).rejects.toThrow(ShapeError);
    await expect(timeEmbedding(gpu, gpu.tensor([8]), gpu.tensor([15]), s)).rejects.toThrow(ShapeError);
  });
});
