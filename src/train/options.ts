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
import { LOSSES, type LossName } from '../diffusion/losses.ts';

export const CORRUPTIONS = ['blur', 'mask', 'identity'] as const;
export type CorruptionName = (typeof CORRUPTIONS)[number];
export { LOSSES, type LossName } from '../diffusion/losses.ts';
export const WEIGHTINGS = ['uniform', 'inverse-variance'] as const;
export type WeightingName = (typeof WEIGHTINGS)[number];
export const SAMPLERS: readonly SamplerKind[] = ['momentum', 'probability-flow', 'naive', 'langevin'];

export interface TrainerOptions {
  /** A preset name or a full config; inChannels and imageSize always come from the data set. */
  model?: PresetName | UNetConfig;
  modelOverrides?: Partial<UNetConfig>;
  batch?: number;
  /** Peak learning rate (after warmup). */
  lr?: number;
  warmupSteps?: number;
  /** Global gradient-norm clip; 0 disables. */
  clipNorm?: number;
  weightDecay?: number;
  emaDecay?: number;
  /** 'blur' | 'mask' | 'identity', or a corruption's JSON description (with its schedule). */
  corruption?: CorruptionName | Record<string, unknown>;
  /** sigma(t); default per corruption (SPEC section 1). */
  noise?: ScheduleJSON;
  loss?: LossName;
  /** Loss weight w(t): 1, or sigma^-2 clamped to 1e4. */
  weighting?: WeightingName;
  /** One t per stratum of [tMin, 1] per batch (lower-variance loss) instead of i.i.d. draws. */
  stratified?: boolean;
  /** Smallest t drawn (SPEC: 1e-5). */
  tMin?: number;
  seed?: number;
  /** Random left-right flips of training images. */
  flip?: boolean;
  /** Read the loss back (asynchronously) every this many steps. */
  logEvery?: number;
  /** Preview sampling: count images, steps sampler steps, with the EMA weights. */
  sampleCount?: number;
  sampleSteps?: number;
  sampler?: SamplerKind;
  /** Images of the data set kept (corrupted to t = 1) as the sampler's prior bank. */
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

/** Fill in the defaults and validate; the model takes the data's channels and image size. */
export function resolveOptions(o: TrainerOptions, data: DataShape): ResolvedOptions {
  const model = unetConfig(o.model ?? 'mnist', { ...o.modelOverrides, inChannels: data.channels, imageSize: data.size });
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
  check(posInt(r.batch), 'batch', r.batch, 'Use a positive integer such as 16.');
  check(Number.isFinite(r.lr) && r.lr > 0, 'lr', r.lr, 'Use a positive learning rate such as 1e-3.');
  check(Number.isInteger(r.warmupSteps) && r.warmupSteps >= 0, 'warmupSteps', r.warmupSteps, 'Use a non-negative integer.');
  check(r.clipNorm >= 0, 'clipNorm', r.clipNorm, 'Use 0 (off) or a positive norm such as 1.');
  check(r.weightDecay >= 0, 'weightDecay', r.weightDecay, 'Use 0 or a small positive value.');
  check(r.emaDecay >= 0 && r.emaDecay <= 1, 'emaDecay', r.emaDecay, 'Use a decay in [0, 1] such as 0.999.');
  check((LOSSES as readonly string[]).includes(r.loss), 'loss', r.loss, `Use one of ${LOSSES.join(', ')}.`);
  check((WEIGHTINGS as readonly string[]).includes(r.weighting), 'weighting', r.weighting, `Use one of ${WEIGHTINGS.join(', ')}.`);
  check(r.tMin > 0 && r.tMin < 1, 'tMin', r.tMin, 'Use a small positive value such as 1e-5.');
  check(Number.isInteger(r.seed) && r.seed >= 0 && r.seed <= 0xffffffff, 'seed', r.seed, 'Use an integer in [0, 2^32).');
  check(posInt(r.logEvery), 'logEvery', r.logEvery, 'Use a positive integer.');
  check(posInt(r.sampleCount), 'sampleCount', r.sampleCount, 'Use a positive integer.');
  check(posInt(r.sampleSteps), 'sampleSteps', r.sampleSteps, 'Use a positive integer.');
  check(SAMPLERS.includes(r.sampler), 'sampler', r.sampler, `Use one of ${SAMPLERS.join(', ')}.`);
  check(posInt(r.priorBank), 'priorBank', r.priorBank, 'Use a positive integer.');
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
