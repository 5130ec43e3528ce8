// Shared pieces of the PyTorch interop tests: running tests/interop/torch_side.py with Debian's
// /usr/bin/python3 (python3-torch, installed by scripts/setup-debian.sh), passing tensors both ways as
// safetensors files, and the tiny engine checkpoint the tests start from (trained here in Node).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll } from 'vitest';
import { decodeSafetensors, encodeSafetensors, type TensorToWrite } from '../../src/io/safetensors.ts';
import { BlobsDataset } from '../../src/data/synthetic.ts';
import { Trainer } from '../../src/train/trainer.ts';
import type { TrainerOptions } from '../../src/train/options.ts';
import { decodeCheckpointFile, type DecodedCheckpoint } from '../../src/train/checkpoint-state.ts';
import type { Gpu } from '../../src/gpu/gpu.ts';

export const ROOT = resolve(import.meta.dirname, '../..');
export const PYTHON = process.env.SOFTDIFF_PYTHON ?? '/usr/bin/python3';
const SCRIPT = join(ROOT, 'tests/interop/torch_side.py');

/** A temporary folder for this test file, removed afterwards. */
export function useTmp(): { dir: string } {
  const ctx = { dir: mkdtempSync(join(tmpdir(), 'softdiff-interop-')) };
  afterAll(() => rmSync(ctx.dir, { recursive: true, force: true }));
  return ctx;
}

/** Fails with the fix when Python or PyTorch is missing (these tests must run, not skip, in CI). */
export function checkTorch(): string {
  try {
    return execFileSync(PYTHON, ['-c', 'import torch, numpy; print(torch.__version__)'], { encoding: 'utf8' }).trim();
  } catch (e) {
    throw new Error(`The interop tests need ${PYTHON} with torch and numpy (${(e as Error).message.split('\n')[0]}). Run \`npm run setup\` (installs python3-torch python3-numpy).`);
  }
}

/** Run a torch_side.py command; returns the tensors it wrote. */
export function runTorch(dir: string, command: string, args: Record<string, unknown>): Map<string, Float32Array> {
  const out = join(dir, `${command}-out.safetensors`);
  const argsPath = join(dir, `${command}-args.json`);
  writeFileSync(argsPath, JSON.stringify({ ...args, out }));
  try {
    execFileSync(PYTHON, [SCRIPT, command, argsPath], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, OMP_NUM_THREADS: '1' } });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`torch_side.py ${command} failed: ${err.stderr || err.message}`);
  }
  return readTensors(out);
}

export function readTensors(path: string): Map<string, Float32Array> {
  const file = decodeSafetensors(readFileSync(path), { source: path });
  const out = new Map<string, Float32Array>();
  for (const [k, t] of file.tensors) out.set(k, t.data as Float32Array);
  return out;
}

export function writeTensors(path: string, tensors: Record<string, { shape: readonly number[]; data: Float32Array }>): string {
  const m = new Map<string, TensorToWrite>();
  for (const [k, t] of Object.entries(tensors)) m.set(k, t);
  writeFileSync(path, encodeSafetensors(m));
  return path;
}

/** The largest |a - b| and the largest |b| (for stating errors relative to the values' scale). */
export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): { abs: number; scale: number } {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let abs = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    abs = Math.max(abs, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return { abs, scale };
}

/**
 * The tiny model of these tests: 3x8x8 images, width 8, two levels, 2-head attention at 4 px and in
 * the middle (every layer kind), trained a few steps on blobs so that no weight is at its initial value.
 */
export const INTEROP_OPTIONS: TrainerOptions = {
  model: 'mnist',
  modelOverrides: { baseChannels: 8, channelMults: [1, 2], groups: 4, attentionResolutions: [4], midAttention: true, attentionHeads: 2, timeFeatures: 8, timeEmbedDim: 16 },
  batch: 4,
  lr: 5e-3,
  warmupSteps: 2,
  emaDecay: 0.5,
  priorBank: 8,
  seed: 5,
  sampleCount: 2,
  sampleSteps: 3,
};

export const blobs = () => new BlobsDataset({ size: 8, channels: 3, length: 16, seed: 2 });

/** engineCheckpoint's default run written to `dir`/engine.safetensors (the path PyTorch reads) and decoded. */
export async function writeEngineCheckpoint(gpu: Gpu, dir: string): Promise<{ path: string; ckpt: DecodedCheckpoint }> {
  const bytes = await engineCheckpoint(gpu);
  const path = join(dir, 'engine.safetensors');
  writeFileSync(path, bytes);
  return { path, ckpt: decodeCheckpointFile(bytes, path) };
}

/** An engine checkpoint of the tiny model after `steps` training steps (bytes). */
export async function engineCheckpoint(gpu: Gpu, steps = 6, options: TrainerOptions = INTEROP_OPTIONS): Promise<Uint8Array> {
  const trainer = await Trainer.create(gpu, blobs(), options);
  try {
    await trainer.run(steps);
    return await trainer.checkpoint();
  } finally {
    trainer.destroy();
  }
}
