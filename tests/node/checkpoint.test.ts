import { describe, expect, test } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCheckpoint, writeCheckpoint, writeFileAtomic } from '../../src/node/checkpoint.ts';
import { CheckpointError } from '../../src/gpu/errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'softdiff-ckpt-'));

const tensors = () => ({
  'conv.weight': { shape: [4, 3, 3, 3], data: Float32Array.from({ length: 108 }, (_, i) => Math.cos(i) * 0.1) },
  'conv.bias': { shape: [4], data: Float32Array.from([0.5, -0.5, 1e-30, 3e38]) },
  'rng.state': { shape: [2], data: Uint32Array.from([123, 456]) },
});
const fields = { model: { base: 32, mults: [1, 2] }, corruption: { name: 'blur', sigmaMax: 20 }, schedules: { noise: 'cosine' }, dataset: 'mnist', step: 500, rng: { seed: 1, epoch: 3, cursor: 64 } };

describe('checkpoints on disk', () => {
  test('round trip: tensors bit exact, metadata fields back as JSON values', async () => {
    const path = join(dir, 'model.safetensors');
    await writeCheckpoint(path, tensors(), fields);
    const ck = await readCheckpoint(path, { expected: { 'conv.weight': [4, 3, 3, 3], 'conv.bias': [4], 'rng.state': { shape: [2], dtype: 'U32' } }, strict: true, required: ['model', 'step'] });
    expect(ck.fields).toEqual(fields);
    expect(Array.from(ck.tensors.get('conv.weight')!.data as Float32Array)).toEqual(Array.from(tensors()['conv.weight'].data));
    expect(Array.from(ck.tensors.get('conv.bias')!.data as Float32Array)).toEqual(Array.from(tensors()['conv.bias'].data));
    expect(Array.from(ck.tensors.get('rng.state')!.data as Uint32Array)).toEqual([123, 456]);
  });

  test('overwrite is atomic: no temporary files left, the new content replaces the old', async () => {
    const path = join(dir, 'over.safetensors');
    await writeCheckpoint(path, tensors(), { ...fields, step: 1 });
    await writeCheckpoint(path, tensors(), { ...fields, step: 2 });
    expect((await readCheckpoint(path)).fields.step).toBe(2);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  test('a failed write leaves the previous file intact and no temporary file', async () => {
    const path = join(dir, 'keep.bin');
    await writeFileAtomic(path, Uint8Array.from([1, 2, 3]));
    await expect(writeFileAtomic(join(dir, 'no-such-dir', 'x.bin'), Uint8Array.from([9]))).rejects.toThrow(CheckpointError);
    // Renaming over a directory fails after the temp file was written: it must be cleaned up.
    await expect(writeFileAtomic(dir, Uint8Array.from([9]))).rejects.toThrow(CheckpointError);
    expect(Array.from(readFileSync(path))).toEqual([1, 2, 3]);
    expect(readdirSync(join(dir, '..')).filter((f) => f.startsWith('.softdiff-ckpt-') && f.endsWith('.tmp'))).toEqual([]);
  });

  test('truncated, corrupted, foreign and mismatched files are refused with a CheckpointError', async () => {
    const path = join(dir, 'good.safetensors');
    await writeCheckpoint(path, tensors(), fields);
    const bytes = readFileSync(path);
    const cut = join(dir, 'cut.safetensors');
    writeFileSync(cut, bytes.subarray(0, bytes.length - 10));
    await expect(readCheckpoint(cut)).rejects.toThrow(/cut\.safetensors is not a valid safetensors file/);
    const flipped = join(dir, 'flipped.safetensors');
    const bad = Buffer.from(bytes);
    bad[9] = 0x00; // inside the JSON header
    writeFileSync(flipped, bad);
    await expect(readCheckpoint(flipped)).rejects.toThrow(CheckpointError);
    await expect(readCheckpoint(join(dir, 'missing.safetensors'))).rejects.toThrow(/Cannot read the checkpoint: .*missing\.safetensors does not exist/);
    await expect(readCheckpoint(path, { expected: { 'conv.weight': [4, 3, 5, 5] } })).rejects.toThrow(/'conv.weight' has shape \[4, 3, 3, 3\], the model expects \[4, 3, 5, 5\]/);
    await expect(readCheckpoint(path, { expected: { 'attn.qkv': [12, 4] } })).rejects.toThrow(/missing tensors: attn.qkv/);
    await expect(readCheckpoint(path, { required: ['ema'] })).rejects.toThrow(/lacks metadata ema/);
    const { encodeSafetensors } = await import('../../src/io/safetensors.ts');
    const foreign = join(dir, 'foreign.safetensors');
    writeFileSync(foreign, encodeSafetensors({ x: { shape: [1], data: new Float32Array(1) } }, { step: '3' }));
    await expect(readCheckpoint(foreign)).rejects.toThrow(/not a softdiff checkpoint/);
  });
});
