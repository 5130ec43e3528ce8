// The U-Net's hyper-parameters, its presets, and validation that says which setting is wrong.
//
// The network (docs/unet.md draws it): conv_in; per resolution level i, `numResBlocks` residual
// blocks of width base*mults[i] (each followed by self-attention where the level's resolution is in
// `attentionResolutions`), every block's output kept as a skip, then a stride-2 3x3 convolution
// except at the lowest level; a middle residual block (and, with `midAttention`, attention and a
// second block); the up path mirrors the down path, each block taking concat(h, skip) and each level
// but the top ending in nearest 2x upsampling and a 3x3 convolution; then GroupNorm, SiLU and a 3x3
// convolution back to the input channels, which starts at zero so a fresh network outputs phi = 0.
import { ValueError } from '../gpu/errors.ts';

export interface UNetConfig {
  /** Image channels (1 grey, 3 RGB). */
  inChannels: number;
  /** Image height = width in pixels; divisible by 2^(levels - 1). */
  imageSize: number;
  /** Width of the first level. */
  baseChannels: number;
  /** Width of level i is baseChannels * channelMults[i]; the length is the number of levels. */
  channelMults: number[];
  /** Residual blocks per level on the down path (the up path has as many). */
  numResBlocks: number;
  /** Resolutions (pixels) at which each residual block is followed by self-attention. */
  attentionResolutions: number[];
  /** Middle: ResBlock, Attention, ResBlock instead of a single ResBlock. */
  midAttention: boolean;
  /** Attention heads (each head has width channels / heads). */
  attentionHeads: number;
  /** GroupNorm groups; must divide every normalised channel count. */
  groups: number;
  /** Width of the sinusoidal time features (half sines, half cosines). */
  timeFeatures: number;
  /** Width of the time embedding after the two dense layers (temb). */
  timeEmbedDim: number;
}

/** The benchmark workload of issue 4 (699,811 parameters; docs/unet.md). */
const bench: UNetConfig = {
  inChannels: 3,
  imageSize: 32,
  baseChannels: 32,
  channelMults: [1, 2, 2],
  numResBlocks: 1,
  attentionResolutions: [],
  midAttention: false,
  attentionHeads: 1,
  groups: 8,
  timeFeatures: 64,
  timeEmbedDim: 128,
};

export const PRESETS = {
  bench,
  /** 1x32x32 digits, small enough to train in minutes on a CPU adapter (~175k parameters). */
  mnist: { ...bench, inChannels: 1, baseChannels: 16, timeFeatures: 32, timeEmbedDim: 64 } satisfies UNetConfig,
  /** 3x32x32 (CIFAR-like), attention at 16 px: a GPU model (5.3M parameters). */
  rgb32: {
    ...bench,
    baseChannels: 64,
    channelMults: [1, 2, 2],
    numResBlocks: 2,
    attentionResolutions: [16],
    midAttention: true,
    groups: 32,
    timeFeatures: 64,
    timeEmbedDim: 256,
  } satisfies UNetConfig,
  /** 3x64x64 (CelebA-64-like), attention at 16 px: a GPU model (14.4M parameters). */
  rgb64: {
    ...bench,
    imageSize: 64,
    baseChannels: 64,
    channelMults: [1, 2, 2, 4],
    numResBlocks: 2,
    attentionResolutions: [16],
    midAttention: true,
    groups: 32,
    timeFeatures: 64,
    timeEmbedDim: 256,
  } satisfies UNetConfig,
} as const;

export type PresetName = keyof typeof PRESETS;

/** A preset by name, with overrides; validated. */
export function unetConfig(preset: PresetName | UNetConfig, overrides: Partial<UNetConfig> = {}): UNetConfig {
  const base = typeof preset === 'string' ? PRESETS[preset] : preset;
  if (!base) throw new ValueError(`Unknown U-Net preset ${String(preset)}`, `Use one of ${Object.keys(PRESETS).join(', ')}.`);
  const cfg: UNetConfig = { ...base, ...overrides, channelMults: [...(overrides.channelMults ?? base.channelMults)], attentionResolutions: [...(overrides.attentionResolutions ?? base.attentionResolutions)] };
  validateConfig(cfg);
  return cfg;
}

const isPosInt = (v: number) => Number.isInteger(v) && v > 0;

/** Throws a ValueError naming the setting when `cfg` cannot describe a working network. */
export function validateConfig(cfg: UNetConfig): void {
  const bad = (setting: string, why: string, fix: string) => {
    throw new ValueError(`Invalid U-Net config: ${setting} ${why}.`, fix);
  };
  for (const k of ['inChannels', 'imageSize', 'baseChannels', 'numResBlocks', 'groups', 'timeFeatures', 'timeEmbedDim', 'attentionHeads'] as const)
    if (!isPosInt(cfg[k])) bad(k, `must be a positive integer (got ${cfg[k]})`, `Set ${k} to a positive integer.`);
  if (!cfg.channelMults.length || !cfg.channelMults.every(isPosInt))
    bad('channelMults', `must be a non-empty list of positive integers (got [${cfg.channelMults}])`, 'Use e.g. [1, 2, 2].');
  if (cfg.timeFeatures % 2) bad('timeFeatures', `must be even (half sines, half cosines; got ${cfg.timeFeatures})`, 'Use an even width such as 64.');
  const levels = cfg.channelMults.length;
  const factor = 2 ** (levels - 1);
  if (cfg.imageSize % factor)
    bad('imageSize', `${cfg.imageSize} is not divisible by 2^(levels-1) = ${factor}, so the up path cannot match the skips`, `Use fewer channelMults entries or an image size divisible by ${factor}.`);
  const resolutions = Array.from({ length: levels }, (_, i) => cfg.imageSize / 2 ** i);
  for (const r of cfg.attentionResolutions)
    if (!resolutions.includes(r)) bad('attentionResolutions', `contains ${r}, which is not one of the levels' resolutions [${resolutions}]`, 'Pick resolutions from that list.');
  for (const { name, channels } of normalisedWidths(cfg)) {
    if (channels % cfg.groups)
      bad('groups', `(${cfg.groups}) does not divide the ${channels} channels normalised at ${name}`, 'Pick groups dividing baseChannels * every channel multiplier and every concatenated width.');
  }
  const attnWidths = new Set<number>();
  cfg.channelMults.forEach((m, i) => {
    if (cfg.attentionResolutions.includes(resolutions[i]!)) attnWidths.add(cfg.baseChannels * m);
  });
  if (cfg.midAttention) attnWidths.add(cfg.baseChannels * cfg.channelMults[levels - 1]!);
  for (const c of attnWidths)
    if (c % cfg.attentionHeads) bad('attentionHeads', `(${cfg.attentionHeads}) does not divide the attention width ${c}`, 'Use a head count dividing every attended width.');
}

/** Every GroupNorm's channel count with a readable place name (for validation and docs). */
export function normalisedWidths(cfg: UNetConfig): { name: string; channels: number }[] {
  const out: { name: string; channels: number }[] = [];
  for (const b of resBlockPlan(cfg)) out.push({ name: `${b.name}.norm1`, channels: b.cin }, { name: `${b.name}.norm2`, channels: b.cout });
  out.push({ name: 'out.norm', channels: cfg.baseChannels * cfg.channelMults[0]! });
  return out;
}

/** The residual blocks in forward order: name and widths. Shared by the modules, docs and tests. */
export function resBlockPlan(cfg: UNetConfig): { name: string; cin: number; cout: number; size: number }[] {
  const blocks: { name: string; cin: number; cout: number; size: number }[] = [];
  const width = (i: number) => cfg.baseChannels * cfg.channelMults[i]!;
  const levels = cfg.channelMults.length;
  let ch = width(0);
  const skips: number[] = [];
  for (let i = 0; i < levels; i++) {
    const size = cfg.imageSize / 2 ** i;
    for (let j = 0; j < cfg.numResBlocks; j++) {
      blocks.push({ name: `down.${i}.res.${j}`, cin: ch, cout: width(i), size });
      ch = width(i);
      skips.push(ch);
    }
  }
  const low = cfg.imageSize / 2 ** (levels - 1);
  blocks.push({ name: 'mid.res.0', cin: ch, cout: ch, size: low });
  if (cfg.midAttention) blocks.push({ name: 'mid.res.1', cin: ch, cout: ch, size: low });
  for (let i = levels - 1; i >= 0; i--) {
    const size = cfg.imageSize / 2 ** i;
    for (let j = 0; j < cfg.numResBlocks; j++) {
      const skip = skips.pop()!;
      blocks.push({ name: `up.${i}.res.${j}`, cin: ch + skip, cout: width(i), size });
      ch = width(i);
    }
  }
  return blocks;
}
