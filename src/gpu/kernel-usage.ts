// Which kernels a device compiled and which it dispatched, by kernel id ("shader:entry" plus the
// preprocessor flags that were on, e.g. "matmul_regblock:matmul_regblock[B_VEC4,BLOCK8]"), and
// which shared WGSL each compiled module included. The Gpu keeps one per device (gpu.usage); the
// test harness writes each device's report at the end of a test file, and
// tests/gpu/kernel-usage.test.ts checks, after the whole run, that every shader entry point and
// every kernel variant was actually dispatched (not merely named by a test).
import type { KernelSpec } from './kernel.ts';

export interface KernelUsageReport {
  /** Shader module stem -> the shared files it included. */
  modules: Record<string, string[]>;
  /** Kernel ids of the pipelines built. */
  compiled: string[];
  /** Kernel ids of the pipelines recorded into a submitted step at least once. */
  dispatched: string[];
}

/** "shader:entry[FLAG,...]" with the flags that are on, sorted. */
export function kernelId(spec: Pick<KernelSpec, 'shader' | 'entry' | 'flags'>): string {
  const on = Object.entries(spec.flags ?? {})
    .filter(([, v]) => v)
    .map(([k]) => k)
    .sort();
  return `${spec.shader}:${spec.entry}${on.length ? `[${on.join(',')}]` : ''}`;
}

export class KernelUsage {
  private readonly modules = new Map<string, string[]>();
  private readonly compiled = new Set<string>();
  private readonly dispatched = new Set<string>();

  compiledModule(shader: string, includes: readonly string[]): void {
    this.modules.set(shader, [...includes]);
  }
  compiledKernel(id: string): void {
    this.compiled.add(id);
  }
  dispatchedKernel(id: string): void {
    this.dispatched.add(id);
  }

  report(): KernelUsageReport {
    return { modules: Object.fromEntries(this.modules), compiled: [...this.compiled].sort(), dispatched: [...this.dispatched].sort() };
  }
}
