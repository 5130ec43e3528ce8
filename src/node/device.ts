// Node runtime: Dawn through the `webgpu` package. Installs WebGPU's globals (GPUBufferUsage, ...)
// for code that expects a browser-like environment, and creates the engine's Gpu on Dawn's adapter
// (lavapipe on a CPU-only Linux machine, the real GPU's Vulkan/Metal/D3D12 driver elsewhere).
import { create, globals } from 'webgpu';
import { Gpu, type GpuOptions } from '../gpu/gpu.ts';
import { NoAdapterError } from '../gpu/errors.ts';
import { kernelThreadClock } from './work-clock.ts';

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
  if (gpu.adapter.software) gpu.workClock = await kernelThreadClock(gpu);
  return gpu;
}

/** Forget Dawn's GPU object so the process can exit once every device is destroyed. */
export function releaseNodeGpu(): void {
  dawn = undefined;
}
