// The safetensors format, encoded and decoded in memory (browser-safe):
//   8 bytes   little-endian u64 N, the header's length
//   N bytes   UTF-8 JSON: { name: { dtype, shape, data_offsets: [begin, end] }, ..., "__metadata__": { str: str } }
//             (padded with spaces so that the data starts 8-byte aligned)
//   the data  raw little-endian tensors; offsets are relative to the start of this section and the
//             tensors cover it exactly, without overlaps or holes.
// Decoding validates everything before returning anything, so a bad file yields a CheckpointError
// and never a partly filled result.
import { CheckpointError } from '../gpu/errors.ts';
import { MAX_SAFETENSORS_HEADER_BYTES, MAX_SAFETENSORS_TENSORS } from '../base/limits.ts';
import { JsonShapeError, parseJsonStrict } from './strict-json.ts';

export const DTYPE_BYTES = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, U64: 8, I32: 4, U32: 4, I16: 2, U16: 2, I8: 1, U8: 1, BOOL: 1,
} as const;
export type SafetensorsDtype = keyof typeof DTYPE_BYTES;

/** Raw data of each dtype as a typed array (F16/BF16 stay raw 16-bit words; BOOL is bytes). */
export type TensorData = Float64Array | Float32Array | BigInt64Array | BigUint64Array | Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array;

export interface SafeTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  data: TensorData;
}

export interface SafetensorsFile {
  tensors: Map<string, SafeTensor>;
  metadata: Record<string, string>;
}

/** Expected tensors: name -> shape (and dtype, default F32). */
export type ExpectedLayout = Record<string, readonly number[] | { shape: readonly number[]; dtype?: SafetensorsDtype }>;

export interface DecodeOptions {
  expected?: ExpectedLayout;
  /** Refuse tensors not in `expected` (default false: extra tensors are allowed). */
  strict?: boolean;
  /** A name for messages (the file path). */
  source?: string;
}

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('softdiff needs a little-endian platform (safetensors data is little-endian).');

const ARRAY_OF: Record<SafetensorsDtype, (b: ArrayBuffer) => TensorData> = {
  F64: (b) => new Float64Array(b), F32: (b) => new Float32Array(b), F16: (b) => new Uint16Array(b), BF16: (b) => new Uint16Array(b),
  I64: (b) => new BigInt64Array(b), U64: (b) => new BigUint64Array(b), I32: (b) => new Int32Array(b), U32: (b) => new Uint32Array(b),
  I16: (b) => new Int16Array(b), U16: (b) => new Uint16Array(b), I8: (b) => new Int8Array(b), U8: (b) => new Uint8Array(b), BOOL: (b) => new Uint8Array(b),
};

/** A dtype name of the format (an own key of DTYPE_BYTES: not 'constructor' or '__proto__'). */
export function isSafetensorsDtype(name: unknown): name is SafetensorsDtype {
  return typeof name === 'string' && Object.hasOwn(DTYPE_BYTES, name);
}

function elementCount(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

/** The dtype a typed array is written as when none is given. */
function dtypeOf(data: TensorData): SafetensorsDtype {
  if (data instanceof Float32Array) return 'F32';
  if (data instanceof Float64Array) return 'F64';
  if (data instanceof Uint32Array) return 'U32';
  if (data instanceof Int32Array) return 'I32';
  if (data instanceof Uint8Array) return 'U8';
  if (data instanceof Int8Array) return 'I8';
  if (data instanceof Uint16Array) return 'U16';
  if (data instanceof Int16Array) return 'I16';
  if (data instanceof BigInt64Array) return 'I64';
  return 'U64';
}

export interface TensorToWrite {
  shape: readonly number[];
  data: TensorData;
  /** Default: from the array type (Float32Array -> F32, ...). Give 'F16'/'BF16' for raw 16-bit words. */
  dtype?: SafetensorsDtype;
}

/** Encode tensors and string metadata into one safetensors byte array. */
export function encodeSafetensors(tensors: Record<string, TensorToWrite> | Map<string, TensorToWrite>, metadata: Record<string, string> = {}): Uint8Array {
  const entries = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  for (const [k, v] of Object.entries(metadata)) if (typeof v !== 'string') throw new CheckpointError(`Checkpoint metadata '${k}' must be a string, got ${typeof v}.`);
  // Larger elements first, so that every tensor starts aligned to its element size.
  const sorted = entries
    .map(([name, t]) => ({ name, t, dtype: t.dtype ?? dtypeOf(t.data) }))
    .sort((a, b) => DTYPE_BYTES[b.dtype] - DTYPE_BYTES[a.dtype] || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const { name, t, dtype } of sorted) {
    if (name === '__metadata__') throw new CheckpointError(`'__metadata__' cannot be a tensor name.`);
    const bytes = elementCount(t.shape) * DTYPE_BYTES[dtype];
    if (t.shape.some((d) => !Number.isInteger(d) || d < 0) || bytes !== t.data.byteLength)
      throw new CheckpointError(`Tensor '${name}': shape [${t.shape.join(', ')}] as ${dtype} needs ${bytes} bytes, its data has ${t.data.byteLength}.`);
    header[name] = { dtype, shape: [...t.shape], data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  const enc = new TextEncoder();
  let headerBytes = enc.encode(json);
  const padded = Math.ceil((8 + headerBytes.length) / 8) * 8 - 8;
  if (padded > headerBytes.length) headerBytes = enc.encode(json + ' '.repeat(padded - headerBytes.length));
  json = '';
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const { t } of sorted) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    at += t.data.byteLength;
  }
  return out;
}

/**
 * The header length from a file's first 8 bytes, checked against the file's length and the bound of
 * src/base/limits.ts (so that a reader can refuse a file from its first 8 bytes, before reading the rest).
 */
export function checkHeaderLength(prefix: Uint8Array, fileLength: number, source = 'checkpoint'): number {
  const fail = (what: string): never => {
    throw new CheckpointError(`${source} is not a valid safetensors file: ${what}.`, 'The file is truncated or corrupted; use an earlier checkpoint or retrain.');
  };
  if (prefix.length < 8 || fileLength < 8) fail(`it has ${fileLength} bytes, fewer than the 8-byte header length`);
  const n = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_SAFETENSORS_HEADER_BYTES)) fail(`the header claims ${n} bytes, more than the ${MAX_SAFETENSORS_HEADER_BYTES} bytes softdiff reads`);
  if (n > BigInt(fileLength - 8)) fail(`the header claims ${n} bytes but only ${fileLength - 8} follow`);
  return Number(n);
}

/** Decode and validate a safetensors byte array; throws CheckpointError, never returns partial data. */
export function decodeSafetensors(bytes: Uint8Array, opts: DecodeOptions = {}): SafetensorsFile {
  const src = opts.source ?? 'checkpoint';
  const fail = (what: string): never => {
    throw new CheckpointError(`${src} is not a valid safetensors file: ${what}.`, 'The file is truncated or corrupted; use an earlier checkpoint or retrain.');
  };
  const headerLen = checkHeaderLength(bytes.subarray(0, 8), bytes.length, src);
  let header: unknown;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen));
  } catch (e) {
    return fail(`its header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  try {
    // One more key than tensors allowed: the __metadata__ entry.
    header = parseJsonStrict(text, { maxTopLevelKeys: MAX_SAFETENSORS_TENSORS + 1 });
  } catch (e) {
    if (e instanceof JsonShapeError) fail(`its header is refused: ${e.message}`);
    fail(`its header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('its header is not a JSON object');
  const count = Object.keys(header as object).length - (Object.hasOwn(header as object, '__metadata__') ? 1 : 0);
  if (count > MAX_SAFETENSORS_TENSORS) fail(`its header lists ${count} tensors, more than the ${MAX_SAFETENSORS_TENSORS} softdiff reads`);
  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const specs: { name: string; dtype: SafetensorsDtype; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail('__metadata__ is not an object');
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`metadata '${k}' is not a string`);
        if (k === '__proto__') fail(`metadata key '__proto__' is reserved`);
        metadata[k] = v as string;
      }
      continue;
    }
    const t = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof t !== 'object' || t === null || Array.isArray(t)) fail(`tensor '${name}' has no description`);
    if (!isSafetensorsDtype(t.dtype)) fail(`tensor '${name}' has unknown dtype ${JSON.stringify(t.dtype)}`);
    const dtype = t.dtype as SafetensorsDtype;
    const shape = t.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(`tensor '${name}' has an invalid shape ${JSON.stringify(shape)}`);
    const off = t.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(`tensor '${name}' has invalid data_offsets ${JSON.stringify(off)}`);
    const [begin, end] = off as [number, number];
    if (begin > end || end > dataLen) fail(`tensor '${name}' spans bytes ${begin}..${end}, outside the ${dataLen} data bytes`);
    const want = elementCount(shape as number[]) * DTYPE_BYTES[dtype];
    if (end - begin !== want) fail(`tensor '${name}' has shape [${(shape as number[]).join(', ')}] ${dtype} (${want} bytes) but spans ${end - begin} bytes`);
    specs.push({ name, dtype, shape: shape as number[], begin, end });
  }
  // The tensors must tile the data section: sorted by offset, each begins where the previous ended.
  const byOffset = [...specs].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const s of byOffset) {
    if (s.begin < at) fail(`tensor '${s.name}' (bytes ${s.begin}..${s.end}) overlaps another tensor`);
    if (s.begin > at) fail(`bytes ${at}..${s.begin} of the data belong to no tensor`);
    at = s.end;
  }
  if (at !== dataLen) fail(`the data section has ${dataLen} bytes but the tensors cover ${at}`);
  if (opts.expected) checkLayout(src, specs, opts.expected, opts.strict ?? false);
  const tensors = new Map<string, SafeTensor>();
  for (const s of specs) {
    // Copy into a fresh, aligned ArrayBuffer (the file's offsets need not be aligned). Not slice():
    // on a Node Buffer, slice() returns a view into the shared memory, not a copy.
    const copy = new Uint8Array(s.end - s.begin);
    copy.set(bytes.subarray(dataStart + s.begin, dataStart + s.end));
    const buf = copy.buffer;
    tensors.set(s.name, { dtype: s.dtype, shape: s.shape, data: ARRAY_OF[s.dtype](buf) });
  }
  return { tensors, metadata };
}

function checkLayout(src: string, specs: { name: string; dtype: SafetensorsDtype; shape: number[] }[], expected: ExpectedLayout, strict: boolean): void {
  const have = new Map(specs.map((s) => [s.name, s]));
  const problems: string[] = [];
  const missing = Object.keys(expected).filter((k) => !have.has(k));
  if (missing.length) problems.push(`missing tensors: ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ` and ${missing.length - 10} more` : ''}`);
  for (const [name, e] of Object.entries(expected)) {
    const s = have.get(name);
    if (!s) continue;
    const shape = Array.isArray(e) ? (e as readonly number[]) : (e as { shape: readonly number[] }).shape;
    const dtype = (Array.isArray(e) ? undefined : (e as { dtype?: SafetensorsDtype }).dtype) ?? 'F32';
    if (s.shape.length !== shape.length || s.shape.some((d, i) => d !== shape[i])) problems.push(`'${name}' has shape [${s.shape.join(', ')}], the model expects [${shape.join(', ')}]`);
    if (s.dtype !== dtype) problems.push(`'${name}' is ${s.dtype}, the model expects ${dtype}`);
  }
  if (strict) {
    const extra = specs.filter((s) => !Object.hasOwn(expected, s.name)).map((s) => s.name);
    if (extra.length) problems.push(`unexpected tensors: ${extra.slice(0, 10).join(', ')}`);
  }
  if (problems.length)
    throw new CheckpointError(`${src} does not match the model: ${problems.join('; ')}.`, 'Load it with the model configuration it was trained with (see its metadata), or retrain.');
}
