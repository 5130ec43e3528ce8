// How fast, and with how much memory, the CLI refuses hostile inputs (issue 12): one JSON line per
// probe on stdout, {probe, ms, rssBeforeMB, peakBeforeMB, peakRssMB, code, message}: the process's
// RSS and peak RSS before the probe, and its peak RSS after (a probe that allocated shows as
// peakRssMB > peakBeforeMB). Each probe's input is written by one process and refused by another
// (peak RSS is per process, and a child's starts at its parent's, so the driver stays small),
// through the real command line in-process (main()), so the figures include reading the file. No
// GPU is created by any probe.
//   node scripts/run-ts.mjs bench/hostile-files.ts [probe ...]    all probes, or the named ones
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import { main as cliMain } from '../src/cli/main.ts';
import { encodeSafetensors } from '../src/io/safetensors.ts';
import { encodeCheckpointMetadata } from '../src/io/checkpoint-metadata.ts';
import { resolveOptions } from '../src/train/options.ts';

const root = resolve(import.meta.dirname, '..');

function pngClaiming(width: number, height: number): Uint8Array {
  const chunk = (type: string, data: Uint8Array) => {
    const out = new Uint8Array(12 + data.length);
    const v = new DataView(out.buffer);
    v.setUint32(0, data.length);
    out.set(new TextEncoder().encode(type), 4);
    out.set(data, 8);
    v.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
    return out;
  };
  const ihdr = new Uint8Array(13);
  new DataView(ihdr.buffer).setUint32(0, width);
  new DataView(ihdr.buffer).setUint32(4, height);
  ihdr.set([8, 0, 0, 0, 0], 8);
  // 400 rows of zeros: a few hundred bytes compressed; the decoder would size its output from the header.
  const parts = [Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(new Uint8Array(400 * (1 + width)))), chunk('IEND', new Uint8Array(0))];
  return Buffer.concat(parts);
}

function headerFile(headerText: string): Uint8Array {
  const json = new TextEncoder().encode(headerText);
  const out = new Uint8Array(8 + json.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  return out;
}

function zeroTensorHeader(targetBytes: number): string {
  const parts: string[] = [];
  let n = 2;
  for (let i = 0; n < targetBytes; i++) {
    const p = `"t${i}":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}`;
    parts.push(p);
    n += p.length + 1;
  }
  return `{${parts.join(',')}}`;
}

function checkpointWith(mutate: (f: Record<string, unknown> & { options: Record<string, unknown> }) => void): Uint8Array {
  const options = resolveOptions({ model: 'mnist', modelOverrides: { baseChannels: 4, channelMults: [1, 2], groups: 2, timeFeatures: 8, timeEmbedDim: 8 }, batch: 2 }, { channels: 3, size: 8 });
  const f = JSON.parse(JSON.stringify({ kind: 'training-state', options, step: 4, dataset: { name: 'blobs', channels: 3, size: 8, length: 12 }, hostRng: 1, streamer: { seed: 1, epoch: 0, cursor: 0 }, gpuRng: { seed: 1, counter: 4 }, adamStep: 4, lastLoss: 0.1 }));
  mutate(f);
  return encodeSafetensors({ x: { shape: [1], data: new Float32Array(1) } }, encodeCheckpointMetadata(f));
}

/** Each probe: `make` writes its input under `dir` (in the driver process, so that building a
 * 100 MB file does not count in the probe's memory); `argv` is the command line that must refuse it. */
interface Probe {
  make?: (dir: string) => void;
  argv: (dir: string) => string[];
}

const PROBES: Record<string, Probe> = {
  'png-20000x20000-folder': {
    make: (dir) => {
      mkdirSync(join(dir, 'imgs'));
      writeFileSync(join(dir, 'imgs', 'huge.png'), pngClaiming(20000, 20000));
    },
    argv: (dir) => ['train', '--data', join(dir, 'imgs'), '--size', '8', '--out', join(dir, 'out')],
  },
  'jpeg-9000x9000-folder': {
    make: (dir) => {
      mkdirSync(join(dir, 'imgs'));
      writeFileSync(join(dir, 'imgs', 'huge.jpg'), Uint8Array.from([0xff, 0xd8, 0xff, 0xc0, 0, 11, 8, 9000 >> 8, 9000 & 255, 9000 >> 8, 9000 & 255, 1, 1, 0x11, 0, 0xff, 0xd9]));
    },
    argv: (dir) => ['train', '--data', join(dir, 'imgs'), '--size', '8', '--out', join(dir, 'out')],
  },
  'safetensors-100MB-header-of-empty-tensors': {
    make: (dir) => writeFileSync(join(dir, 'h.safetensors'), headerFile(zeroTensorHeader(100 * 1024 * 1024))),
    argv: (dir) => ['sample', '--checkpoint', join(dir, 'h.safetensors')],
  },
  'safetensors-4MB-header-of-empty-tensors': {
    make: (dir) => writeFileSync(join(dir, 'h.safetensors'), headerFile(zeroTensorHeader(4 * 1024 * 1024 - 64))),
    argv: (dir) => ['sample', '--checkpoint', join(dir, 'h.safetensors')],
  },
  'safetensors-duplicate-tensor-names': {
    make: (dir) => {
      const header = '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}';
      writeFileSync(join(dir, 'd.safetensors'), Buffer.concat([headerFile(header), new Uint8Array(8)]));
    },
    argv: (dir) => ['sample', '--checkpoint', join(dir, 'd.safetensors')],
  },
  'checkpoint-dataset-length-1e9': {
    make: (dir) => writeFileSync(join(dir, 'c.safetensors'), checkpointWith((f) => void ((f.dataset as Record<string, unknown>).length = 1e9))),
    argv: (dir) => ['train', '--resume', join(dir, 'c.safetensors')],
  },
  'checkpoint-sampleSteps-1e9': {
    make: (dir) => writeFileSync(join(dir, 'c.safetensors'), checkpointWith((f) => void (f.options.sampleSteps = 1e9))),
    argv: (dir) => ['train', '--resume', join(dir, 'c.safetensors')],
  },
  'checkpoint-step-1e300': {
    make: (dir) => writeFileSync(join(dir, 'c.safetensors'), checkpointWith((f) => void (f.step = 1e300))),
    argv: (dir) => ['sample', '--checkpoint', join(dir, 'c.safetensors')],
  },
  'flag-length-1e9': { argv: () => ['train', '--data', 'blobs', '--length', '1000000000'] },
  'flag-sample-steps-1e9': { argv: () => ['train', '--sample-steps', '1000000000'] },
};

async function runProbe(name: string, dir: string): Promise<void> {
  const argv = PROBES[name]!.argv(dir);
  const before = process.memoryUsage().rss;
  const peakBefore = process.resourceUsage().maxRSS * 1024;
  let err = '';
  const t0 = performance.now();
  const code = await cliMain(argv, { out: () => {}, err: (t) => void (err += t) });
  const ms = performance.now() - t0;
  const peak = process.resourceUsage().maxRSS * 1024;
  console.log(JSON.stringify({ probe: name, ms: Math.round(ms * 10) / 10, rssBeforeMB: Math.round(before / 2 ** 20), peakBeforeMB: Math.round(peakBefore / 2 ** 20), peakRssMB: Math.round(peak / 2 ** 20), code, message: err.split('\n').find((l) => l.trim())?.slice(0, 160) }));
}

export async function main(argv: string[]): Promise<void> {
  if (argv[0] === '--probe') return runProbe(argv[1]!, argv[2]!);
  if (argv[0] === '--make') return void PROBES[argv[1]!]!.make?.(argv[2]!);
  const names = argv.length ? argv : Object.keys(PROBES);
  for (const n of names) if (!PROBES[n]) throw new Error(`unknown probe ${n}; known: ${Object.keys(PROBES).join(', ')}`);
  for (const n of names) {
    const dir = mkdtempSync(join(tmpdir(), 'softdiff-hostile-'));
    try {
      const made = spawnSync(process.execPath, ['scripts/run-ts.mjs', 'bench/hostile-files.ts', '--make', n, dir], { cwd: root, encoding: 'utf8' });
      if (made.status !== 0) throw new Error(`making the input of ${n} failed: ${made.stderr}`);
      const r = spawnSync(process.execPath, ['scripts/run-ts.mjs', 'bench/hostile-files.ts', '--probe', n, dir], { cwd: root, encoding: 'utf8' });
      process.stdout.write(r.stdout);
      if (r.status !== 0) process.stderr.write(r.stderr);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
