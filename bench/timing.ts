// Timing helpers shared by the benchmarks. On a software adapter (lavapipe in Node) the kernels run on
// this process's threads, so CPU time per run is the work itself: other processes on a loaded machine
// delay it but, unlike wall time, barely inflate it. cpuMs is the whole process's; workMs (the Gpu's
// work clock, src/node/device.ts) leaves out the main thread, whose polling of Dawn while it waits
// grows with wall time. The browser has neither counter.
import type { Gpu } from '../src/gpu/gpu.ts';
import type { Dispatch } from '../src/gpu/kernel.ts';

/** CPU time (user + system, all threads) of this process in ms, or null where the runtime has none. */
export function processCpuMs(): number | null {
  const proc = (globalThis as { process?: { cpuUsage?: () => { user: number; system: number } } }).process;
  if (!proc?.cpuUsage) return null;
  const u = proc.cpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * Wall ms per submit (median of `reps` after a warm-up, as timeDispatches) and, where the runtime has
 * the counter, the process CPU ms of the cheapest run: load from other processes only ever adds to a
 * run, so the minimum is the figure that repeats.
 */
export async function timeWithCpu(gpu: Gpu, ds: readonly Dispatch[], reps: number): Promise<{ ms: number; cpuMs?: number; workMs?: number }> {
  gpu.recorder('warm-up').run(ds).submit();
  await gpu.done();
  const walls: number[] = [];
  let cpu = Infinity;
  let work = Infinity;
  for (let i = 0; i < reps; i++) {
    const c0 = processCpuMs();
    const w0 = gpu.workClock?.();
    const t0 = performance.now();
    gpu.recorder('timed').run(ds).submit();
    await gpu.done();
    walls.push(performance.now() - t0);
    if (c0 !== null) cpu = Math.min(cpu, processCpuMs()! - c0);
    if (w0 !== undefined) work = Math.min(work, gpu.workClock!() - w0);
  }
  walls.sort((a, b) => a - b);
  const finite = (v: number) => (Number.isFinite(v) ? v : undefined);
  return { ms: walls[Math.floor(walls.length / 2)]!, cpuMs: finite(cpu), workMs: finite(work) };
}
