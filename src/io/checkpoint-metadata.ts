// A softdiff checkpoint is a safetensors file whose string metadata holds JSON: the model
// configuration, the corruption, the schedules, the data set, the step, the RNG states. Every value
// is stored as JSON text (safetensors metadata is string -> string), plus a format marker.
import { CheckpointError } from '../gpu/errors.ts';
import { parseJsonStrict } from './strict-json.ts';

export const CHECKPOINT_FORMAT = 'softdiff-checkpoint/1';
const FORMAT_KEY = 'format';

/** JSON-encode each field (values must survive JSON: numbers, strings, arrays, plain objects). */
export function encodeCheckpointMetadata(fields: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = { [FORMAT_KEY]: CHECKPOINT_FORMAT };
  for (const [k, v] of Object.entries(fields)) {
    if (k === FORMAT_KEY) throw new CheckpointError(`'${FORMAT_KEY}' is reserved in checkpoint metadata.`);
    if (v === undefined) continue;
    const text = JSON.stringify(v);
    if (text === undefined) throw new CheckpointError(`Checkpoint field '${k}' cannot be stored as JSON.`);
    out[k] = text;
  }
  return out;
}

/**
 * Parse the fields back; checks the format marker and that every name in `required` is present.
 * A CheckpointError names the first bad field.
 */
export function decodeCheckpointMetadata(meta: Record<string, string>, required: readonly string[] = [], source = 'checkpoint'): Record<string, unknown> {
  if (meta[FORMAT_KEY] !== CHECKPOINT_FORMAT)
    throw new CheckpointError(
      `${source} is not a softdiff checkpoint (metadata format is ${JSON.stringify(meta[FORMAT_KEY] ?? null)}, expected "${CHECKPOINT_FORMAT}").`,
      'Pass a file written by softdiff.',
    );
  const fields: Record<string, unknown> = {};
  for (const [k, text] of Object.entries(meta)) {
    if (k === FORMAT_KEY) continue;
    if (k === '__proto__') throw new CheckpointError(`${source}: metadata field '__proto__' is not allowed.`, 'The file is damaged or was not written by softdiff; use another checkpoint.');
    try {
      fields[k] = parseJsonStrict(text);
    } catch (e) {
      throw new CheckpointError(`${source}: metadata field '${k}' is not valid JSON (${(e as Error).message}).`, 'The file is corrupted; use an earlier checkpoint.');
    }
  }
  const missing = required.filter((k) => !Object.hasOwn(fields, k));
  if (missing.length) throw new CheckpointError(`${source} lacks metadata ${missing.join(', ')}.`, 'It was written by an older or different version; retrain or convert it.');
  return fields;
}
