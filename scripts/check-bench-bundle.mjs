#!/usr/bin/env node
// `npm run bench:bundle:check [-- --bundle=PATH]`: proves the benchmark bundle works away from the
// repository. Builds it (scripts/bench-bundle.mjs) unless --bundle names an archive, checks its size
// (< 60 MiB), unpacks it with the system's tar into a fresh temporary directory, and runs its run.sh
// once per benchmark (unet, matmul, conv, sampler) with small sizes, from that directory, with a PATH
// that holds no node (the bundle must bring its own). Each run must exit 0, print JSON lines only on
// stdout, start with the adapter line, and give at least one line of that benchmark with a finite,
// positive ms. Prints one JSON summary line; exits 1 on the first failure. It takes a minute or two on
// lavapipe; run it before handing the archive to a GPU machine.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, existsSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';

const root = resolve(import.meta.dirname, '..');
const LIMIT = 60 * 1024 * 1024;
const NAME = 'softdiff-bench-linux-x64';
const arg = process.argv.slice(2).find((a) => a.startsWith('--bundle='));

function fail(msg) {
  console.error(`bench:bundle:check: ${msg}`);
  process.exit(1);
}

let archive;
if (arg) {
  archive = resolve(arg.slice('--bundle='.length));
  if (!existsSync(archive)) fail(`${archive} does not exist (build it with npm run bench:bundle)`);
} else {
  const out = execFileSync(process.execPath, [join(root, 'scripts/bench-bundle.mjs')], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  archive = JSON.parse(out.trim().split('\n').pop()).bundle;
}
const bytes = statSync(archive).size;
if (bytes >= LIMIT) fail(`${archive} is ${(bytes / 2 ** 20).toFixed(1)} MiB, not under 60 MiB`);

// The small runs: each benchmark by name, with options that keep it to seconds on a software adapter
// (the U-Net's variants pinned so that planning does not autotune).
const RUNS = [
  ['unet', '--preset=mnist', '--batch=2', '--steps=2', '--warmup=0', '--variants=conv2d:winograd4,groupnorm:serial,matmul:reg4x4'],
  ['matmul', '--n=64', '--reps=2', '--variant=reg4x4,splitk'],
  ['conv', '--n=1', '--only=64->64@8', '--variant=direct,winograd4', '--reps=2'],
  ['sampler', '--batch=2', '--size=8', '--channels=1', '--steps=3'],
];

/** HOME, the Vulkan driver selection if set, and a PATH that holds only what run.sh calls (dirname). */
function bareEnv(home) {
  const bin = join(home, 'bin');
  mkdirSync(bin, { recursive: true });
  if (!existsSync(join(bin, 'dirname'))) symlinkSync(execFileSync('sh', ['-c', 'command -v dirname'], { encoding: 'utf8' }).trim(), join(bin, 'dirname'));
  const env = { HOME: process.env.HOME ?? home, PATH: bin };
  for (const k of ['VK_ICD_FILENAMES', 'VK_DRIVER_FILES', 'XDG_RUNTIME_DIR']) if (process.env[k]) env[k] = process.env[k];
  return env;
}

const dir = mkdtempSync(join(tmpdir(), 'softdiff-bundle-check-'));
const summary = { bundle: archive, bytes, mib: Number((bytes / 2 ** 20).toFixed(1)), runs: [] };
try {
  execFileSync('tar', ['-xzf', archive, '-C', dir]);
  const here = join(dir, NAME);
  for (const f of ['run.sh', 'node', 'bench.mjs', 'node_modules/webgpu/dist/linux-x64/dawn.node', 'reference/unet_step.py']) if (!existsSync(join(here, f))) fail(`the archive has no ${NAME}/${f}`);
  for (const args of RUNS) {
    const t0 = performance.now();
    // No node on PATH: the bundle must run on its own binary.
    const r = spawnSync(join(here, 'run.sh'), args, { cwd: here, encoding: 'utf8', env: bareEnv(dir), timeout: 15 * 60_000 });
    const name = args[0];
    if (r.status !== 0) fail(`./run.sh ${args.join(' ')} exited ${r.status ?? r.signal}:\n${r.stderr.slice(-2000)}`);
    const lines = r.stdout.trim().split('\n');
    let parsed;
    try {
      parsed = lines.map((l) => JSON.parse(l));
    } catch {
      fail(`./run.sh ${args.join(' ')} printed a line that is not JSON:\n${r.stdout.slice(0, 2000)}`);
    }
    if (parsed[0]?.bench !== 'adapter' || !parsed[0].info) fail(`./run.sh ${name}: the first line is not the adapter line: ${lines[0]}`);
    const results = parsed.filter((p) => p.bench === name);
    if (!results.length || !results.every((p) => Number.isFinite(p.ms) && p.ms > 0)) fail(`./run.sh ${name}: no result line with a positive ms:\n${r.stdout.slice(0, 2000)}`);
    summary.runs.push({ bench: name, args: args.slice(1), lines: results.length, adapter: parsed[0].adapter, ms: results.map((p) => Number(p.ms.toFixed(2))), seconds: Number(((performance.now() - t0) / 1000).toFixed(1)) });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(JSON.stringify(summary));
