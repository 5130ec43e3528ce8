// Browser benchmark page: the same Bench functions as Node, on navigator.gpu. scripts/bench-browser.mjs
// calls window.softdiffBench(name, opts) and prints the returned results as JSON lines.
import { Gpu } from '../src/gpu/gpu.ts';
import { benches } from './registry.ts';
import type { BenchOptions, BenchResult } from './types.ts';

declare global {
  interface Window {
    softdiffBench: (name: string, opts: BenchOptions) => Promise<BenchResult[]>;
    softdiffBenchNames: () => string[];
  }
}

let gpuPromise: Promise<Gpu> | null = null;
window.softdiffBenchNames = () => Object.keys(benches).sort();
window.softdiffBench = async (name, opts) => {
  const b = benches[name];
  if (!b) throw new Error(`unknown benchmark ${name}; known: ${Object.keys(benches).sort().join(', ')}`);
  const gpu = await (gpuPromise ??= Gpu.create(navigator.gpu, { runtime: 'browser', compatibility: opts.compat === 'true' }));
  const out: BenchResult[] = [];
  await b.run(gpu, opts, (r) => out.push({ ...r, adapter: r.adapter ?? gpu.adapter.key, runtime: 'browser' }));
  return out;
};
document.getElementById('status')!.textContent = 'ready';
