import { describe, expect, test } from 'vitest';
import { decodeSafetensors, encodeSafetensors } from '../../src/io/safetensors.ts';
import { decodeCheckpointMetadata, encodeCheckpointMetadata } from '../../src/io/checkpoint-metadata.ts';
import { CheckpointError } from '../../src/gpu/errors.ts';

/** A file built by hand from the format's description, independently of the encoder. */
function handMade(header: unknown, data: Uint8Array, headerText?: string): Uint8Array {
  const json = new TextEncoder().encode(headerText ?? JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setUint32(0, json.length, true); // u64 LE; high word 0
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

const f32bytes = (a: number[]) => new Uint8Array(Float32Array.from(a).buffer);

describe('safetensors', () => {
  test('decodes a hand-made file (unaligned data start, metadata, F32 and U8)', () => {
    const data = new Uint8Array([...f32bytes([1.5, -2, 3, 4.25, 5, 6]), 7, 8]);
    const file = handMade(
      { w: { dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] }, b: { dtype: 'U8', shape: [2], data_offsets: [24, 26] }, __metadata__: { step: '12' } },
      data,
    );
    const { tensors, metadata } = decodeSafetensors(file);
    expect(metadata).toEqual({ step: '12' });
    expect(tensors.get('w')!.shape).toEqual([2, 3]);
    expect(Array.from(tensors.get('w')!.data as Float32Array)).toEqual([1.5, -2, 3, 4.25, 5, 6]);
    expect(tensors.get('b')!.data).toBeInstanceOf(Uint8Array);
    expect(Array.from(tensors.get('b')!.data as Uint8Array)).toEqual([7, 8]);
  });

  test('encodes what the format says: u64 header length, 8-byte aligned data, exact tiling', () => {
    const bytes = encodeSafetensors(
      { 'a.weight': { shape: [3], data: Float32Array.from([1, 2, 3]) }, seed: { shape: [2], data: Uint32Array.from([7, 0xffffffff]) }, z: { shape: [0, 4], data: new Float32Array(0) }, d: { shape: [1], data: Float64Array.from([Math.PI]) } },
      { note: 'hello "quoted" ✓' },
    );
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + n) % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    expect(header.__metadata__).toEqual({ note: 'hello "quoted" ✓' });
    expect(header['a.weight']).toEqual({ dtype: 'F32', shape: [3], data_offsets: [8, 20] }); // after the F64
    expect(header.d.data_offsets).toEqual([0, 8]);
    expect(bytes.length).toBe(8 + n + 8 + 12 + 8);
    const back = decodeSafetensors(bytes);
    expect(Array.from(back.tensors.get('a.weight')!.data as Float32Array)).toEqual([1, 2, 3]);
    expect(Array.from(back.tensors.get('seed')!.data as Uint32Array)).toEqual([7, 0xffffffff]);
    expect((back.tensors.get('d')!.data as Float64Array)[0]).toBe(Math.PI);
    expect(back.tensors.get('z')!.shape).toEqual([0, 4]);
    expect(back.metadata.note).toBe('hello "quoted" ✓');
  });

  test('round trip of a larger random tensor is bit exact (subarray input with an offset)', () => {
    const big = new Float32Array(10001);
    for (let i = 0; i < big.length; i++) big[i] = Math.sin(i * 1.7) * 1e3;
    const view = big.subarray(1); // byteOffset 4
    const bytes = encodeSafetensors({ x: { shape: [100, 100], data: view } });
    expect(Array.from(decodeSafetensors(bytes).tensors.get('x')!.data as Float32Array)).toEqual(Array.from(view));
  });

  test('encoder refuses data that does not match its shape, and non-string metadata', () => {
    expect(() => encodeSafetensors({ x: { shape: [2, 2], data: new Float32Array(3) } })).toThrow(CheckpointError);
    expect(() => encodeSafetensors({}, { a: 1 as unknown as string })).toThrow(CheckpointError);
  });

  const good = () => encodeSafetensors({ w: { shape: [2, 2], data: Float32Array.from([1, 2, 3, 4]) }, b: { shape: [2], data: Float32Array.from([5, 6]) } }, { k: 'v' });

  test.each([
    ['empty file', () => new Uint8Array(3), /fewer than the 8-byte/],
    ['truncated data', () => good().subarray(0, good().length - 1), /data section has .* tensors cover|outside the/],
    ['truncated header', () => good().subarray(0, 20), /header claims/],
    ['header length beyond the file', () => { const b = good(); new DataView(b.buffer).setUint32(0, 1e6, true); return b; }, /header claims 1000000/],
    ['bad JSON', () => handMade(null, new Uint8Array(0), '{"w": {"dtype": "F32",'), /not valid UTF-8 JSON/],
    ['header not an object', () => handMade([1, 2], new Uint8Array(0)), /not a JSON object/],
    ['unknown dtype', () => handMade({ w: { dtype: 'F8', shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1)), /unknown dtype "F8"/],
    ['shape vs byte size', () => handMade({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8)), /\(12 bytes\) but spans 8/],
    ['overlap', () => handMade({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, new Uint8Array(12)), /overlaps/],
    ['hole', () => handMade({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, new Uint8Array(8)), /belong to no tensor/],
    ['out of range', () => handMade({ a: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } }, new Uint8Array(8)), /outside the 8 data bytes/],
    ['reversed offsets', () => handMade({ a: { dtype: 'U8', shape: [0], data_offsets: [4, 0] } }, new Uint8Array(4)), /outside/],
    ['negative shape', () => handMade({ a: { dtype: 'U8', shape: [-1], data_offsets: [0, 0] } }, new Uint8Array(0)), /invalid shape/],
    ['non-string metadata', () => handMade({ __metadata__: { step: 3 } }, new Uint8Array(0)), /metadata 'step' is not a string/],
    ['invalid UTF-8', () => { const b = handMade(null, new Uint8Array(0), '{"a": {}}'); b[10] = 0xff; return b; }, /not valid UTF-8 JSON/],
    ['tensor without description', () => handMade({ a: 1 }, new Uint8Array(0)), /tensor 'a' has no description/],
  ])('%s -> CheckpointError', (_name, make, message) => {
    let err: unknown;
    let result: unknown;
    try {
      result = decodeSafetensors(make(), { source: 'test.safetensors' });
    } catch (e) {
      err = e;
    }
    expect(result).toBeUndefined(); // no partial state
    expect(err).toBeInstanceOf(CheckpointError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).toMatch(/test\.safetensors/);
  });

  test('expected layout: missing tensors, wrong shapes and dtypes, extra tensors under strict', () => {
    const bytes = good();
    expect(decodeSafetensors(bytes, { expected: { w: [2, 2], b: { shape: [2], dtype: 'F32' } }, strict: true }).tensors.size).toBe(2);
    expect(decodeSafetensors(bytes, { expected: { w: [2, 2] } }).tensors.size).toBe(2); // extra allowed by default
    expect(() => decodeSafetensors(bytes, { expected: { w: [2, 2] }, strict: true })).toThrow(/unexpected tensors: b/);
    expect(() => decodeSafetensors(bytes, { expected: { w: [2, 2], c: [1] } })).toThrow(/missing tensors: c/);
    expect(() => decodeSafetensors(bytes, { expected: { w: [4] } })).toThrow(/'w' has shape \[2, 2\], the model expects \[4\]/);
    expect(() => decodeSafetensors(bytes, { expected: { b: { shape: [2], dtype: 'F16' } } })).toThrow(/'b' is F32, the model expects F16/);
    expect(() => decodeSafetensors(bytes, { expected: { w: [4] } })).toThrow(CheckpointError);
  });

  test('checkpoint metadata: JSON fields round trip; wrong format, bad JSON and missing fields are refused', () => {
    const fields = { model: { channels: [32, 64], attention: [16] }, step: 1200, dataset: 'mnist', rng: { seed: 5, epoch: 2, cursor: 17 }, skip: undefined };
    const meta = encodeCheckpointMetadata(fields);
    expect(Object.values(meta).every((v) => typeof v === 'string')).toBe(true);
    const back = decodeCheckpointMetadata(meta, ['model', 'step']);
    expect(back).toEqual({ model: fields.model, step: 1200, dataset: 'mnist', rng: fields.rng });
    expect(() => decodeCheckpointMetadata({ step: '1' })).toThrow(/not a softdiff checkpoint/);
    expect(() => decodeCheckpointMetadata({ ...meta, step: '{' })).toThrow(/'step' is not valid JSON/);
    expect(() => decodeCheckpointMetadata(meta, ['ema'])).toThrow(/lacks metadata ema/);
    expect(() => encodeCheckpointMetadata({ format: 1 })).toThrow(CheckpointError);
  });
});
