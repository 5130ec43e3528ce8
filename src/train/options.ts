// What a training run is made of, as plain JSON-able options: the network, the corruption and its
// schedules, the loss, the optimizer and the sampling of previews. The same object is stored in every
// checkpoint, so a resumed run (or a sampling run) rebuilds exactly the same pieces from the file.
import { ValueError } from '../gpu/errors.ts';
import { PRESETS, unetConfig, type PresetName, type UNetConfig } from '../nn/config.ts';
import { DctBlur } from '../diffusion/blur.ts';
import { IdentityCorruption } from '../diffusion/identity.ts';
import { SoftMask } from '../diffusion/mask.ts';
import { Schedule, defaultNoiseSchedule, inverseVarianceWeight, type ScheduleJSON } from '../diffusion/schedule.ts';
import type { SamplerKind } from '../diffusion/samplers.ts';
import type { Corruption } from '../diffusion/types.ts';
import {
  MAX_ATTENTION_HEADS, MAX_BATCH, MAX_BATCH_BYTES, MAX_CHANNELS, MAX_IMAGE_SIZE, MAX_LEVELS, MAX_PREVIEW_IMAGES, MAX_PRIOR_BANK,
  MAX_RES_BLOCKS, MAX_SAMPLER_STEPS, MAX_STEPS, MAX_TIME_WIDTH, MAX_X0_WEIGHT,
} from '../base/limits.ts';
import { LOSSES, type LossName } from '../diffusion/losses.ts';

export const CORRUPTIONS = ['blur', 'mask', 'identity'] as const;
export type CorruptionName = (typeof CORRUPTIONS)[number];
export { LOSSES, type LossName } from '../diffusion/losses.ts';
export const WEIGHTINGS = ['uniform', 'inverse-variance'] as const;
export type WeightingName = (typeof WEIGHTINGS)[number];
export const SAMPLERS: readonly SamplerKind[] = ['momentum', 'probability-flow', 'naive', 'langevin'];

/** How to train: every field is optional, with the defaults given (see resolveOptions). */
export interface TrainerOptions {
  /**
   * The network: a preset name (`'mnist'` default, `'bench'`, `'rgb32'`, `'rgb64'`) or a full
   * UNetConfig. Its inChannels and imageSize always come from the data set.
   */
  model?: PresetName | UNetConfig;
  /** Fields of the network configuration to change on top of `model` (e.g. `{ baseChannels: 8 }`). */
  modelOverrides?: Partial<UNetConfig>;
  /** Images per training step. Default 16. */
  batch?: number;
  /** Peak learning rate of AdamW (reached after warmup). Default 1e-3. */
  lr?: number;
  /** Steps over which the learning rate rises linearly from 0 to `lr`. Default 50. */
  warmupSteps?: number;
  /** Global gradient-norm clip; 0 disables. Default 1. */
  clipNorm?: number;
  /** AdamW's decoupled weight decay (not applied to biases and norms). Default 0. */
  weightDecay?: number;
  /** Decay of the exponential moving average of the weights that previews and checkpoints sample with. Default 0.995. */
  emaDecay?: number;
  /**
   * The corruption C_t: `'blur'` (DCT heat blur, default), `'mask'` (soft masking) or `'identity'`
   * (plain noise, VE diffusion), or a corruption's JSON description (with its own schedule).
   */
  corruption?: CorruptionName | Record<string, unknown>;
  /** The noise schedule sigma(t); default per corruption (SPEC section 1). */
  noise?: ScheduleJSON;
  /** `'soft'` (soft score matching, default), `'x0'` (Cold Diffusion's reconstruction loss) or `'dsm'` (multi-level denoising score matching). */
  loss?: LossName;
  /**
   * Soft loss only: lambda, the weight of the x0 loss added to it, ||C_t e||^2 + lambda ||e||^2 with
   * e = x0hat - x0. Default 0 (the paper's soft loss); the main job uses 0.1 (docs/quality.md: it
   * constrains x0hat in the bands the blur has removed, which the momentum sampler adds back).
   */
  x0Weight?: number;
  /** Loss weight w(t): `'uniform'` (1, default) or `'inverse-variance'` (sigma^-2 clamped to 1e4). */
  weighting?: WeightingName;
  /** One t per stratum of [tMin, 1] per batch (lower-variance loss) instead of i.i.d. draws. Default true. */
  stratified?: boolean;
  /** Smallest t drawn. Default 1e-5 (SPEC). */
  tMin?: number;
  /** Seed of everything random (initial weights, data order, t, noise), an integer in [0, 2^32). Default 0. */
  seed?: number;
  /** Random left-right flips of training images. Default false. */
  flip?: boolean;
  /** Read the loss back (asynchronously) every this many steps. Default 10. */
  logEvery?: number;
  /** Preview sampling with the EMA weights: number of images. Default 16. */
  sampleCount?: number;
  /** Preview sampling: sampler steps. Default 50. */
  sampleSteps?: number;
  /** Preview sampling: `'momentum'` (default), `'probability-flow'`, `'naive'` or `'langevin'`. */
  sampler?: SamplerKind;
  /** Images of the data set kept (corrupted to t = 1) as the sampler's prior bank. Default 64. */
  priorBank?: number;
}

/** Every option with its value; this is what a checkpoint stores. */
export type ResolvedOptions = Required<Omit<TrainerOptions, 'model' | 'modelOverrides' | 'corruption' | 'noise'>> & {
  model: UNetConfig;
  corruption: Record<string, unknown>;
  noise: ScheduleJSON;
};

export interface DataShape {
  channels: number;
  size: number;
}

function check(ok: boolean, what: string, value: unknown, hint: string): void {
  if (!ok) throw new ValueError(`Invalid training option ${what}: ${JSON.stringify(value)}.`, hint);
}

const posInt = (v: number) => Number.isInteger(v) && v > 0;

/** The settings of a U-Net config (the keys of UNetConfig). */
export const MODEL_KEYS: readonly (keyof UNetConfig)[] = Object.keys(PRESETS.bench) as (keyof UNetConfig)[];

/**
 * Check U-Net config overrides (`--model`, TrainerOptions.modelOverrides) before anything is built:
 * only known settings, of the right type, within the bounds of src/limits.ts. inChannels and
 * imageSize are refused: they come from the data set. `what` names the source in messages.
 */
export function checkModelOverrides(overrides: Record<string, unknown>, what = 'modelOverrides'): Partial<UNetConfig> {
  for (const k of Object.keys(overrides)) {
    if (k === 'inChannels' || k === 'imageSize') throw new ValueError(`${what}: '${k}' comes from the data set and cannot be set.`, k === 'imageSize' ? 'Use --size (or a data set of that size).' : 'Remove it.');
    if (!(MODEL_KEYS as readonly string[]).includes(k)) throw new ValueError(`${what}: unknown U-Net setting '${k}'.`, `Known settings: ${MODEL_KEYS.filter((m) => m !== 'inChannels' && m !== 'imageSize').join(', ')}.`);
  }
  checkModelBounds(overrides, what);
  return overrides as Partial<UNetConfig>;
}

/** Types and upper bounds of the U-Net settings present in `cfg` (a ValueError names the first bad one). */
export function checkModelBounds(cfg: Record<string, unknown>, what = 'model'): void {
  const bad = (k: string, v: unknown, rule: string): never => {
    throw new ValueError(`${what}: ${k} ${rule} (got ${JSON.stringify(v)}).`, `Set ${k} within that range.`);
  };
  const int = (k: string, max: number, min = 1) => {
    if (!Object.hasOwn(cfg, k)) return;
    const v = cfg[k];
    if (!(typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max)) bad(k, v, `must be an integer in [${min}, ${max}]`);
  };
  const intList = (k: string, maxLength: number, minLength: number, max: number) => {
    if (!Object.hasOwn(cfg, k)) return;
    const v = cfg[k];
    if (!Array.isArray(v) || v.length < minLength || v.length > maxLength || !v.every((x) => typeof x === 'number' && Number.isInteger(x) && x >= 1 && x <= max))
      bad(k, v, `must be a list of ${minLength}..${maxLength} integers in [1, ${max}]`);
  };
  int('inChannels', 4);
  int('imageSize', MAX_IMAGE_SIZE);
  int('baseChannels', MAX_CHANNELS);
  intList('channelMults', MAX_LEVELS, 1, MAX_CHANNELS);
  int('numResBlocks', MAX_RES_BLOCKS);
  intList('attentionResolutions', MAX_LEVELS, 0, MAX_IMAGE_SIZE);
  int('attentionHeads', MAX_ATTENTION_HEADS);
  int('groups', MAX_CHANNELS);
  int('timeFeatures', MAX_TIME_WIDTH);
  int('timeEmbedDim', MAX_TIME_WIDTH);
  if (Object.hasOwn(cfg, 'midAttention') && typeof cfg.midAttention !== 'boolean') bad('midAttention', cfg.midAttention, 'must be true or false');
  const base = cfg.baseChannels as number | undefined;
  const mults = cfg.channelMults as number[] | undefined;
  if (base !== undefined && mults !== undefined && base * Math.max(...mults) > MAX_CHANNELS)
    bad('baseChannels * channelMults', `${base} * [${mults}]`, `must stay at most ${MAX_CHANNELS} channels at every level`);
}

/** Fill in the defaults and validate; the model takes the data's channels and image size. */
export function resolveOptions(o: TrainerOptions, data: DataShape): ResolvedOptions {
  check(Number.isInteger(data.size) && data.size >= 1 && data.size <= MAX_IMAGE_SIZE, 'image size', data.size, `Use an image size in [1, ${MAX_IMAGE_SIZE}].`);
  const preset = o.model ?? 'mnist';
  if (typeof preset === 'string' && !isPreset(preset)) throw new ValueError(`Unknown U-Net preset '${preset}'.`, `Use one of ${Object.keys(PRESETS).join(', ')}.`);
  if (typeof preset !== 'string' && (typeof preset !== 'object' || preset === null || Array.isArray(preset)))
    throw new ValueError(`Invalid training option model: ${JSON.stringify(preset)}.`, `Use a preset name (${Object.keys(PRESETS).join(', ')}) or a full U-Net config.`);
  const overrides = checkModelOverrides({ ...o.modelOverrides });
  const base = typeof preset === 'string' ? PRESETS[preset] : (preset as UNetConfig);
  if (typeof preset !== 'string') {
    const unknown = Object.keys(base).filter((k) => !(MODEL_KEYS as readonly string[]).includes(k));
    if (unknown.length) throw new ValueError(`model: unknown U-Net setting '${unknown[0]}'.`, `Known settings: ${MODEL_KEYS.join(', ')}.`);
  }
  const merged = { ...base, ...overrides, inChannels: data.channels, imageSize: data.size };
  checkModelBounds(merged);
  const model = unetConfig(merged);
  const corruptionName = typeof o.corruption === 'object' ? String(o.corruption.name) : (o.corruption ?? 'blur');
  const corruption = makeCorruption(o.corruption ?? 'blur', data.size).toJSON();
  const r: ResolvedOptions = {
    model,
    batch: o.batch ?? 16,
    lr: o.lr ?? 1e-3,
    warmupSteps: o.warmupSteps ?? 50,
    clipNorm: o.clipNorm ?? 1,
    weightDecay: o.weightDecay ?? 0,
    emaDecay: o.emaDecay ?? 0.995,
    corruption,
    noise: o.noise ?? defaultNoiseSchedule(corruptionName).toJSON(),
    loss: o.loss ?? 'soft',
    x0Weight: o.x0Weight ?? 0,
    weighting: o.weighting ?? 'uniform',
    stratified: o.stratified ?? true,
    tMin: o.tMin ?? 1e-5,
    seed: o.seed ?? 0,
    flip: o.flip ?? false,
    logEvery: o.logEvery ?? 10,
    sampleCount: o.sampleCount ?? 16,
    sampleSteps: o.sampleSteps ?? 50,
    sampler: o.sampler ?? 'momentum',
    priorBank: o.priorBank ?? 64,
  };
  const imageBytes = 4 * data.channels * data.size * data.size;
  check(posInt(r.batch) && r.batch <= MAX_BATCH, 'batch', r.batch, `Use a positive integer up to ${MAX_BATCH}, such as 16.`);
  check(r.batch * imageBytes <= MAX_BATCH_BYTES, 'batch', r.batch, `A batch of ${r.batch} images of ${data.channels}x${data.size}x${data.size} takes ${r.batch * imageBytes} bytes, more than ${MAX_BATCH_BYTES}; use a smaller batch.`);
  check(Number.isFinite(r.lr) && r.lr > 0, 'lr', r.lr, 'Use a positive learning rate such as 1e-3.');
  check(Number.isInteger(r.warmupSteps) && r.warmupSteps >= 0 && r.warmupSteps <= MAX_STEPS, 'warmupSteps', r.warmupSteps, 'Use a non-negative integer.');
  check(Number.isFinite(r.clipNorm) && r.clipNorm >= 0, 'clipNorm', r.clipNorm, 'Use 0 (off) or a positive norm such as 1.');
  check(Number.isFinite(r.weightDecay) && r.weightDecay >= 0, 'weightDecay', r.weightDecay, 'Use 0 or a small positive value.');
  check(typeof r.emaDecay === 'number' && r.emaDecay >= 0 && r.emaDecay <= 1, 'emaDecay', r.emaDecay, 'Use a decay in [0, 1] such as 0.999.');
  check((LOSSES as readonly string[]).includes(r.loss), 'loss', r.loss, `Use one of ${LOSSES.join(', ')}.`);
  check(typeof r.x0Weight === 'number' && Number.isFinite(r.x0Weight) && r.x0Weight >= 0 && r.x0Weight <= MAX_X0_WEIGHT, 'x0Weight', r.x0Weight, `Use 0 (the soft loss alone) or a weight up to ${MAX_X0_WEIGHT} such as 0.1.`);
  check(r.x0Weight === 0 || r.loss === 'soft', 'x0Weight', r.x0Weight, `The x0 weight applies to the soft loss only (loss is '${r.loss}'); use 0.`);
  check((WEIGHTINGS as readonly string[]).includes(r.weighting), 'weighting', r.weighting, `Use one of ${WEIGHTINGS.join(', ')}.`);
  check(typeof r.tMin === 'number' && r.tMin > 0 && r.tMin < 1, 'tMin', r.tMin, 'Use a small positive value such as 1e-5.');
  check(Number.isInteger(r.seed) && r.seed >= 0 && r.seed <= 0xffffffff, 'seed', r.seed, 'Use an integer in [0, 2^32).');
  check(posInt(r.logEvery) && r.logEvery <= MAX_STEPS, 'logEvery', r.logEvery, 'Use a positive integer.');
  check(posInt(r.sampleCount) && r.sampleCount <= MAX_PREVIEW_IMAGES, 'sampleCount', r.sampleCount, `Use a positive integer up to ${MAX_PREVIEW_IMAGES}.`);
  check(r.sampleCount * imageBytes <= MAX_BATCH_BYTES, 'sampleCount', r.sampleCount, `${r.sampleCount} preview images take more than ${MAX_BATCH_BYTES} bytes; use fewer.`);
  check(posInt(r.sampleSteps) && r.sampleSteps <= MAX_SAMPLER_STEPS, 'sampleSteps', r.sampleSteps, `Use a positive integer up to ${MAX_SAMPLER_STEPS}.`);
  check(SAMPLERS.includes(r.sampler), 'sampler', r.sampler, `Use one of ${SAMPLERS.join(', ')}.`);
  check(posInt(r.priorBank) && r.priorBank <= MAX_PRIOR_BANK, 'priorBank', r.priorBank, `Use a positive integer up to ${MAX_PRIOR_BANK}.`);
  check(r.priorBank * imageBytes <= MAX_BATCH_BYTES, 'priorBank', r.priorBank, 'Keep fewer prior-bank images.');
  check(typeof r.stratified === 'boolean', 'stratified', r.stratified, 'Use true or false.');
  check(typeof r.flip === 'boolean', 'flip', r.flip, 'Use true or false.');
  for (const k of ['height', 'width'] as const)
    if (corruption.name === 'blur' && corruption[k] !== data.size) check(false, `corruption.${k}`, corruption[k], `The blur must have the image size ${data.size}.`);
  Schedule.fromJSON(r.noise);
  return r;
}

/** A corruption from its name (with the SPEC defaults for an image of `size` pixels) or its JSON description. */
export function makeCorruption(spec: CorruptionName | Record<string, unknown>, size: number): Corruption {
  if (typeof spec === 'object') return corruptionFromJSON(spec);
  switch (spec) {
    case 'blur':
      return new DctBlur({ height: size });
    case 'mask':
      return new SoftMask();
    case 'identity':
      return new IdentityCorruption();
  }
  throw new ValueError(`Unknown corruption '${String(spec)}'.`, `Use one of ${CORRUPTIONS.join(', ')}.`);
}

export function corruptionFromJSON(json: Record<string, unknown>): Corruption {
  switch (json.name) {
    case 'blur':
      return DctBlur.fromJSON(json);
    case 'mask':
      return SoftMask.fromJSON(json);
    case 'identity':
      return new IdentityCorruption();
  }
  throw new ValueError(`Unknown corruption in ${JSON.stringify(json)}.`, `Built-in corruptions: ${CORRUPTIONS.join(', ')}.`);
}

/** w(t, sigma) for the levels tensor. */
export function lossWeight(weighting: WeightingName): (t: number, sigma: number) => number {
  return weighting === 'inverse-variance' ? (_t, sigma) => inverseVarianceWeight(sigma) : () => 1;
}

export function isPreset(name: string): name is PresetName {
  return name in PRESETS;
}
