// The evaluation's seed set: sample j depends only on (weights, sampler, seed, batch, j), so a smaller
// count is a prefix of a larger one and two runs with the same seed agree exactly.
import { describe, expect, test } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { unetConfig } from '../../src/nn/config.ts';
import { UNetGraph } from '../../src/nn/unet-graph.ts';
import { initialParameters } from '../../src/nn/plan.ts';
import { DctBlur } from '../../src/diffusion/blur.ts';
import { Schedule } from '../../src/diffusion/schedule.ts';
import { EvalSampler, batchSeed, sampleSet } from '../../src/eval/sample-set.ts';
import { randu } from '../helpers/random.ts';
import { ValueError } from '../../src/gpu/errors.ts';
import { expectClose } from '../helpers/expect-close.ts';

const ctx = useGpu();
const config = unetConfig('mnist', { inChannels: 1, imageSize: 8, baseChannels: 4, channelMults: [1, 2], groups: 2, timeFeatures: 8, timeEmbedDim: 8 });

function options() {
  const flat = initialParameters(new UNetGraph(config, { batch: 1, training: false }).graph, 3);
  // A non-zero last layer, so that the network's output (not only the prior and the noise) shows.
  for (let i = 0; i < flat.length; i++) if (flat[i] === 0) flat[i] = 0.01 * Math.sin(i);
  return { config, weights: flat, corruption: new DctBlur({ height: 8 }), noise: Schedule.geometric(0.01, 0.1), priorBank: Float32Array.from(randu(4 * 64, 2)), steps: 3, sampler: 'momentum' as const, batch: 2 };
}

describe('evaluation sample sets', () => {
  test('a smaller count is a prefix of a larger one; the same seed repeats; another seed differs', async () => {
    const { gpu } = ctx;
    const s = await EvalSampler.create(gpu, options());
    const five = await s.sample(5, 11);
    const three = await s.sample(3, 11);
    expect(Array.from(three)).toEqual(Array.from(five.subarray(0, 3 * 64)));
    expect(Array.from(await s.sample(5, 11))).toEqual(Array.from(five));
    const other = await s.sample(3, 12);
    expect(Array.from(other)).not.toEqual(Array.from(three));
    // Batch i runs with seed batchSeed(seed, i): the second batch of seed 11 is not the first batch again.
    expect(Array.from(five.subarray(0, 128))).not.toEqual(Array.from(five.subarray(128, 256)));
    expect(batchSeed(11, 0)).not.toBe(batchSeed(11, 1));
    s.destroy();
    // The one-shot helper gives the same images, up to float32 rounding: it plans its own sampler, and
    // on a loaded machine that plan has once differed from the first in the last bits (~1e-7; a kernel
    // variant or summation order), far below what another seed changes.
    expectClose(await sampleSet(gpu, { ...options(), count: 3, seed: 11 }), three, { atol: 1e-5, rtol: 1e-5, label: 'one-shot sampleSet vs EvalSampler' });
  });

  test('bad counts and batches are refused', async () => {
    const { gpu } = ctx;
    await expect(EvalSampler.create(gpu, { ...options(), batch: 0 })).rejects.toThrow(ValueError);
    const s = await EvalSampler.create(gpu, options());
    await expect(s.sample(0, 1)).rejects.toThrow(/positive integer/);
    s.destroy();
  });
});
