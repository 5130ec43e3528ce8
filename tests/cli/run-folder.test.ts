// The run folder keeps what a user trained (issue 12, items 1, 3 and 9): a folder that holds a trained
// run is not overwritten without --resume or --force; --resume continues where the checkpoint lives;
// two runs into one folder cannot interleave (a lock names the first); a killed run's leftovers
// (temporary files, loss records past the checkpoint) are cleaned up on resume; a run that fails
// before producing anything leaves no empty folder behind.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { readJsonl } from '../../src/node/jsonl-log.ts';
import { decodeSafetensors } from '../../src/io/safetensors.ts';
import { cli, TINY_BLOBS, waitFor } from '../helpers/cli.ts';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'softdiff-runfolder-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const stepOf = (ckpt: string) => Number(decodeSafetensors(readFileSync(ckpt)).metadata.step);
const logSteps = (out: string) => readJsonl(join(out, 'loss.jsonl')).map((r) => r.step);

describe('a trained run is never overwritten silently (item 1)', () => {
  test('train into a folder holding a checkpoint exits 2 naming --resume, --force and --out, and changes nothing; --force replaces it', async () => {
    const out = join(dir, 'kept');
    expect((await cli('train', ...TINY_BLOBS, '--steps', '2', '--out', out)).code).toBe(0);
    const ckpt = readFileSync(join(out, 'checkpoint.safetensors'));
    const log = readFileSync(join(out, 'loss.jsonl'));

    const again = await cli('train', ...TINY_BLOBS, '--steps', '4', '--seed', '3', '--out', out);
    expect(again.code).toBe(2);
    expect(again.err).toMatch(/already holds a trained run/);
    for (const flag of ['--resume', '--force', '--out']) expect(again.err).toContain(flag);
    expect(readFileSync(join(out, 'checkpoint.safetensors')).equals(ckpt)).toBe(true);
    expect(readFileSync(join(out, 'loss.jsonl')).equals(log)).toBe(true);

    const forced = await cli('train', ...TINY_BLOBS, '--steps', '4', '--seed', '3', '--force', '--out', out);
    expect(forced.code).toBe(0);
    expect(stepOf(join(out, 'checkpoint.safetensors'))).toBe(4);
    expect(logSteps(out)).toEqual([2, 4]); // the old run's records are gone, not mixed in
  });

  test('--resume without --out continues in the checkpoint\'s own folder', async () => {
    const out = join(dir, 'resume-here');
    expect((await cli('train', ...TINY_BLOBS, '--steps', '2', '--out', out)).code).toBe(0);
    const r = await cli('train', '--resume', join(out, 'checkpoint.safetensors'), '--steps', '4', '--progress', 'off');
    expect(r.code).toBe(0);
    expect(r.err).toContain(`-> ${out}`);
    expect(stepOf(join(out, 'checkpoint.safetensors'))).toBe(4);
    expect(logSteps(out)).toEqual([2, 4]);
  });
});

describe('one run per folder (item 3)', () => {
  test('a second run into a folder in use refuses, naming the first; the first is unaffected', async () => {
    const out = join(dir, 'busy');
    const first = cli('train', ...TINY_BLOBS, '--steps', '30', '--checkpoint-every', '0', '--out', out);
    await waitFor(() => existsSync(join(out, '.softdiff.lock')) || existsSync(join(out, 'options.json')));
    const second = await cli('train', ...TINY_BLOBS, '--steps', '2', '--out', out);
    const r = await first;
    expect(r.code).toBe(0);
    expect(second.code).toBe(1);
    expect(second.err).toMatch(new RegExp(`Another softdiff run is writing into .*busy: pid ${process.pid} on `));
    expect(second.err).toContain('softdiff train --data blobs'); // the first run's command line
    expect(second.err).toContain('--steps 30');
    expect(logSteps(out)).toEqual(Array.from({ length: 15 }, (_, i) => 2 * (i + 1)));
    expect(existsSync(join(out, '.softdiff.lock'))).toBe(false); // released at the end
  });

  test('the lock of a process that no longer runs is taken over, with a note', async () => {
    const out = join(dir, 'stale');
    mkdirSync(out);
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!; // has exited
    writeFileSync(join(out, '.softdiff.lock'), JSON.stringify({ pid: dead, host: hostname(), started: '2020-01-01T00:00:00Z', command: 'softdiff train' }));
    const r = await cli('train', ...TINY_BLOBS, '--steps', '2', '--out', out);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(new RegExp(`took over the lock of an earlier run \\(pid ${dead}`));
  });
});

describe('no leftovers (item 9)', () => {
  test('resuming after a kill -9 removes temp files and the loss records past the checkpoint', async () => {
    const out = join(dir, 'killed');
    expect((await cli('train', ...TINY_BLOBS, '--steps', '2', '--log-every', '1', '--out', out)).code).toBe(0);
    // What a run killed during step 4 leaves: records of steps 3 and 4 (not checkpointed), a half
    // line, and the temporary file of an interrupted checkpoint write.
    appendFileSync(join(out, 'loss.jsonl'), '{"step":3,"loss":0.5,"lr":0.002,"elapsed":1}\n{"step":4,"lo');
    writeFileSync(join(out, '.checkpoint.safetensors.99999.k3j4h5g6.tmp'), 'partial');
    const r = await cli('train', '--resume', join(out, 'checkpoint.safetensors'), '--steps', '4', '--out', out, '--progress', 'off');
    expect(r.code).toBe(0);
    expect(logSteps(out)).toEqual([1, 2, 3, 4]);
    expect(readdirSync(out).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(r.err).toMatch(/removed 1 temporary file/);
  });

  test('a run that fails before producing anything leaves no empty --out', async () => {
    const out = join(dir, 'failed-run');
    const r = await cli('train', '--data', 'blobs', '--length', '12', '--size', '8', '--batch', '2', '--progress', 'off', '--steps', '2', '--model', '{"baseChannels":4,"channelMults":[1,2],"groups":3}', '--out', out);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/groups/);
    expect(existsSync(out)).toBe(false);
  });
});
