// Kernel variants: a GPU wants shared-memory tiles, a CPU software adapter wants register blocking and
// few barriers. An op offers several variants; pickVariant times each at first use (a warm-up, then
// the candidates take turns; each keeps its fastest run) and caches the fastest per (adapter, op,
// shape key). Tests pass `variant`
// explicitly to every op so that every variant is checked against the reference.
import type { Gpu } from './gpu.ts';
import type { Dispatch } from './kernel.ts';
import { ValueError } from './errors.ts';

export interface Variant {
  name: string;
  /** Builds this variant's dispatches for the op's tensors. */
  build: () => Promise<Dispatch[]>;
}

export interface VariantChoice {
  name: string;
  dispatches: Dispatch[];
  /** ms per run for each variant timed (empty when the choice came from the cache or a forced name). */
  timings: Record<string, number>;
}

const cache = new Map<string, string>();

/** Forget cached choices (tests; or after the adapter changed). */
export function clearVariantCache(): void {
  cache.clear();
}

/** The cached choices, e.g. to save them; and to restore saved ones. */
export function variantCache(): Record<string, string> {
  return Object.fromEntries(cache);
}
export function loadVariantCache(entries: Record<string, string>): void {
  for (const [k, v] of Object.entries(entries)) cache.set(k, v);
}

/**
 * Choose among `variants`: the one named by `force`, else the cached choice for this adapter and key,
 * else the fastest by timing. A single variant is returned without timing.
 */
export async function pickVariant(gpu: Gpu, key: string, variants: readonly Variant[], force?: string, reps = 3): Promise<VariantChoice> {
  if (force !== undefined) {
    const v = variants.find((x) => x.name === force);
    if (!v) throw new ValueError(`Unknown variant ${force} for ${key}; known: ${variants.map((x) => x.name).join(', ')}`);
    return { name: v.name, dispatches: await v.build(), timings: {} };
  }
  const fullKey = `${gpu.adapter.key}|${key}`;
  const cached = cache.get(fullKey);
  const hit = variants.find((x) => x.name === cached);
  if (hit) return { name: hit.name, dispatches: await hit.build(), timings: {} };
  if (variants.length === 1) return { name: variants[0]!.name, dispatches: await variants[0]!.build(), timings: {} };
  // Each candidate runs once to warm up, then the candidates take turns for `reps` rounds and each
  // keeps its fastest run: on a shared machine other processes only ever add time, and taking turns
  // spreads a burst of load over all candidates instead of condemning the one it hit. Where the Gpu
  // has a work clock (a software adapter in Node), runs are timed in CPU time, which such bursts
  // barely touch; the adapter's threads share each dispatch's workgroups, so CPU time ranks variants
  // as wall time would on an idle machine, as long as each has a few workgroups per thread.
  const built: { name: string; dispatches: Dispatch[] }[] = [];
  for (const v of variants) {
    const ds = await v.build();
    await runOnce(gpu, ds);
    built.push({ name: v.name, dispatches: ds });
  }
  const timings: Record<string, number> = {};
  for (let r = 0; r < reps; r++)
    for (const b of built) timings[b.name] = Math.min(timings[b.name] ?? Infinity, await runOnce(gpu, b.dispatches));
  const best = built.reduce((a, b) => (timings[b.name]! < timings[a.name]! ? b : a));
  cache.set(fullKey, best.name);
  return { name: best.name, dispatches: best.dispatches, timings };
}

/** Time in ms of one submit of `ds`, waited for: by the Gpu's work clock if it has one, else wall time. */
async function runOnce(gpu: Gpu, ds: readonly Dispatch[], clock: () => number = gpu.workClock ?? (() => performance.now())): Promise<number> {
  const t0 = clock();
  gpu.recorder('autotune').run(ds).submit();
  await gpu.done();
  return clock() - t0;
}

/** Wall time in ms of one submit of `ds`, median of `reps` runs after one warm-up. */
export async function timeDispatches(gpu: Gpu, ds: readonly Dispatch[], reps = 3): Promise<number> {
  const wall = () => performance.now();
  await runOnce(gpu, ds, wall);
  const times: number[] = [];
  for (let i = 0; i < reps; i++) times.push(await runOnce(gpu, ds, wall));
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}
