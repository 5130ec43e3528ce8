// The tiny training configuration shared by the trainer and CLI tests: 8x8 grey images, width 4,
// two levels, batch 2, a few-step sampler. Small enough that a step takes milliseconds on lavapipe.
import type { TrainerOptions } from '../../src/train/options.ts';

export const TINY: TrainerOptions = {
  model: 'mnist',
  modelOverrides: { baseChannels: 4, channelMults: [1, 2], groups: 2, timeFeatures: 8, timeEmbedDim: 8 },
  batch: 2,
  lr: 2e-3,
  warmupSteps: 2,
  logEvery: 2,
  sampleCount: 2,
  sampleSteps: 3,
  priorBank: 4,
  seed: 7,
};
