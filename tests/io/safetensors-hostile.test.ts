// Hostile safetensors files (issue 12, items 2 and 7): a header that repeats a key (JSON.parse would
// keep the last one, so two swapped tensors would load silently), dtypes that are names of
// Object.prototype, and headers far larger than any real one are refused from the header alone.
import { describe, expect, test } from 'vitest';
import { decodeSafetensors, encodeSafetensors } from '../../src/io/safetensors.ts';
import { firstDuplicateKey, JsonShapeError, parseJsonStrict } from '../../src/io/strict-json.ts';
import { MAX_SAFETENSORS_HEADER_BYTES, MAX_SAFETENSORS_TENSORS } from '../../src/base/limits.ts';

/** A file from a header text and data bytes, built by hand (not by the encoder). */
function fileOf(headerText: string, data = new Uint8Array(0)): Uint8Array {
  const json = new TextEncoder().encode(headerText);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

const f32 = (a: number[]) => new Uint8Array(Float32Array.from(a).buffer);

describe('repeated keys', () => {
  test('two tensors listed twice with swapped offsets are refused (JSON.parse alone would load them swapped)', () => {
    const data = new Uint8Array([...f32([1]), ...f32([2])]);
    const header = '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},' +
      '"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}';
    // What the lenient parse would have done: a = 2, b = 1.
    const lenient = JSON.parse(header) as Record<string, { data_offsets: number[] }>;
    expect(lenient.a!.data_offsets).toEqual([4, 8]);
    expect(() => decodeSafetensors(fileOf(header, data), { source: 'swapped.safetensors' })).toThrow(/swapped\.safetensors is not a valid safetensors file: its header is refused: the key "a" appears twice in the top-level object/);
  });

  test('a metadata key given twice is refused, also when spelled with an escape', () => {
    const header = '{"__metadata__":{"step":"1","st\\u0065p":"2"},"x":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}';
    expect(() => decodeSafetensors(fileOf(header, new Uint8Array([7])))).toThrow(/the key "step" appears twice in object "__metadata__"/);
  });

  test('the scanner: nested objects, arrays of objects, strings holding braces and quotes', () => {
    expect(firstDuplicateKey('{"a":{"b":1,"c":[{"b":2},{"b":3}]},"s":"{\\"a\\":1}","d":[1,{"a":1}]}')).toBeNull();
    expect(firstDuplicateKey('{"a":{"b":1,"c":[{"b":2,"b":3}]}}')).toEqual({ key: 'b', path: 'an object' });
    expect(firstDuplicateKey('{"a":{"x":1,"x":2}}')).toEqual({ key: 'x', path: 'object "a"' });
    expect(() => parseJsonStrict('{"k":1,"k":1}')).toThrow(JsonShapeError);
    expect(() => parseJsonStrict('{"k":1,"k":')).toThrow(/JSON/); // a syntax error stays one
    expect(() => parseJsonStrict('{"a":1,"b":2,"c":3}', { maxTopLevelKeys: 2 })).toThrow(/more than 2 keys/);
    expect(parseJsonStrict('{"k":[1,2,{"k":3}]}')).toEqual({ k: [1, 2, { k: 3 }] });
  });
});

describe('dtypes', () => {
  test.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])('dtype %j is refused as unknown', (dtype) => {
    const header = JSON.stringify({ x: { dtype, shape: [1], data_offsets: [0, 4] } });
    expect(() => decodeSafetensors(fileOf(header, f32([1])))).toThrow(new RegExp(`tensor 'x' has unknown dtype "${dtype}"`));
  });
});

describe('sizes', () => {
  test(`a header larger than ${MAX_SAFETENSORS_HEADER_BYTES} bytes is refused before it is parsed`, () => {
    const n = MAX_SAFETENSORS_HEADER_BYTES + 8;
    const bytes = new Uint8Array(8 + n);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(n), true);
    bytes.fill(0x20, 8); // spaces: would parse as nothing at all
    expect(() => decodeSafetensors(bytes)).toThrow(/the header claims \d+ bytes, more than the 4194304 bytes softdiff reads/);
  });

  test(`a header of more than ${MAX_SAFETENSORS_TENSORS} zero-size tensors is refused`, () => {
    const parts: string[] = [];
    for (let i = 0; i <= MAX_SAFETENSORS_TENSORS; i++) parts.push(`"t${i}":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}`);
    expect(() => decodeSafetensors(fileOf(`{${parts.join(',')}}`))).toThrow(/its header lists 16385 tensors, more than the 16384 softdiff reads/);
  });

  test('a 4 MB header of 70,000 empty tensors is refused while scanning, before JSON.parse builds them', () => {
    const parts: string[] = [];
    let bytes = 2;
    for (let i = 0; bytes < MAX_SAFETENSORS_HEADER_BYTES - 100; i++) {
      const p = `"t${i}":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}`;
      parts.push(p);
      bytes += p.length + 1;
    }
    expect(() => decodeSafetensors(fileOf(`{${parts.join(',')}}`))).toThrow(/its header is refused: the top-level object has more than 16385 keys/);
  });

  test('an ordinary file still round-trips (the strict parse accepts what the encoder writes)', () => {
    const bytes = encodeSafetensors({ w: { shape: [2], data: Float32Array.from([1, 2]) } }, { note: '{"a":1,"a":2} is only text here' });
    expect(decodeSafetensors(bytes).metadata.note).toBe('{"a":1,"a":2} is only text here');
  });
});
