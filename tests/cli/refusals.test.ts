// What the CLI refuses, and how it says so (issue 12, items 2, 6, 7 and 8): sizes beyond the bounds of
// src/base/limits.ts are usage errors (exit 2) before anything is allocated; unknown --model settings are
// refused; `sample` checks --out before sampling and samples --batch images at a time; every error a
// user can cause names the path or the flag and says what to do, without raw ENOENT/ENOTDIR codes.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { cli, TINY_BLOBS } from '../helpers/cli.ts';

let dir = '';
let ckpt = '';
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'softdiff-refusals-'));
  const r = await cli('train', ...TINY_BLOBS, '--steps', '2', '--out', join(dir, 'run'));
  expect(r.code).toBe(0);
  ckpt = join(dir, 'run', 'checkpoint.safetensors');
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('sizes from flags are bounded (item 2): exit 2 before anything is allocated', () => {
  test.each([
    [['train', '--size', '100000'], /--size <px>.*expected an integer in \[1, 512\] \(the largest image size\), got '100000'/],
    [['train', '--data', 'blobs', '--length', '1000000000'], /--length <n>.*expected an integer in \[1, 1000000\]/],
    [['train', '--sample-steps', '1000000000'], /--sample-steps <n>.*expected an integer in \[1, 10000\]/],
    [['train', '--sample-count', '1000000'], /--sample-count <n>.*expected an integer in \[1, 1024\]/],
    [['train', '--batch', '1000000000'], /--batch <n>.*expected an integer in \[1, 4096\]/],
    [['train', '--width', '1000000'], /--width <n>.*expected an integer in \[1, 4096\]/],
    [['train', '--steps', '100000000000'], /--steps <n>.*expected an integer in \[1, 4294967295\]/],
    [['sample', '--checkpoint', 'x', '--count', '1000000000'], /--count <n>.*expected an integer in \[1, 100000\]/],
    [['sample', '--checkpoint', 'x', '--steps', '1000000000'], /--steps <n>.*expected an integer in \[1, 10000\]/],
    [['sample', '--checkpoint', 'x', '--batch', '1000000000'], /--batch <n>.*expected an integer in \[1, 4096\]/],
    [['sample', '--checkpoint', 'x', '--langevin-steps', '1000000000'], /--langevin-steps <n>.*expected an integer in \[1, 10000\]/],
    [['schedule', '--candidates', '1000000000'], /--candidates <m>.*expected an integer in \[2, 4096\]/],
    [['schedule', '--levels', '1000000000'], /--levels <k>.*expected an integer in \[2, 4096\]/],
    [['schedule', '--size', '100000'], /--size <px>.*expected an integer in \[1, 512\]/],
  ])('%j', async (argv, message) => {
    const r = await cli(...argv);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
  });

  test('schedule refuses candidates x size^2 tables beyond the bound, naming the flags', async () => {
    const r = await cli('schedule', '--data', 'blobs', '--size', '512', '--length', '4', '--candidates', '4096');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--candidates 4096 at --size 512 needs .* bytes of tables, more than .*; use fewer --candidates or a smaller --size/);
  });
});

describe('unknown --model settings (item 7)', () => {
  test('a misspelt setting is refused with the known ones (exit 2), not stored silently', async () => {
    const out = join(dir, 'typo');
    const r = await cli('train', '--data', 'blobs', '--length', '12', '--size', '8', '--batch', '2', '--steps', '1', '--progress', 'off', '--model', '{"basechannels":4}', '--out', out);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--model: unknown U-Net setting 'basechannels'/);
    expect(r.err).toMatch(/Known settings: .*baseChannels/);
    expect(existsSync(out)).toBe(false);
  });
});

describe('sample (item 6)', () => {
  test('an --out that is a file is refused before sampling, naming --out', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    const r = await cli('sample', '--checkpoint', ckpt, '--steps', '2', '--count', '2', '--out', file, '--progress', 'off');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/The output folder .*a-file \(--out\) is a file, not a folder/);
    expect(r.err).not.toMatch(/network evaluations/); // nothing was sampled
    expect(r.err).not.toMatch(/EEXIST|ENOTDIR/);
  });

  test('--count 5 --batch 2 samples in 3 batches and writes 5 images and a 5-image grid', async () => {
    const out = join(dir, 'batched');
    const r = await cli('sample', '--checkpoint', ckpt, '--steps', '2', '--count', '5', '--batch', '2', '--out', out, '--progress', 'off');
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/5 images in 3 batches of 2/);
    expect(readdirSync(out).filter((f) => f.startsWith('sample-')).sort()).toEqual(['sample-0000.png', 'sample-0001.png', 'sample-0002.png', 'sample-0003.png', 'sample-0004.png']);
    const grid = PNG.sync.read(readFileSync(join(out, 'grid.png')));
    expect([grid.width, grid.height]).toEqual([3 * 8 + 4 * 2, 2 * 8 + 3 * 2]); // 3 columns, 2 rows of 8 px images, 2 px padding
    // Batch 0 uses the seed itself: the first two images equal those of a single batch of 2.
    const single = join(dir, 'single');
    expect((await cli('sample', '--checkpoint', ckpt, '--steps', '2', '--count', '2', '--batch', '2', '--out', single, '--progress', 'off')).code).toBe(0);
    for (const f of ['sample-0000.png', 'sample-0001.png']) expect(readFileSync(join(single, f)).equals(readFileSync(join(out, f)))).toBe(true);
  });
});

describe('messages name the path or flag and say what to do (item 8)', () => {
  test('a missing checkpoint', async () => {
    const r = await cli('sample', '--checkpoint', join(dir, 'nope.safetensors'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/Cannot read the checkpoint \(--checkpoint\): .*nope\.safetensors does not exist\./);
    expect(r.err).not.toMatch(/ENOENT/);
  });

  test('train --out under a file', async () => {
    const file = join(dir, 'plain-file');
    writeFileSync(file, 'x');
    const r = await cli('train', ...TINY_BLOBS, '--steps', '1', '--out', join(file, 'run'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/Cannot (create|use) the output folder \(--out\): a part of the path .*plain-file\/run is a file, not a folder/);
    expect(r.err).toMatch(/-> Choose .*--out/);
    expect(r.err).not.toMatch(/ENOTDIR|EEXIST/);
  });

  test('a missing or malformed --blur-schedule names the file', async () => {
    const missing = await cli('train', ...TINY_BLOBS, '--steps', '1', '--blur-schedule', join(dir, 'none.json'), '--out', join(dir, 'bs1'));
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/Cannot read the --blur-schedule file: .*none\.json does not exist/);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"schedule": {oops');
    const malformed = await cli('train', ...TINY_BLOBS, '--steps', '1', '--blur-schedule', bad, '--out', join(dir, 'bs2'));
    expect(malformed.code).toBe(1);
    expect(malformed.err).toMatch(/--blur-schedule .*bad\.json is not a schedule: .*JSON/);
    expect(existsSync(join(dir, 'bs1')) || existsSync(join(dir, 'bs2'))).toBe(false);
  });

  test('a folder of unreadable images: each file\'s warning is printed, then the error with the reasons', async () => {
    const folder = join(dir, 'broken-images');
    mkdirSync(folder);
    writeFileSync(join(folder, 'one.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]));
    const r = await cli('train', '--data', folder, '--size', '8', '--steps', '1', '--progress', 'off', '--out', join(dir, 'broken-run'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/warning: Skipping .*one\.png: Cannot decode/);
    expect(r.err).toMatch(/has no readable PNG or JPEG images \(1 candidate file; Cannot decode/);
  });

  test('a run that diverges before its first checkpoint does not claim a checkpoint was kept', async () => {
    const out = join(dir, 'diverged');
    const r = await cli('train', ...TINY_BLOBS, '--steps', '20', '--log-every', '1', '--lr', '1e30', '--clip', '0', '--warmup', '0', '--checkpoint-every', '0', '--out', out);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/The training loss is (NaN|Infinity|-Infinity) at step \d+/);
    expect(r.err).toMatch(/No checkpoint was written \(the run stopped before its first one\)/);
    expect(r.err).not.toMatch(/Checkpoint kept/);
    expect(existsSync(join(out, 'checkpoint.safetensors'))).toBe(false);
  });
});
