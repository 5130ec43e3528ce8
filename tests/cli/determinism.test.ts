// Runs are reproducible across processes, and no work is lost at the end or on Ctrl-C (issue 12,
// items 4 and 5). The kernel variants a run uses are stored in its checkpoint and reused on resume;
// --deterministic pins them for fresh runs; so train 6 steps in one process and train 3 + resume 3 in
// two others give bit-identical weights. The checkpoint is written before the final preview, and
// SIGINT / SIGTERM finish the current step, write a checkpoint and exit 130 / 143 saying how to resume.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { decodeSafetensors } from '../../src/io/safetensors.ts';
import { readJsonl } from '../../src/node/jsonl-log.ts';
import { cli, TINY_BLOBS, waitFor } from '../helpers/cli.ts';

const root = resolve(import.meta.dirname, '../..');
let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'softdiff-determinism-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** The CLI in a process of its own (each process times its own kernel variants). */
function cliProcess(...argv: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, ['scripts/run-ts.mjs', 'src/cli/main.ts', ...argv], { cwd: root, encoding: 'utf8', timeout: 300_000 });
  return { status: r.status, stderr: r.stderr };
}

function tensorsOf(file: string): Map<string, Uint8Array> {
  const { tensors } = decodeSafetensors(readFileSync(file));
  return new Map([...tensors].map(([k, t]) => [k, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)]));
}
const metadataOf = (file: string) => decodeSafetensors(readFileSync(file)).metadata;

describe('bit-identical across processes (item 4)', () => {
  test('train 6 steps vs train 3 + resume 3, each in its own process, with --deterministic', () => {
    const a = join(dir, 'six');
    const b = join(dir, 'three');
    const args = [...TINY_BLOBS, '--deterministic', '--checkpoint-every', '0'];
    expect(cliProcess('train', ...args, '--steps', '6', '--out', a).status).toBe(0);
    expect(cliProcess('train', ...args, '--steps', '3', '--out', b).status).toBe(0);
    const variants = JSON.parse(metadataOf(join(b, 'checkpoint.safetensors')).variants!) as { policy: string; choices: Record<string, string> };
    expect(variants.policy).toBe('first');
    expect(Object.keys(variants.choices).length).toBeGreaterThan(0);
    const resumed = cliProcess('train', '--resume', join(b, 'checkpoint.safetensors'), '--steps', '6', '--progress', 'off');
    expect(resumed.status).toBe(0);
    expect(resumed.stderr).toMatch(/reusing the \d+ kernel variant choices stored in the checkpoint/);
    const six = tensorsOf(join(a, 'checkpoint.safetensors'));
    const threeThree = tensorsOf(join(b, 'checkpoint.safetensors'));
    expect([...threeThree.keys()].sort()).toEqual([...six.keys()].sort());
    const differing = [...six].filter(([k, bytes]) => !Buffer.from(bytes).equals(Buffer.from(threeThree.get(k)!))).map(([k]) => k);
    expect(differing).toEqual([]); // every tensor (weights, EMA, Adam moments, prior bank) bit for bit
    expect(metadataOf(join(b, 'checkpoint.safetensors')).step).toBe('6');
  });
});

describe('no work lost (item 5)', () => {
  test('the final checkpoint is written before the final preview, so a failing preview loses no steps', async () => {
    const out = join(dir, 'preview-fails');
    expect((await cli('train', ...TINY_BLOBS, '--steps', '2', '--checkpoint-every', '2', '--out', out)).code).toBe(0);
    // The preview's copy to samples/latest.png cannot succeed: a folder has that name.
    rmSync(join(out, 'samples', 'latest.png'));
    mkdirSync(join(out, 'samples', 'latest.png'));
    const r = await cli('train', '--resume', join(out, 'checkpoint.safetensors'), '--steps', '5', '--out', out, '--progress', 'off');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/Cannot write the preview grid/);
    expect(metadataOf(join(out, 'checkpoint.safetensors')).step).toBe('5');
    expect(r.err).toMatch(/Checkpoint kept: .*checkpoint\.safetensors \(step 5, written by this run\); continue with `softdiff train --resume/);
  });

  test.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s finishes the step, writes a checkpoint and exits %i with the resume command', async (signal, code) => {
    const out = join(dir, `signal-${signal}`);
    const child = spawn(process.execPath, ['scripts/run-ts.mjs', 'src/cli/main.ts', 'train', ...TINY_BLOBS, '--steps', '100000', '--log-every', '1', '--checkpoint-every', '0', '--out', out], { cwd: root });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => void (stderr += d.toString()));
    const exited = new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
    await waitFor(() => existsSync(join(out, 'loss.jsonl')) && readJsonl(join(out, 'loss.jsonl')).length >= 2, 240_000);
    child.kill(signal);
    expect(await exited).toBe(code);
    expect(stderr).toMatch(new RegExp(`${signal} received; finishing the current step`));
    const m = stderr.match(/interrupted by \w+ after step (\d+); checkpoint written: (.*checkpoint\.safetensors) \(step (\d+)\)/);
    expect(m).not.toBeNull();
    expect(m![1]).toBe(m![3]);
    expect(stderr).toContain(`Continue with \`softdiff train --resume ${join(out, 'checkpoint.safetensors')} --steps 100000\``);
    const step = Number(metadataOf(join(out, 'checkpoint.safetensors')).step);
    expect(step).toBe(Number(m![1]));
    // Every logged step is in the checkpoint: nothing trained was lost.
    expect(Math.max(...readJsonl(join(out, 'loss.jsonl')).map((x) => x.step as number))).toBeLessThanOrEqual(step);
    expect(existsSync(join(out, '.softdiff.lock'))).toBe(false);
  });
});
