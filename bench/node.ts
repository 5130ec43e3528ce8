// Node benchmark runner: `npm run bench -- <name|all> [--key=value ...]` prints one JSON line per
// result on stdout (progress and notes go to stderr). Run from source by scripts/run-ts.mjs.
// Every line carries the 1-minute load average when it was printed (load1): on a shared machine a
// figure means little without it. --choices=FILE loads the autotuned kernel-variant choices from FILE
// when it exists and saves them there after the run (A/B comparisons with the same choices, and no
// timing runs at planning).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import type { Gpu } from '../src/gpu/gpu.ts';
import { createNodeGpu, releaseNodeGpu } from '../src/node/device.ts';
import { benches } from './registry.ts';
import type { BenchOptions } from './types.ts';

export async function main(argv: string[]): Promise<void> {
  const names = argv.filter((a) => !a.startsWith('--'));
  const opts: BenchOptions = {};
  for (const a of argv.filter((x) => x.startsWith('--'))) {
    const [k, v = 'true'] = a.slice(2).split('=');
    opts[k!] = v;
  }
  if (!names.length || names.includes('help')) {
    console.error(`usage: npm run bench -- <${Object.keys(benches).sort().join('|')}|all> [--key=value ...]`);
    for (const b of Object.values(benches)) console.error(`  ${b.name}: ${b.description}`);
    process.exitCode = names.length ? 0 : 2;
    return;
  }
  const selected = names.includes('all') ? Object.values(benches) : names.map((n) => benches[n] ?? fail(n));
  const gpu = await createNodeGpu();
  console.error(`adapter: ${gpu.adapter.key} (${gpu.adapter.description || gpu.adapter.vendor})`);
  console.log(JSON.stringify(adapterLine(gpu)));
  if (opts.choices && existsSync(opts.choices)) gpu.variants.import(JSON.parse(readFileSync(opts.choices, 'utf8')) as Record<string, string>);
  try {
    for (const b of selected)
      await b.run(gpu, opts, (r) => console.log(JSON.stringify({ ...r, adapter: r.adapter ?? gpu.adapter.key, runtime: 'node', load1: Number(loadavg()[0]!.toFixed(2)) })));
    if (opts.choices) writeFileSync(opts.choices, JSON.stringify(gpu.variants.export(), null, 1) + '\n');
  } finally {
    await gpu.done().catch(() => {});
    gpu.destroy();
    releaseNodeGpu();
  }
}

/** The first line of every run: what the figures below were measured on. */
function adapterLine(gpu: Gpu): Record<string, unknown> {
  const limits: Record<string, number> = {};
  for (const k of ['maxStorageBufferBindingSize', 'maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupsPerDimension'])
    limits[k] = (gpu.limits as unknown as Record<string, number>)[k]!;
  return { bench: 'adapter', adapter: gpu.adapter.key, runtime: 'node', info: gpu.adapter, features: gpu.features, limits, node: process.version, cpus: cpus().length, load1: Number(loadavg()[0]!.toFixed(2)) };
}

function fail(name: string): never {
  throw new Error(`unknown benchmark ${name}; known: ${Object.keys(benches).sort().join(', ')}`);
}

