// A softdiff checkpoint is a safetensors file whose string metadata holds JSON: the model
// configuration, the corruption, the schedules, the data set, the step, the RNG states. Every value
// is stored as JSON text (safetensors metadata is string -> string), the release that wrote the file
// too (a JSON string, so readers that parse every field, like python/softdiff_torch, accept it), plus
// the plain format marker `softdiff-checkpoint/<version>`.
//
// The format version is bumped only when a file of the new format cannot be read correctly by an
// older release. A release reads every version up to its own (tests/io/checkpoint-format.test.ts
// loads a committed format-1 file to guard that) and refuses a newer one, naming the version it needs.
import { CheckpointError } from '../gpu/errors.ts';
import { VERSION } from '../version.ts';
import { parseJsonStrict } from './strict-json.ts';

/** The checkpoint format version this release writes (and the newest it reads). */
export const CHECKPOINT_FORMAT_VERSION = 1;
/** The format marker this release writes into checkpoint metadata. */
export const CHECKPOINT_FORMAT = `softdiff-checkpoint/${CHECKPOINT_FORMAT_VERSION}`;
const FORMAT_KEY = 'format';
const WRITER_KEY = 'writer';
const RESERVED = new Set([FORMAT_KEY, WRITER_KEY]);
const MARKER = /^softdiff-checkpoint\/([1-9][0-9]{0,8})$/;

/** What a checkpoint says about its own format. */
export interface CheckpointFormat {
  /** The format version (1 for every file written so far). */
  version: number;
  /** The release that wrote it, e.g. "softdiff 0.1.0"; null for files written before releases were recorded. */
  writer: string | null;
}

/** JSON-encode each field (values must survive JSON: numbers, strings, arrays, plain objects). */
export function encodeCheckpointMetadata(fields: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = { [FORMAT_KEY]: CHECKPOINT_FORMAT, [WRITER_KEY]: JSON.stringify(`softdiff ${VERSION}`) };
  for (const [k, v] of Object.entries(fields)) {
    if (RESERVED.has(k)) throw new CheckpointError(`'${k}' is reserved in checkpoint metadata.`);
    if (v === undefined) continue;
    const text = JSON.stringify(v);
    if (text === undefined) throw new CheckpointError(`Checkpoint field '${k}' cannot be stored as JSON.`);
    out[k] = text;
  }
  return out;
}

/**
 * The format version and writer of a checkpoint's metadata. A file that is not a softdiff checkpoint,
 * or one of a newer format than this release reads, is refused with a CheckpointError that says so
 * (and, for a newer one, which format and release it needs).
 */
export function checkpointFormat(meta: Record<string, string>, source = 'checkpoint'): CheckpointFormat {
  const marker = meta[FORMAT_KEY];
  const m = typeof marker === 'string' ? MARKER.exec(marker) : null;
  if (!m)
    throw new CheckpointError(
      `${source} is not a softdiff checkpoint (metadata format is ${JSON.stringify(marker ?? null)?.slice(0, 80)}, expected "${CHECKPOINT_FORMAT}").`,
      'Pass a file written by softdiff.',
    );
  const version = Number(m[1]);
  const writer = writerOf(meta[WRITER_KEY]);
  if (version > CHECKPOINT_FORMAT_VERSION)
    throw new CheckpointError(
      `${source} is a checkpoint of format ${version}${writer ? `, written by ${writer}` : ''}; softdiff ${VERSION} reads checkpoint formats up to ${CHECKPOINT_FORMAT_VERSION}.`,
      `Upgrade softdiff to a release that reads checkpoint format ${version}${writer ? ` (${writer} or newer)` : ''}, e.g. \`npm install softdiff@latest\`.`,
    );
  return { version, writer };
}

/** The writer field: a JSON string (a plain string is taken as it is); informational, so anything else is null. */
function writerOf(raw: string | undefined): string | null {
  if (typeof raw !== 'string' || raw.length === 0) return null;
  let text: unknown = raw;
  try {
    text = JSON.parse(raw);
  } catch {
    /* a plain string */
  }
  return typeof text === 'string' && text.length > 0 ? text.slice(0, 80) : null;
}

/**
 * Parse the fields back; checks the format marker (see checkpointFormat) and that every name in
 * `required` is present. A CheckpointError names the first bad field.
 */
export function decodeCheckpointMetadata(meta: Record<string, string>, required: readonly string[] = [], source = 'checkpoint'): Record<string, unknown> {
  checkpointFormat(meta, source);
  const fields: Record<string, unknown> = {};
  for (const [k, text] of Object.entries(meta)) {
    if (RESERVED.has(k)) continue;
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
