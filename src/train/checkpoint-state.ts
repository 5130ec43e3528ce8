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
import { decodeCheckpointMetadata, encodeCheckpointMetadata } from '../io/checkpoint-metadata.ts';
import { decodeSafetensors, encodeSafetensors, type SafeTensor, type TensorToWrite } from '../io/safetensors.ts';
import type { StreamerState } from '../data/batch-streamer.ts';
import type { ResolvedOptions } from './options.ts';

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
  const fields = decodeCheckpointMetadata(file.metadata, REQUIRED_FIELDS, source) as unknown as StateFields;
  if (fields.kind !== STATE_KIND) throw new CheckpointError(`${source} is not a training checkpoint (kind ${JSON.stringify(fields.kind)}).`, 'Pass a checkpoint written by `softdiff train`.');
  const o = fields.options as Partial<ResolvedOptions> | undefined;
  if (!o || typeof o !== 'object' || !o.model || !o.corruption || !o.noise) throw new CheckpointError(`${source}: the stored options are incomplete.`, 'The file is damaged or from another version; use another checkpoint.');
  if (!Number.isInteger(fields.step) || fields.step < 0) throw new CheckpointError(`${source}: invalid step ${JSON.stringify(fields.step)}.`);
  return { fields, tensors: file.tensors, source };
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
