// The command line: usage errors say what is accepted (exit code 2); a tiny model trains for a few
// steps (grid, checkpoint, loss log), resumes, and samples; a folder data set with a broken image
// trains with a warning; the built-in entry runs as a separate process.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { PNG } from 'pngjs';
import { main } from '../../src/cli/main.ts';
import { MAIN_JOB } from '../../src/cli/train.ts';
import { encodePng } from '../../src/node/png.ts';
import { readJsonl } from '../../src/node/jsonl-log.ts';

const TINY_MODEL = JSON.stringify({ baseChannels: 4, channelMults: [1, 2], groups: 2, timeFeatures: 8, timeEmbedDim: 8 });
const TINY_ARGS = ['--size', '8', '--model', TINY_MODEL, '--batch', '2', '--sample-count', '4', '--sample-steps', '3', '--log-every', '2', '--progress', 'off'];

async function cli(...argv: string[]) {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => void (out += t), err: (t) => void (err += t) });
  return { code, out, err };
}

function pngSize(bytes: Buffer): [number, number] {
  const png = PNG.sync.read(bytes);
  return [png.width, png.height];
}

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'softdiff-cli-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('usage errors', () => {
  test.each([
    [['train', '--corruption', 'foo'], /Allowed choices are blur, mask, identity/],
    [['train', '--loss', 'l1'], /Allowed choices are soft, x0, dsm/],
    [['train', '--steps', 'ten'], /--steps <n>.*expected an integer in \[1, \d+\].*, got 'ten'/],
    [['train', '--batch', '0'], /expected an integer in \[1, 4096\] \(the largest batch\), got '0'/],
    [['train', '--lr', '-1'], /expected a positive number/],
    [['train', '--preset', 'huge'], /Allowed choices are bench, mnist, rgb32, rgb64/],
    [['train', '--noise-max', '0'], /--noise-max <x>.*expected a positive number/],
    [['train', '--model', '{oops'], /expected a JSON object/],
    [['train', '--frobnicate'], /unknown option '--frobnicate'/],
    [['sample'], /required option '--checkpoint <file>' not specified/],
    [['sample', '--checkpoint', 'x', '--sampler', 'ddim'], /Allowed choices are momentum, pf, probability-flow, naive, langevin/],
    [['nonsense'], /unknown command 'nonsense'/],
  ])('%j', async (argv, message) => {
    const r = await cli(...argv);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.err).toContain('--help');
  });

  test('--help on a command lists its options and exits 0', async () => {
    const r = await cli('train', '--help');
    expect(r.code).toBe(0);
    for (const o of ['--data', '--preset', '--steps', '--batch', '--lr', '--corruption', '--loss', '--out', '--resume', '--sample-every', '--seed']) expect(r.out).toContain(o);
  });

  test('a checkpoint that is not one is refused with exit code 1 and a clear message', async () => {
    const bad = join(dir, 'bad.safetensors');
    writeFileSync(bad, 'not a checkpoint at all');
    const r = await cli('sample', '--checkpoint', bad);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/not a valid safetensors file/);
  });
});

describe('train, resume and sample a tiny model', () => {
  test('train writes grids, a checkpoint and the loss log; resume continues; sample writes PNGs', async () => {
    const out = join(dir, 'run');
    const r = await cli('train', '--data', 'blobs', '--length', '12', ...TINY_ARGS, '--steps', '4', '--sample-every', '2', '--checkpoint-every', '2', '--out', out);
    expect(r.err).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    for (const f of ['checkpoint.safetensors', 'loss.jsonl', 'options.json', 'samples/step-000002.png', 'samples/step-000004.png', 'samples/latest.png']) expect(existsSync(join(out, f)), f).toBe(true);
    // a 2x2 grid of 8x8 images with 2 px padding
    expect(pngSize(await readFile(join(out, 'samples/latest.png')))).toEqual([2 * 8 + 3 * 2, 2 * 8 + 3 * 2]);
    const log = readJsonl(join(out, 'loss.jsonl'));
    expect(log.map((x) => x.step)).toEqual([2, 4]);
    expect(log.every((x) => Number.isFinite(x.loss))).toBe(true);
    // blur with no noise flag: the main job's noise range (MAIN_JOB.noiseMax, docs/quality.md), not the library's 0.01..0.1
    expect(r.err).toContain(`noise 0.01..${MAIN_JOB.noiseMax}`);
    expect((JSON.parse(await readFile(join(out, 'options.json'), 'utf8')) as { noise: unknown }).noise).toEqual({ kind: 'geometric', min: 0.01, max: MAIN_JOB.noiseMax });
    // and the soft loss with the main job's x0 weight (docs/quality.md)
    expect(r.err).toContain(`soft loss + ${MAIN_JOB.x0Weight} x0`);
    expect((JSON.parse(await readFile(join(out, 'options.json'), 'utf8')) as { x0Weight: unknown }).x0Weight).toBe(MAIN_JOB.x0Weight);

    const resumed = await cli('train', '--resume', join(out, 'checkpoint.safetensors'), '--steps', '6', '--out', out, '--progress', 'off');
    expect(resumed.code).toBe(0);
    expect(resumed.err).toContain('resuming at step 4');
    expect(readJsonl(join(out, 'loss.jsonl')).map((x) => x.step)).toEqual([2, 4, 6]);

    const s = await cli('sample', '--checkpoint', join(out, 'checkpoint.safetensors'), '--sampler', 'pf', '--steps', '3', '--count', '3', '--out', join(out, 'pf'), '--progress', 'off');
    expect(s.code).toBe(0);
    for (const f of ['grid.png', 'sample-0000.png', 'sample-0002.png']) expect(existsSync(join(out, 'pf', f)), f).toBe(true);
    expect(pngSize(await readFile(join(out, 'pf', 'sample-0001.png')))).toEqual([8, 8]);
  });

  test('a folder data set with a broken image trains, with a warning naming the file', async () => {
    const folder = join(dir, 'images');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(folder);
    for (let i = 0; i < 3; i++) {
      const data = new Uint8Array(8 * 8 * 3).map((_, k) => (k * (i + 3)) % 256);
      writeFileSync(join(folder, `img${i}.png`), encodePng({ width: 8, height: 8, channels: 3, data }));
    }
    writeFileSync(join(folder, 'broken.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]));
    const out = join(dir, 'folder-run');
    const r = await cli('train', '--data', folder, ...TINY_ARGS, '--steps', '2', '--sample-every', '0', '--out', out);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/warning: Skipping .*broken\.png/);
    expect(r.err).toContain('3 images');
    expect(existsSync(join(out, 'checkpoint.safetensors'))).toBe(true);
  });
});

test('schedule writes blur levels as JSON that train --blur-schedule uses', async () => {
  const file = join(dir, 'levels.json');
  const r = await cli('schedule', '--data', 'blobs', '--size', '8', '--length', '16', '--levels', '4', '--candidates', '16', '--out', file);
  expect(r.code).toBe(0);
  const json = JSON.parse(await readFile(file, 'utf8')) as { schedule: { kind: string; t: number[]; values: number[] } };
  expect(json.schedule.kind).toBe('piecewise-linear');
  expect(json.schedule.t).toHaveLength(4);
  const out = join(dir, 'scheduled');
  const t = await cli('train', '--data', 'blobs', '--length', '12', ...TINY_ARGS, '--steps', '1', '--sample-every', '0', '--blur-schedule', file, '--out', out);
  expect(t.code).toBe(0);
  const opts = JSON.parse(await readFile(join(out, 'options.json'), 'utf8')) as { corruption: { schedule: unknown } };
  expect(opts.corruption.schedule).toEqual(json.schedule);
});

test('train --noise-min / --noise-max set the geometric noise schedule; a decreasing one is refused', async () => {
  const out = join(dir, 'noise-range');
  const t = await cli('train', '--data', 'blobs', '--length', '12', ...TINY_ARGS, '--steps', '1', '--sample-every', '0', '--noise-max', '0.8', '--out', out);
  expect(t.code).toBe(0);
  expect(t.err).toContain('noise 0.01..0.8');
  const opts = JSON.parse(await readFile(join(out, 'options.json'), 'utf8')) as { noise: unknown };
  expect(opts.noise).toEqual({ kind: 'geometric', min: 0.01, max: 0.8 });
  const bad = await cli('train', '--data', 'blobs', '--length', '12', ...TINY_ARGS, '--steps', '1', '--noise-min', '0.5', '--noise-max', '0.2', '--out', join(dir, 'bad-noise'));
  expect(bad.code).not.toBe(0);
  expect(bad.err).toMatch(/--noise-max 0.2 is below --noise-min 0.5/);
});

test('train --x0-weight: 0 is the paper\'s soft loss; other losses take none; bad values are refused', async () => {
  const run = (name: string, ...args: string[]) => cli('train', '--data', 'blobs', '--length', '12', ...TINY_ARGS, '--steps', '1', '--sample-every', '0', '--final-eval', '0', '--out', join(dir, name), ...args);
  const opts = async (name: string) => JSON.parse(await readFile(join(dir, name, 'options.json'), 'utf8')) as { loss: string; x0Weight: number };
  const zero = await run('x0w-zero', '--x0-weight', '0');
  expect(zero.code).toBe(0);
  expect(zero.err).toContain('soft loss, adapter');
  expect((await opts('x0w-zero')).x0Weight).toBe(0);
  const dsm = await run('x0w-dsm', '--loss', 'dsm');
  expect(dsm.code).toBe(0);
  expect(await opts('x0w-dsm')).toMatchObject({ loss: 'dsm', x0Weight: 0 });
  const mixed = await run('x0w-dsm-bad', '--loss', 'dsm', '--x0-weight', '0.1');
  expect(mixed.code).toBe(2);
  expect(mixed.err).toMatch(/--x0-weight 0.1 applies to --loss soft only/);
  for (const bad of ['-1', 'abc', '1e9']) {
    const b = await run(`x0w-${bad}`, '--x0-weight', bad);
    expect(b.code).toBe(2);
    expect(b.err).toMatch(/--x0-weight.*expected a number in \[0, 1000\]/);
  }
});

test('the CLI entry runs as its own process (scripts/run-ts.mjs) and exits 2 on a usage error', () => {
  const root = resolve(import.meta.dirname, '../..');
  const r = spawnSync(process.execPath, ['scripts/run-ts.mjs', 'src/cli/main.ts', 'train', '--sampler', 'ddim'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  expect(r.status).toBe(2);
  expect(r.stderr).toMatch(/Allowed choices are momentum/);
});
