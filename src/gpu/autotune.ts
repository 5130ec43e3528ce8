// Kernel variants: a GPU wants shared-memory tiles, a CPU software adapter wants register blocking and
// few barriers. An op offers several variants; pickVariant times each once (warm-up + a few timed
// runs) at first use and remembers the fastest per op key in the device's VariantChoices
// (gpu.variants), which can be exported and re-imported (to pin the choices of a run). Tests pass
// `variant` explicitly to every op so that every variant is checked against the reference. With
// policy 'first' nothing is timed: every op takes its first-listed variant (pinned runs).
//
// Timing never touches the caller's tensors: the candidates are built on zero-filled stand-ins of the
// same shapes in a scope of their own, destroyed after timing; only the winner is then built on the
// real operands. (Timing on the real ones would, e.g., add a backward pass with `accumulate` into the
// caller's gradient several times over.)
import type { Gpu } from './gpu.ts';
import type { Dispatch } from './kernel.ts';
import type { Tensor } from './tensor.ts';
import { ValueError } from './errors.ts';

/** The tensors an op binds, by role (null or undefined for an absent optional one). */
export type Operands = { readonly [role: string]: Tensor | null | undefined };

export interface Variant<T extends Operands = Operands> {
  name: string;
  /** Builds this variant's dispatches for operands `t`; what it allocates belongs to `gpu` (a scope). */
  build: (gpu: Gpu, t: T) => Promise<Dispatch[]>;
}

export interface VariantChoice {
  name: string;
  dispatches: Dispatch[];
  /** ms per run for each variant timed (empty when the choice came from the book or a forced name). */
  timings: Record<string, number>;
}

/**
 * How an op without a remembered choice picks its variant: 'fastest' times the candidates (the
 * default; the winner can differ between processes, and so can the last bits of the results),
 * 'first' takes the op's first-listed variant without timing (the same in every process: pinned).
 */
export type VariantPolicy = 'fastest' | 'first';

/** The variant chosen per op key on one device; gpu.variants holds them. */
export class VariantChoices {
  private readonly byKey = new Map<string, string>();
  /** See VariantPolicy. */
  policy: VariantPolicy = 'fastest';
  constructor(
    /** The adapter the choices were timed on (AdapterDescription.key). */
    readonly adapter: string,
  ) {}

  get(key: string): string | undefined {
    return this.byKey.get(key);
  }
  set(key: string, name: string): void {
    this.byKey.set(key, name);
  }
  clear(): void {
    this.byKey.clear();
  }
  get size(): number {
    return this.byKey.size;
  }
  /** The choices (those whose key starts with `prefix`, default all) as a plain object, e.g. to store them. */
  export(prefix = ''): Record<string, string> {
    return Object.fromEntries([...this.byKey].filter(([k]) => k.startsWith(prefix)));
  }
  /**
   * Restore stored choices, replacing those with the same key. A name that is not a variant of its op
   * is ignored when the op is planned (the op is timed instead), so stale entries are harmless.
   */
  import(choices: Readonly<Record<string, string>>): void {
    for (const [k, v] of Object.entries(choices)) if (typeof v === 'string') this.byKey.set(k, v);
  }
}

/**
 * Choose among `variants` for `operands`: the one named by `force`, else the remembered choice for
 * `key`, else the fastest by timing on stand-ins. A single variant is returned without timing.
 */
export async function pickVariant<T extends Operands>(gpu: Gpu, key: string, variants: readonly Variant<T>[], operands: T, force?: string, reps = 3): Promise<VariantChoice> {
  if (force !== undefined) {
    const v = variants.find((x) => x.name === force);
    if (!v) throw new ValueError(`Unknown variant ${force} for ${key}; known: ${variants.map((x) => x.name).join(', ')}`);
    return { name: v.name, dispatches: await v.build(gpu, operands), timings: {} };
  }
  const remembered = variants.find((x) => x.name === gpu.variants.get(key));
  const only = variants.length === 1 ? variants[0] : undefined;
  const pinned = gpu.variants.policy === 'first' ? variants[0] : undefined;
  if (remembered ?? only ?? pinned) {
    const v = (remembered ?? only ?? pinned)!;
    if (!remembered && variants.length > 1) gpu.variants.set(key, v.name); // so that a checkpoint records it
    return { name: v.name, dispatches: await v.build(gpu, operands), timings: {} };
  }
  const timings: Record<string, number> = {};
  const trial = gpu.scope(`autotune ${key}`);
  try {
    const stand = standIns(trial, operands);
    for (const v of variants) timings[v.name] = await timeDispatches(trial, await v.build(trial, stand), reps);
  } finally {
    trial.destroy();
  }
  const best = variants.reduce((a, b) => (timings[b.name]! < timings[a.name]! ? b : a));
  gpu.variants.set(key, best.name);
  return { name: best.name, dispatches: await best.build(gpu, operands), timings };
}

/** Zero-filled tensors of the operands' shapes; one operand passed under several roles stays one tensor. */
function standIns<T extends Operands>(scope: Gpu, operands: T): T {
  const made = new Map<Tensor, Tensor>();
  const out: Record<string, Tensor | null | undefined> = {};
  for (const [role, t] of Object.entries(operands)) {
    if (!t) {
      out[role] = t;
      continue;
    }
    let s = made.get(t);
    if (!s) made.set(t, (s = scope.tensor(t.shape, `autotune:${role}`, t.dtype)));
    out[role] = s;
  }
  return out as T;
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
