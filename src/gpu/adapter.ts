// Opening a device: the adapter's own limits and the useful optional features, and a short
// description of the adapter (software or not, a stable key for kernel-variant choices).
import { EngineError, NoAdapterError } from './errors.ts';

export interface AdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** lavapipe, SwiftShader and other CPU implementations. Kernels pick variants by this. */
  software: boolean;
  /** A short stable name used as a cache key for kernel-variant choices. */
  key: string;
}

export interface GpuOptions {
  /** Which adapter to ask for where there are several: `'high-performance'` (default) or `'low-power'`. */
  powerPreference?: GPUPowerPreference;
  /** Where the GPU object came from; only changes the wording of the no-adapter error. */
  runtime?: 'browser' | 'node';
  /** Request the compatibility feature level (e.g. Chromium's GLES backend). */
  compatibility?: boolean;
}

/** Limits requested at their adapter maxima: the defaults (128 MiB binding, 256 invocations) are too small. */
const WANTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
] as const;

const OPTIONAL_FEATURES: GPUFeatureName[] = ['timestamp-query', 'shader-f16', 'subgroups'];

/** An adapter and a device with the adapter's own limits and useful optional features. */
export async function openDevice(gpu: GPU | undefined | null, opts: GpuOptions = {}): Promise<{ device: GPUDevice; adapter: AdapterDescription }> {
  const runtime = opts.runtime ?? 'browser';
  if (!gpu) throw new NoAdapterError(runtime, 'WebGPU is not available in this environment');
  const adapterOpts: GPURequestAdapterOptions = { powerPreference: opts.powerPreference ?? 'high-performance' };
  if (opts.compatibility) (adapterOpts as { featureLevel?: string }).featureLevel = 'compatibility';
  const adapter = await gpu.requestAdapter(adapterOpts);
  if (!adapter) throw new NoAdapterError(runtime, 'requestAdapter() returned null');
  const requiredLimits: Record<string, number> = {};
  for (const name of WANTED_LIMITS) {
    const v = (adapter.limits as unknown as Record<string, number>)[name];
    if (typeof v === 'number') requiredLimits[name] = v;
  }
  const requiredFeatures = OPTIONAL_FEATURES.filter((f) => adapter.features.has(f));
  try {
    const device = await adapter.requestDevice({ requiredLimits, requiredFeatures, label: 'softdiff' });
    return { device, adapter: describeAdapter(adapter.info) };
  } catch (e) {
    throw new EngineError(`requestDevice failed: ${(e as Error).message}`, 'Another program may hold the GPU; retry, or use another adapter.');
  }
}

export function describeAdapter(info?: Partial<GPUAdapterInfo> | null): AdapterDescription {
  const vendor = info?.vendor ?? '';
  const architecture = info?.architecture ?? '';
  const device = info?.device ?? '';
  const description = info?.description ?? '';
  const text = `${vendor} ${architecture} ${device} ${description}`.toLowerCase();
  const software = !!(info as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter || /llvmpipe|lavapipe|swiftshader|software|warp/.test(text);
  const name = /llvmpipe|lavapipe/.test(text) ? 'lavapipe' : /swiftshader/.test(text) ? 'swiftshader' : (description || `${vendor}-${architecture}` || 'unknown');
  return { vendor, architecture, device, description, software, key: name.replace(/\s+/g, '-').toLowerCase() };
}
