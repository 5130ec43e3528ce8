// Node runtime: Dawn through the `webgpu` package. Installs WebGPU's globals (GPUBufferUsage, ...)
// for code that expects a browser-like environment, and creates the engine's Gpu on Dawn's adapter
// (lavapipe on a CPU-only Linux machine, the real GPU's Vulkan/Metal/D3D12 driver elsewhere).
import { readFileSync } from 'node:fs';
import { create, globals } from 'webgpu';
import { Gpu, type GpuOptions } from '../gpu/gpu.ts';
import { NoAdapterError } from '../gpu/errors.ts';

let dawn: GPU | undefined;

/** Dawn's GPU object (created once per process). Options are Dawn toggles such as 'enable-dawn-features=...'. */
export function nodeGpuObject(dawnOptions: string[] = []): GPU {
  Object.assign(globalThis, globals);
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  if (!dawn) {
    try {
      dawn = create(dawnOptions) as GPU;
    } catch (e) {
      throw new NoAdapterError('node', `the webgpu (Dawn) module failed to load: ${(e as Error).message}`);
    }
  }
  return dawn;
}

/** A Gpu on Dawn. Each call gets its own adapter and device (an adapter gives out one device). */
export async function createNodeGpu(opts: GpuOptions = {}): Promise<Gpu> {
  const gpu = await Gpu.create(nodeGpuObject(), { ...opts, runtime: 'node' });
  // A software adapter (lavapipe) runs kernels on this process's threads: their CPU time is the work.
  if (gpu.adapter.software) gpu.workClock = kernelThreadsCpuMs;
  return gpu;
}

/**
 * CPU ms of this process's threads other than the main one: the adapter's worker threads (and V8's
 * few background ones). The main thread is left out because it polls Dawn while it waits for the
 * GPU, ~8% of a core for as long as the wait lasts, so its CPU time grows with wall time, which is
 * what load from other processes stretches. Linux (/proc/self/task/<pid>/schedstat, ns); elsewhere
 * the whole process.
 */
function kernelThreadsCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000 - mainThreadCpuMs();
}

let schedstat: string | null = `/proc/self/task/${process.pid}/schedstat`;
function mainThreadCpuMs(): number {
  if (!schedstat) return 0;
  try {
    return Number(readFileSync(schedstat, 'utf8').split(' ')[0]) / 1e6;
  } catch {
    schedstat = null;
    return 0;
  }
}

/** Forget Dawn's GPU object so the process can exit once every device is destroyed. */
export function releaseNodeGpu(): void {
  dawn = undefined;
}
