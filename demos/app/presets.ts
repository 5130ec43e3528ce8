// The network sizes offered by the demo: the library's presets plus 'tiny', small enough to train
// for a few steps on a CPU adapter (the browser tests use it). Kept apart from engine.ts so that the
// page can list them without bundling the engine (which lives in the worker).
import type { PresetName, UNetConfig } from '../../src/nn/config.ts';

/** The library's presets plus 'tiny': a network small enough to train for a few steps on a CPU adapter. */
export const DEMO_PRESETS: Record<string, { base: PresetName; overrides: Partial<UNetConfig>; note: string }> = {
  tiny: {
    base: 'mnist',
    overrides: { baseChannels: 8, channelMults: [1, 2], groups: 4, timeFeatures: 16, timeEmbedDim: 32 },
    note: 'width 8, 2 levels: for trying the demo out, and for software adapters',
  },
  mnist: { base: 'mnist', overrides: {}, note: 'width 16, 3 levels (~175k parameters): MNIST in minutes on a GPU' },
  bench: { base: 'bench', overrides: {}, note: 'width 32, 3 levels (~700k parameters)' },
  rgb32: { base: 'rgb32', overrides: {}, note: 'width 64 with attention (5.3M parameters): needs a real GPU' },
  rgb64: { base: 'rgb64', overrides: {}, note: '4 levels with attention (14.4M parameters): needs a real GPU' },
};

