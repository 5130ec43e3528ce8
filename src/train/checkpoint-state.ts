// The whole training state as one safetensors file (browser-safe bytes; src/node/checkpoint.ts writes
// them atomically). Tensors, one per parameter and per copy, PyTorch names:
//   model.<name>   the weights            ema.<name>     their exponential moving average
//   adam_m.<name>  Adam's first moment    adam_v.<name>  Adam's second moment
//   prior_bank     C_1 x0 for K training images [K, C, H, W] (the sampler's prior, see BankPrior)
// Metadata (JSON per field): the resolved options (model config, corruption with its schedule, noise
// schedule, loss, optimizer...), the step, the data set, the host RNG state, the batch streamer state,
// the GPU RNG key and the optimizer's step. Decoding validates everything before anything is used.
import { CheckpointError } from '../gpu/errors.ts';
import type { FlatLayout } from '../gpu/flat-layout.ts';
import { numel } from '../gpu/tensor.ts';
import { checkpointFormat, decodeCheckpointMetadata, encodeCheckpointMetadata, type CheckpointFormat } from '../io/checkpoint-metadata.ts';
import { decodeSafetensors, encodeSafetensors, type SafeTensor, type TensorToWrite } from '../io/safetensors.ts';
import type { StreamerState } from '../data/batch-streamer.ts';
import { MAX_DATASET_IMAGES, MAX_IMAGE_SIZE, MAX_STEPS, MAX_VARIANT_CHOICES } from '../base/limits.ts';
import type { VariantPolicy } from '../gpu/autotune.ts';
import { resolveOptions, type ResolvedOptions, type TrainerOptions } from './options.ts';

export const FLAT_COPIES = ['model', 'ema', 'adam_m', 'adam_v'] as const;
export type FlatCopy = (typeof FLAT_COPIES)[number];
export const PRIOR_BANK = 'prior_bank';
export const STATE_KIND = 'training-state';

export interface DatasetInfo {
  name: string;
  channels: number;
  size: number;
  length: number;
}

/** The host-side part of the state (everything but the tensors). */
export interface StateFields {
  kind: typeof STATE_KIND;
  options: ResolvedOptions;
  step: number;
  dataset: DatasetInfo;
  hostRng: number;
  streamer: StreamerState;
  gpuRng: { seed: number; counter: number };
  adamStep: number;
  lastLoss: number | null;
  /** The kernel variants the run used (absent in older checkpoints): a resume on the same adapter reuses them. */
  variants?: VariantRecord;
}

/** Which kernel variant each op used, on which adapter, chosen how (see VariantChoices). */
export interface VariantRecord {
  adapter: string;
  policy: VariantPolicy;
  choices: Record<string, string>;
}

export const REQUIRED_FIELDS = ['kind', 'options', 'step', 'dataset', 'hostRng', 'streamer', 'gpuRng', 'adamStep'] as const;

export interface TrainingState {
  fields: StateFields;
  /** Flat arrays in the network's layout (alignment padding included). */
  flat: Record<FlatCopy, Float32Array>;
  priorBank: Float32Array;
}

/** A decoded checkpoint file, validated as a file but not yet against a network. */
export interface DecodedCheckpoint {
  fields: StateFields;
  tensors: Map<string, SafeTensor>;
  source: string;
  /** The file's format version and writer. */
  format: CheckpointFormat;
}

export function encodeTrainingState(layout: FlatLayout, s: TrainingState): Uint8Array {
  const tensors = new Map<string, TensorToWrite>();
  for (const copy of FLAT_COPIES) {
    const flat = s.flat[copy];
    if (flat.length !== layout.size) throw new CheckpointError(`Training state ${copy} has ${flat.length} values, the layout ${layout.size}.`);
    for (const [name, e] of layout.entries) tensors.set(`${copy}.${name}`, { shape: e.shape, data: flat.slice(e.offset, e.offset + numel(e.shape)) });
  }
  const { channels, size } = s.fields.dataset;
  tensors.set(PRIOR_BANK, { shape: [s.priorBank.length / (channels * size * size), channels, size, size], data: s.priorBank });
  return encodeSafetensors(tensors, encodeCheckpointMetadata({ ...s.fields }));
}

/** Parse and validate a checkpoint file's structure and metadata (a CheckpointError says what is wrong). */
export function decodeCheckpointFile(bytes: Uint8Array, source = 'checkpoint'): DecodedCheckpoint {
  const file = decodeSafetensors(bytes, { source });
  const raw = decodeCheckpointMetadata(file.metadata, REQUIRED_FIELDS, source);
  if (raw.kind !== STATE_KIND) throw new CheckpointError(`${source} is not a training checkpoint (kind ${JSON.stringify(raw.kind)}).`, 'Pass a checkpoint written by `softdiff train`.');
  return { fields: validateStateFields(raw, source), tensors: file.tensors, source, format: checkpointFormat(file.metadata, source) };
}

const U32_MAX = 0xffffffff;
const isInt = (v: unknown, min: number, max: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Every metadata field of a training checkpoint checked for type and range (the bounds of
 * src/limits.ts) before anything is sized from it; the options are re-resolved, so a checkpoint's
 * options pass exactly the checks a new run's do. Returns the fields with the resolved options.
 */
export function validateStateFields(raw: Record<string, unknown>, source = 'checkpoint'): StateFields {
  const bad = (field: string, value: unknown, rule: string): never => {
    const text = JSON.stringify(value);
    throw new CheckpointError(`${source}: metadata ${field} is ${text === undefined ? 'missing' : text.length > 80 ? `${text.slice(0, 77)}...` : text}; it must be ${rule}.`, 'The file is damaged or was not written by softdiff; use another checkpoint.');
  };
  if (!isInt(raw.step, 0, MAX_STEPS)) bad('step', raw.step, `an integer in [0, ${MAX_STEPS}]`);
  const d = raw.dataset;
  if (!isRecord(d)) bad('dataset', d, 'an object {name, channels, size, length}');
  const ds = d as Record<string, unknown>;
  if (typeof ds.name !== 'string' || !ds.name || ds.name.length > 4096) bad('dataset.name', ds.name, 'a non-empty name');
  if (ds.channels !== 1 && ds.channels !== 3) bad('dataset.channels', ds.channels, '1 or 3');
  if (!isInt(ds.size, 1, MAX_IMAGE_SIZE)) bad('dataset.size', ds.size, `an integer in [1, ${MAX_IMAGE_SIZE}]`);
  if (!isInt(ds.length, 1, MAX_DATASET_IMAGES)) bad('dataset.length', ds.length, `an integer in [1, ${MAX_DATASET_IMAGES}]`);
  const dataset: DatasetInfo = { name: ds.name as string, channels: ds.channels as number, size: ds.size as number, length: ds.length as number };
  if (!isInt(raw.hostRng, 0, U32_MAX)) bad('hostRng', raw.hostRng, `an integer in [0, ${U32_MAX}]`);
  const st = raw.streamer;
  if (!isRecord(st) || !isInt(st.seed, 0, U32_MAX) || !isInt(st.epoch, 0, MAX_STEPS) || !isInt(st.cursor, 0, dataset.length - 1))
    bad('streamer', st, `{seed, epoch, cursor} with cursor below the ${dataset.length} images`);
  const g = raw.gpuRng;
  if (!isRecord(g) || !isInt(g.seed, 0, U32_MAX) || !isInt(g.counter, 0, U32_MAX)) bad('gpuRng', g, '{seed, counter}, two integers in [0, 2^32)');
  if (!isInt(raw.adamStep, 0, MAX_STEPS)) bad('adamStep', raw.adamStep, `an integer in [0, ${MAX_STEPS}]`);
  if (raw.lastLoss !== undefined && raw.lastLoss !== null && !(typeof raw.lastLoss === 'number' && Number.isFinite(raw.lastLoss))) bad('lastLoss', raw.lastLoss, 'a finite number or null');
  const options = validateStoredOptions(raw.options, dataset, source);
  let variants: VariantRecord | undefined;
  if (raw.variants !== undefined) {
    const v = raw.variants;
    const rule = `{adapter, policy: 'fastest' | 'first', choices: at most ${MAX_VARIANT_CHOICES} op keys -> variant names}`;
    if (!isRecord(v) || typeof v.adapter !== 'string' || v.adapter.length > 1024 || (v.policy !== 'fastest' && v.policy !== 'first') || !isRecord(v.choices)) bad('variants', v, rule);
    const entries = Object.entries((v as { choices: Record<string, unknown> }).choices);
    if (entries.length > MAX_VARIANT_CHOICES || !entries.every(([k, n]) => k.length <= 1024 && typeof n === 'string' && n.length <= 256)) bad('variants', v, rule);
    const r = v as { adapter: string; policy: VariantPolicy };
    variants = { adapter: r.adapter, policy: r.policy, choices: Object.fromEntries(entries) as Record<string, string> };
  }
  return {
    kind: STATE_KIND,
    options,
    step: raw.step as number,
    dataset,
    hostRng: raw.hostRng as number,
    streamer: { seed: (st as StreamerState).seed, epoch: (st as StreamerState).epoch, cursor: (st as StreamerState).cursor },
    gpuRng: { seed: (g as { seed: number }).seed, counter: (g as { counter: number }).counter },
    adamStep: raw.adamStep as number,
    lastLoss: (raw.lastLoss as number | null | undefined) ?? null,
    ...(variants ? { variants } : {}),
  };
}

/** The stored options, checked as a new run's are: the full U-Net config (not a preset name), the corruption and schedules, the bounds. */
function validateStoredOptions(o: unknown, dataset: DatasetInfo, source: string): ResolvedOptions {
  const fail = (what: string, hint = 'The file is damaged or was not written by softdiff; use another checkpoint.'): never => {
    throw new CheckpointError(`${source}: the stored options ${what}.`, hint);
  };
  if (!isRecord(o)) fail('are missing or not an object');
  const opts = o as Record<string, unknown>;
  for (const k of ['model', 'corruption', 'noise']) if (!Object.hasOwn(opts, k)) fail(`lack '${k}' (incomplete)`);
  if (typeof opts.model === 'string') fail(`name the U-Net preset '${opts.model}' instead of its full configuration`, 'A softdiff checkpoint stores the whole configuration; this file was edited or written by another tool.');
  if (!isRecord(opts.model)) fail(`have a model that is not a U-Net configuration object`);
  if (!isRecord(opts.corruption)) fail('have a corruption that is not a description object');
  const model = opts.model as Record<string, unknown>;
  if (model.inChannels !== dataset.channels || model.imageSize !== dataset.size)
    fail(`have a model for ${JSON.stringify(model.inChannels)}x${JSON.stringify(model.imageSize)} images, but the data set is ${dataset.channels}x${dataset.size}`);
  let resolved: ResolvedOptions;
  try {
    resolved = resolveOptions(opts as TrainerOptions, dataset);
  } catch (e) {
    return fail(`are invalid: ${(e as Error).message.split('\n')[0]!.replace(/\.$/, '')}`);
  }
  const unknown = Object.keys(opts).filter((k) => !Object.hasOwn(resolved, k));
  if (unknown.length) fail(`hold unknown option '${unknown[0]}'`, 'It was written by another version of softdiff, or edited.');
  return resolved;
}

/**
 * The state for a network whose parameters are laid out by `layout`: every tensor present with its
 * shape, F32 and finite, nothing unexpected. Throws before returning anything when one is not.
 */
export function stateForLayout(ckpt: DecodedCheckpoint, layout: FlatLayout): TrainingState {
  const { tensors, source } = ckpt;
  const known = new Set<string>([PRIOR_BANK]);
  const flat = {} as Record<FlatCopy, Float32Array>;
  for (const copy of FLAT_COPIES) {
    const out = new Float32Array(layout.size);
    for (const [name, e] of layout.entries) {
      const key = `${copy}.${name}`;
      known.add(key);
      out.set(f32Tensor(tensors.get(key), key, e.shape, source), e.offset);
    }
    flat[copy] = out;
  }
  for (const key of tensors.keys())
    if (!known.has(key)) throw new CheckpointError(`${source} holds tensor ${key}, which this network does not have.`, 'The checkpoint was written for another model configuration.');
  const { channels, size } = ckpt.fields.dataset;
  const bank = tensors.get(PRIOR_BANK);
  if (!bank || bank.shape.length !== 4) throw new CheckpointError(`${source} lacks the prior bank tensor ${PRIOR_BANK} [K, C, H, W].`);
  const priorBank = f32Tensor(bank, PRIOR_BANK, [bank.shape[0]!, channels, size, size], source);
  return { fields: ckpt.fields, flat, priorBank };
}

function f32Tensor(t: SafeTensor | undefined, key: string, shape: readonly number[], source: string): Float32Array {
  if (!t) throw new CheckpointError(`${source} lacks tensor ${key}.`, 'The checkpoint was written for another model configuration, or is damaged.');
  if (t.dtype !== 'F32' || !(t.data instanceof Float32Array)) throw new CheckpointError(`${source}: tensor ${key} is ${t.dtype}, expected F32.`);
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))
    throw new CheckpointError(`${source}: tensor ${key} has shape [${t.shape}], this network needs [${shape}].`, 'The checkpoint was written for another model configuration.');
  for (let i = 0; i < t.data.length; i++)
    if (!Number.isFinite(t.data[i]!)) throw new CheckpointError(`${source}: tensor ${key} holds a non-finite value (${t.data[i]}) at element ${i}.`, 'The file is damaged; use an earlier checkpoint.');
  return t.data;
}
