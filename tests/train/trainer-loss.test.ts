// The trainer's loss on its first batch, recomputed in float64 from nothing the GPU produced: the
// batch from the data order, t from the seeded host generator, the noise from the Philox reference,
// x_t = C_t x0 + sigma eta with the corruption's reference, phi from the float64 reference U-Net with
// the same (random) parameters, and the loss from the loss references. A wrong level, a wrong noise
// stream, a wrong corruption, a network wired differently or a wrong loss all change the number.
import { describe, expect, test } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { randn } from '../helpers/random.ts';
import { TINY } from './tiny.ts';
import { Trainer } from '../../src/train/trainer.ts';
import { SEED_STREAM } from '../../src/train/step-builder.ts';
import { BatchStreamer } from '../../src/data/batch-streamer.ts';
import { BlobsDataset } from '../../src/data/synthetic.ts';
import { HostRng, mixSeed } from '../../src/base/host-rng.ts';
import type { TrainerOptions } from '../../src/train/options.ts';
import { philoxNormals } from '../reference/rng.ts';
import { blurRef, type Dims } from '../reference/blur.ts';
import { maskRef } from '../reference/mask.ts';
import { corruptRef, dsmLossRef, softLossRef, type Op } from '../reference/losses.ts';
import { unetRef } from '../reference/unet.ts';

const ctx = useGpu();
const data = () => new BlobsDataset({ size: 8, channels: 1, length: 5, seed: 3 });

/** The first step's loss in float64, for a trainer whose parameters are `flat`. */
function referenceLoss(t: Trainer, flat: Float32Array): number {
  const o = t.options;
  const ds = t.dataset;
  const B = o.batch;
  const dims: Dims = [B, ds.channels, ds.size, ds.size];
  const streamer = new BatchStreamer(ctx.gpu, ds, { batch: B, seed: mixSeed(o.seed, SEED_STREAM.data), shuffle: true, flip: o.flip, slots: 1 });
  const x0 = Float64Array.from(streamer.nextHost());
  streamer.destroy();
  const rng = new HostRng(mixSeed(o.seed, SEED_STREAM.times));
  // The levels tensor is float32: the reference reads the same rounded values.
  const ts = Array.from({ length: B }, (_, b) => Math.fround(o.tMin + ((1 - o.tMin) * (b + rng.next())) / B));
  const cs = ts.map((x) => Math.fround(t.corruption.level(x)));
  const sigmas = ts.map((x) => Math.fround(t.noise.at(x)));
  const weights = sigmas.map((s) => (o.weighting === 'inverse-variance' ? Math.fround(Math.min(1 / (s * s), 1e4)) : 1));
  const c = o.corruption as { name: string; kind?: string; width?: number };
  const op: Op = c.name === 'blur' ? (x) => blurRef(x, dims, cs) : c.name === 'mask' ? (x) => maskRef(x, dims, c.kind!, c.width!, cs) : (x) => x.slice();
  const eta = philoxNormals(x0.length, mixSeed(o.seed, SEED_STREAM.noise), 0, 0);
  const xt = corruptRef(x0, eta, B, sigmas, op);
  const layout = t.net.flatLayout.entries;
  const lookup = (name: string) => {
    const e = layout.get(name)!;
    return Float64Array.from(flat.subarray(e.offset, e.offset + e.shape.reduce((a, b) => a * b, 1)));
  };
  const phi = unetRef(o.model, lookup, xt, Float64Array.from(ts));
  if (o.loss === 'dsm') return dsmLossRef(phi, xt, eta, B, sigmas, weights, op, op).loss;
  const identity: Op = (x) => x.slice();
  return softLossRef(phi, xt, x0, B, weights, o.loss === 'x0' ? identity : op, o.loss === 'x0' ? identity : op, o.x0Weight).loss;
}

describe("the trainer's loss against float64", () => {
  const cases: [string, TrainerOptions][] = [
    ['blur, soft score matching (the fused DCT-domain path)', { corruption: 'blur', loss: 'soft' }],
    ['identity, soft (the identity capability: the x0 loss)', { corruption: 'identity', loss: 'soft' }],
    ['mask, DSM (the generic apply / adjoint path)', { corruption: 'mask', loss: 'dsm' }],
    ['blur, x0 loss, inverse-variance weights', { corruption: 'blur', loss: 'x0', weighting: 'inverse-variance' }],
    ['blur, soft + 0.1 x the x0 loss (the main job)', { corruption: 'blur', loss: 'soft', x0Weight: 0.1 }],
    ['mask, soft + 0.5 x the x0 loss (the generic path with the x0 term)', { corruption: 'mask', loss: 'soft', x0Weight: 0.5 }],
  ];
  test.each(cases)('%s', async (_, extra) => {
    const { gpu } = ctx;
    const t = await Trainer.create(gpu, data(), { ...TINY, ...extra });
    // Random parameters with a non-zero last layer, so that phi (and the network) enter the loss.
    const flat = await t.readFlat('model');
    const noise = randn(flat.length, 41);
    for (const [, e] of t.net.flatLayout.entries)
      for (let i = e.offset; i < e.offset + e.shape.reduce((a, b) => a * b, 1); i++) flat[i] = flat[i]! + 0.2 * noise[i]! * (Math.abs(flat[i]!) + 0.05);
    t.net.setParameters(flat);
    const r = await t.step({ readLoss: true });
    const want = referenceLoss(t, flat);
    t.destroy();
    expect(want).toBeGreaterThan(1e-4);
    // float32 through the ~20 layers of the network and a mean of B * 64 squares: relative errors of
    // 2.6e-7 to 1.5e-6 seen on lavapipe; 1e-4 leaves room for a GPU's coarser exp/sin (WGSL allows
    // them far more error than lavapipe makes) and is tight for modelling mistakes: drawing the noise
    // from the wrong Philox stream alone moves the loss by 2.7e-2 to 1.9e-1.
    expect(Math.abs(r.loss! - want) / want, `GPU ${r.loss} vs float64 ${want}`).toBeLessThan(1e-4);
  });
});
