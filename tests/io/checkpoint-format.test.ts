// The checkpoint format is versioned: every file carries `softdiff-checkpoint/<N>` and the release
// that wrote it. The committed format-1 file (tests/fixtures/, written by release 0.1.0) must keep
// loading, sampling and resuming in every later release; a file of a newer format is refused with a
// message naming the format and the release it needs; anything else is not a softdiff checkpoint.
import { describe, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import { useGpu } from '../helpers/gpu.ts';
import { fixturePath, FIXTURE_DATA } from '../fixtures/checkpoint-fixture.ts';
import { SoftDiffusion } from '../../src/api/soft-diffusion.ts';
import { CHECKPOINT_FORMAT, CHECKPOINT_FORMAT_VERSION, checkpointFormat, encodeCheckpointMetadata } from '../../src/io/checkpoint-metadata.ts';
import { decodeSafetensors, encodeSafetensors } from '../../src/io/safetensors.ts';
import { decodeCheckpointFile } from '../../src/train/checkpoint-state.ts';
import { CheckpointError } from '../../src/gpu/errors.ts';
import { VERSION } from '../../src/version.ts';

const ctx = useGpu();

/** The same file with its metadata edited (tensors unchanged). */
function withMetadata(bytes: Uint8Array, edit: (m: Record<string, string>) => void): Uint8Array {
  const file = decodeSafetensors(bytes);
  const meta = { ...file.metadata };
  edit(meta);
  return encodeSafetensors(new Map([...file.tensors].map(([k, t]) => [k, { shape: t.shape, data: t.data as Float32Array }])), meta);
}

describe('checkpoint format', () => {
  const v1 = new Uint8Array(readFileSync(fixturePath(1)));

  test('this release writes the current format and its own version', () => {
    const meta = encodeCheckpointMetadata({ step: 1 });
    expect(meta.format).toBe(CHECKPOINT_FORMAT);
    expect(CHECKPOINT_FORMAT).toBe(`softdiff-checkpoint/${CHECKPOINT_FORMAT_VERSION}`);
    expect(JSON.parse(meta.writer!)).toBe(`softdiff ${VERSION}`);
    expect(checkpointFormat(meta)).toEqual({ version: CHECKPOINT_FORMAT_VERSION, writer: `softdiff ${VERSION}` });
    expect(() => encodeCheckpointMetadata({ writer: 'me' })).toThrow(/'writer' is reserved/);
  });

  test('the committed format-1 file loads, samples and resumes', async () => {
    expect(decodeCheckpointFile(v1, 'v1').format).toEqual({ version: 1, writer: 'softdiff 0.1.0' });
    const model = await SoftDiffusion.fromCheckpoint(ctx.gpu, v1, { name: 'v1' });
    expect(model.info).toMatchObject({ step: 6, imageShape: [3, 8, 8], format: { version: 1 } });
    const s = await model.sample({ seed: 1 });
    expect(s.shape).toEqual([4, 3, 8, 8]);
    expect(s.images.every(Number.isFinite)).toBe(true);
    model.destroy();
    const trainer = await SoftDiffusion.train(ctx.gpu, FIXTURE_DATA, { resume: v1, resumeName: 'v1' });
    expect(trainer.currentStep).toBe(6);
    expect((await trainer.step({ readLoss: true })).loss).toBeGreaterThan(0);
    trainer.destroy();
  });

  test('a file without the writer (written before it was recorded, or by another tool) still loads', () => {
    const old = withMetadata(v1, (m) => delete m.writer);
    expect(decodeCheckpointFile(old, 'old').format).toEqual({ version: 1, writer: null });
    expect(decodeCheckpointFile(withMetadata(v1, (m) => (m.writer = 'plain text')), 'p').format.writer).toBe('plain text');
    expect(decodeCheckpointFile(withMetadata(v1, (m) => (m.writer = '{"x":1}')), 'o').format.writer).toBeNull();
  });

  test('a newer format is refused with the format and release it needs', async () => {
    const next = CHECKPOINT_FORMAT_VERSION + 1;
    const newer = withMetadata(v1, (m) => {
      m.format = `softdiff-checkpoint/${next}`;
      m.writer = '"softdiff 9.4.0"';
    });
    const message = new RegExp(`future\\.safetensors is a checkpoint of format ${next}, written by softdiff 9\\.4\\.0; softdiff ${VERSION.replace(/\./g, '\\.')} reads checkpoint formats up to ${CHECKPOINT_FORMAT_VERSION}`);
    expect(() => decodeCheckpointFile(newer, 'future.safetensors')).toThrow(message);
    expect(() => decodeCheckpointFile(newer, 'future.safetensors')).toThrow(/Upgrade softdiff to a release that reads checkpoint format 2 \(softdiff 9\.4\.0 or newer\)/);
    await expect(SoftDiffusion.fromCheckpoint(ctx.gpu, newer, { name: 'future.safetensors' })).rejects.toThrow(CheckpointError);
    const anonymous = withMetadata(newer, (m) => delete m.writer);
    expect(() => decodeCheckpointFile(anonymous, 'x')).toThrow(/x is a checkpoint of format 2; softdiff/);
  });

  test('other markers are not softdiff checkpoints', () => {
    for (const format of ['softdiff-checkpoint/0', 'softdiff-checkpoint/1.1', 'softdiff-checkpoint/', 'other/1', 'softdiff-checkpoint/01'])
      expect(() => decodeCheckpointFile(withMetadata(v1, (m) => (m.format = format)), 'f'), format).toThrow(/f is not a softdiff checkpoint/);
    expect(() => decodeCheckpointFile(withMetadata(v1, (m) => delete m.format), 'f')).toThrow(/metadata format is null/);
  });

  test("the package's version is the one written into checkpoints", () => {
    // Under `npm test` npm hands the version over (package.json may be briefly rewritten meanwhile by
    // the consumer test's `npm pack`); a bare vitest run reads the file.
    const version = process.env.npm_package_version ?? (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
    expect(VERSION).toBe(version);
  });
});
