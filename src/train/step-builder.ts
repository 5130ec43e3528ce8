// The GPU side of a training run, built once for (options, data set): the batch streamer, the levels
// and noise tensors, the GPU RNG key, the U-Net, the loss, AdamW, and the TrainingStep that records
// one step as one submit:
//   eta ~ N(0, I) (Philox, key (seed, step)) -> x_t = C_t x0 + sigma eta -> U-Net forward (phi)
//   -> the loss and dL/dphi (planLoss: soft score matching by default) -> backward
//   -> AdamW (clipping, warmup) and its EMA.
// Everything is allocated in the scope it is given (the trainer's), so the trainer's destroy()
// releases all of it. The host side of a step (drawing t, writing the levels) is the trainer's.
import type { Gpu } from '../gpu/gpu.ts';
import type { Tensor } from '../gpu/tensor.ts';
import type { Dataset } from '../data/dataset.ts';
import { BatchStreamer } from '../data/batch-streamer.ts';
import { mixSeed } from '../base/host-rng.ts';
import { LEVEL_STRIDE } from '../kernels/levels.ts';
import { AdamW } from '../kernels/adamw.ts';
import { UNet } from '../nn/unet.ts';
import { TrainingStep } from '../nn/training-step.ts';
import { corruptBatch, planLoss } from '../diffusion/losses.ts';
import { randomNormal, RngState } from '../diffusion/rng.ts';
import type { Corruption } from '../diffusion/types.ts';
import type { ResolvedOptions } from './options.ts';

/** The planned GPU pieces of a training run. */
export interface TrainingPlan {
  net: UNet;
  optimizer: AdamW;
  streamer: BatchStreamer;
  step: TrainingStep;
  /** [B, 4] levels the host writes before each step. */
  levels: Tensor;
  /** The GPU RNG key (seed, step) of the noise. */
  rng: RngState;
  /** The per-sample losses [B] and the batch loss [1] of the last step. */
  perSample: Tensor;
  loss: Tensor;
}

/** Seeds of the run's independent random streams, derived from the one seed. */
export const SEED_STREAM = { data: 1, noise: 2, times: 3, priorBank: 4 } as const;

export async function buildTrainingPlan(gpu: Gpu, dataset: Dataset, o: ResolvedOptions, corruption: Corruption): Promise<TrainingPlan> {
  const b = o.batch;
  const shape = [b, dataset.channels, dataset.size, dataset.size];
  const streamer = new BatchStreamer(gpu, dataset, { batch: b, seed: mixSeed(o.seed, SEED_STREAM.data), shuffle: true, flip: o.flip, slots: 1, label: 'train:x0' });
  const x0 = streamer.tensors[0]!;
  const levels = gpu.tensor([b, LEVEL_STRIDE], 'train:levels');
  const eta = gpu.tensor(shape, 'train:noise');
  const perSample = gpu.tensor([b], 'train:loss-per-sample');
  const loss = gpu.tensor([1], 'train:loss');
  const net = await UNet.create(gpu, o.model, { batch: b, seed: o.seed, levels });
  const optimizer = await AdamW.create(gpu, net.flatLayout, net.flatParams, net.flatGrads, {
    lr: o.lr,
    warmupSteps: o.warmupSteps,
    clipNorm: o.clipNorm,
    weightDecay: o.weightDecay,
    emaDecay: o.emaDecay,
  });
  const rng = new RngState(gpu, mixSeed(o.seed, SEED_STREAM.noise), 0);
  const prepare = [await randomNormal(gpu, eta, rng), ...(await corruptBatch(gpu, corruption, x0, eta, levels, net.x))];
  const lossDispatches = await planLoss(gpu, o.loss, corruption, { phi: net.phi, xt: net.x, x0, levels, grad: net.dPhi, perSample, loss, noise: eta }, { x0Weight: o.x0Weight });
  const step = new TrainingStep(gpu, net, { prepare, loss: lossDispatches, lossTensor: loss, optimizer: optimizer.dispatches() });
  return { net, optimizer, streamer, step, levels, rng, perSample, loss };
}
