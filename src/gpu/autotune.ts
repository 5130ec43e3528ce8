// Kernel variants: a GPU wants shared-memory tiles, a CPU software adapter wants register blocking and
// few barriers. An op offers several variants; pickVariant times each once (warm-up + a few timed
// runs) at first use and caches the fastest per (adapter, op, shape key). Tests pass `variant`
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
  const timings: Record<string, number> = {};
  let best: { name: string; dispatches: Dispatch[]; ms: number } | null = null;
  for (const v of variants) {
    const ds = await v.build();
    const ms = await timeDispatches(gpu, ds, reps);
    timings[v.name] = ms;
    if (!best || ms < best.ms) best = { name: v.name, dispatches: ds, ms };
  }
  cache.set(fullKey, best!.name);
  return { name: best!.name, dispatches: best!.dispatches, timings };
}

/** Wall time in ms of one submit of `ds`, median of `reps` runs after one warm-up. */
export async function timeDispatches(gpu: Gpu, ds: readonly Dispatch[], reps = 3): Promise<number> {
  const once = async () => {
    const t0 = performance.now();
    gpu.recorder('autotune').run(ds).submit();
    await gpu.done();
    return performance.now() - t0;
  };
  await once();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) times.push(await once());
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}
