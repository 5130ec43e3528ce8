// Timing helpers shared by the benchmarks. On a software adapter (lavapipe in Node) the kernels run on
// this process's threads, so the process's CPU time per run is the work itself: other processes on a
// loaded machine delay it but, unlike wall time, do not inflate it. The browser has no such counter.
import type { Gpu } from '../src/gpu/gpu.ts';
import type { Dispatch } from '../src/gpu/kernel.ts';
import { timeDispatches } from '../src/gpu/autotune.ts';

/** CPU time (user + system, all threads) of this process in ms, or null where the runtime has none. */
export function processCpuMs(): number | null {
  const proc = (globalThis as { process?: { cpuUsage?: () => { user: number; system: number } } }).process;
  if (!proc?.cpuUsage) return null;
  const u = proc.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** timeDispatches (wall ms per submit) plus the process CPU ms per submit (undefined in a browser). */
export async function timeWithCpu(gpu: Gpu, ds: readonly Dispatch[], reps: number): Promise<{ ms: number; cpuMs?: number }> {
  const cpu0 = processCpuMs();
  const ms = await timeDispatches(gpu, ds, reps);
  const cpu = cpu0 === null ? undefined : (processCpuMs()! - cpu0) / (reps + 1); // + its warm-up run
  return { ms, cpuMs: cpu };
}
