// Per-dispatch GPU time of a prebuilt list of dispatches (a training step), and the table that sums
// it by kernel family. With timestamp-query (lavapipe, most GPUs) every dispatch gets its own compute
// pass with begin/end timestamps, so one submit of the whole list times every dispatch in place (the
// caches and neighbours are those of a real step); the minimum over `reps` submits is kept, which
// discards time the adapter's threads lost to other processes. Without timestamps each dispatch is
// submitted and waited for alone (wall time, median of 3), which also counts the submit overhead.
import type { Gpu } from '../src/gpu/gpu.ts';
import type { Dispatch } from '../src/gpu/kernel.ts';
import { timeDispatches } from '../src/gpu/autotune.ts';
import { BufferUsage, MapMode } from '../src/gpu/usage.ts';

export interface DispatchTime {
  /** The dispatch's label, with the op it belongs to where the label alone does not say (see family). */
  label: string;
  family: string;
  ms: number;
}

export interface Profile {
  method: 'timestamps' | 'wall';
  /** Sum of the dispatch times (ms): the step's GPU time without the gaps between dispatches. */
  totalMs: number;
  dispatches: DispatchTime[];
}

/** WebGPU's cap on a query set's size is 4096 queries: 2048 dispatches per submit. */
const MAX_QUERIES = 4096;

export async function profileDispatches(gpu: Gpu, ds: readonly Dispatch[], reps = 3): Promise<Profile> {
  const names = attribute(ds.map((d) => d.label));
  let times: number[];
  let method: Profile['method'];
  if (gpu.features.timestamps && 2 * ds.length <= MAX_QUERIES) {
    method = 'timestamps';
    times = new Array<number>(ds.length).fill(Infinity);
    for (let r = 0; r < reps + 1; r++) {
      const once = await timestampOnce(gpu, ds);
      if (r > 0) once.forEach((ms, i) => (times[i] = Math.min(times[i]!, ms))); // r = 0 warms up
    }
  } else {
    method = 'wall';
    times = [];
    for (const d of ds) times.push(await timeDispatches(gpu, [d], 3));
  }
  const dispatches = names.map((n, i) => ({ ...n, ms: times[i]! }));
  return { method, totalMs: times.reduce((a, b) => a + b, 0), dispatches };
}

async function timestampOnce(gpu: Gpu, ds: readonly Dispatch[]): Promise<number[]> {
  const device = gpu.device;
  const count = 2 * ds.length;
  const query = device.createQuerySet({ type: 'timestamp', count, label: 'profile' });
  const resolved = gpu.census.create({ size: count * 8, usage: BufferUsage.QUERY_RESOLVE | BufferUsage.COPY_SRC, label: 'profile:resolve' });
  const staging = gpu.census.create({ size: count * 8, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST, label: 'profile:read' });
  const enc = device.createCommandEncoder({ label: 'profile' });
  ds.forEach((d, i) => {
    const pass = enc.beginComputePass({ label: d.label, timestampWrites: { querySet: query, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 } });
    pass.setPipeline(d.pipeline);
    pass.setBindGroup(0, d.bindGroup);
    pass.dispatchWorkgroups(d.workgroups[0], d.workgroups[1], d.workgroups[2]);
    pass.end();
  });
  enc.resolveQuerySet(query, 0, count, resolved, 0);
  enc.copyBufferToBuffer(resolved, 0, staging, 0, count * 8);
  device.queue.submit([enc.finish()]);
  await staging.mapAsync(MapMode.READ);
  const ts = new BigUint64Array(staging.getMappedRange().slice(0));
  staging.unmap();
  for (const b of [staging, resolved]) b.destroy();
  query.destroy();
  gpu.check();
  return ds.map((_, i) => (ts[2 * i + 1]! > ts[2 * i]! ? Number(ts[2 * i + 1]! - ts[2 * i]!) / 1e6 : 0));
}

/**
 * Kernel family of each dispatch: the op and pass its label names (`conv2d.backwardWeight`,
 * `groupnorm-backward`, `matmul`...). A matmul between two dispatches of one convolution pass (the
 * Winograd and im2col variants' products) belongs to that pass and is labelled `<pass>.matmul`.
 */
export function attribute(labels: readonly string[]): { label: string; family: string }[] {
  const family = (l: string) => {
    const parts = l.split(/[.:[]/);
    return parts[0] === 'conv2d' && parts.length > 1 ? `conv2d.${parts[1]}` : parts[0]!;
  };
  return labels.map((label, i) => {
    const f = family(label);
    if (f === 'matmul') {
      const before = i > 0 ? labels[i - 1]! : '';
      let j = i + 1;
      while (j < labels.length && family(labels[j]!) === 'matmul') j++;
      const after = j < labels.length ? labels[j]! : '';
      // The Winograd variant: <pass>.winograd.input, matmul, <pass>.winograd.output (or .weight).
      if (family(before).startsWith('conv2d.') && family(before) === family(after)) {
        const variant = before.split('.')[2] ?? '';
        return { label: `${family(before)}.${variant}.${label}`, family: family(before) };
      }
      // The im2col variant: conv2d.gemm.im2col, matmul, ... (its labels do not name the pass).
      if (before.startsWith('conv2d.gemm') || after.startsWith('conv2d.gemm') || after.startsWith('conv2d.sumImages'))
        return { label: `conv2d.gemm.${label}`, family: 'conv2d.gemm' };
    }
    return { label, family: f };
  });
}

export interface ProfileRow {
  name: string;
  dispatches: number;
  ms: number;
  share: number;
}

/** Sum by `key` (family or label), largest first. */
export function summarize(p: Profile, key: 'family' | 'label'): ProfileRow[] {
  const rows = new Map<string, ProfileRow>();
  for (const d of p.dispatches) {
    const r = rows.get(d[key]) ?? { name: d[key], dispatches: 0, ms: 0, share: 0 };
    r.dispatches++;
    r.ms += d.ms;
    rows.set(d[key], r);
  }
  const out = [...rows.values()].sort((a, b) => b.ms - a.ms);
  for (const r of out) r.share = p.totalMs > 0 ? r.ms / p.totalMs : 0;
  return out;
}

/** A fixed-width text table of rows (for a terminal; the JSON lines carry the same numbers). */
export function formatTable(title: string, rows: readonly ProfileRow[], totalMs: number): string {
  const w = Math.max(24, ...rows.map((r) => r.name.length));
  const line = (a: string, b: string, c: string, d: string) => `${a.padEnd(w)}  ${b.padStart(10)}  ${c.padStart(10)}  ${d.padStart(6)}`;
  const out = [title, line('kernel family', 'dispatches', 'ms', 'share'), '-'.repeat(w + 32)];
  for (const r of rows) out.push(line(r.name, String(r.dispatches), r.ms.toFixed(2), `${(100 * r.share).toFixed(1)}%`));
  out.push('-'.repeat(w + 32), line('total', String(rows.reduce((a, r) => a + r.dispatches, 0)), totalMs.toFixed(2), '100%'));
  return out.join('\n');
}
