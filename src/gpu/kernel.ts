// Kernels: a .wgsl entry point compiled into a pipeline with an explicit bind-group layout, cached by
// (file, entry, flags, override constants, bindings). Binding i of group 0 is the i-th entry of
// `bindings`; a dispatch names its resources in that order. Explicit layouts (not 'auto') keep one
// file's several entry points free to use different subsets of its declarations.
import { ShaderError, ShapeError } from './errors.ts';
import { Tensor } from './tensor.ts';
import { preprocess } from './wgsl.ts';
import { shaderIncludes, shaderSource } from './shaders.ts';
import { kernelId, KernelUsage } from './kernel-usage.ts';

/** uniform: var<uniform>; read: var<storage, read>; rw: var<storage, read_write>. */
export type BindingKind = 'uniform' | 'read' | 'rw';

export interface KernelSpec {
  /** File stem under shaders/. */
  shader: string;
  entry: string;
  bindings: readonly BindingKind[];
  flags?: Readonly<Record<string, boolean>>;
  constants?: Readonly<Record<string, number>>;
}

export type Resource = Tensor | GPUBuffer | GPUBufferBinding;

/** One recorded compute dispatch: everything needed to encode it, built once and reused every step. */
export interface Dispatch {
  readonly pipeline: GPUComputePipeline;
  readonly bindGroup: GPUBindGroup;
  readonly workgroups: readonly [number, number, number];
  readonly label: string;
  /** The kernel id (kernel-usage.ts): what the device's usage record counts when this is recorded. */
  readonly kernel: string;
}

export class Kernel {
  readonly id: string;
  constructor(
    readonly spec: KernelSpec,
    readonly pipeline: GPUComputePipeline,
    readonly layout: GPUBindGroupLayout,
    private readonly device: GPUDevice,
  ) {
    this.id = kernelId(spec);
  }

  /** A dispatch of this kernel over `workgroups` with `resources` bound in order. */
  bind(resources: readonly Resource[], workgroups: readonly number[], label = this.spec.entry): Dispatch {
    const n = this.spec.bindings.length;
    if (resources.length !== n) throw new ShapeError(`bindings of ${this.spec.shader}:${this.spec.entry}`, `${n} resources`, `${resources.length}`);
    const entries: GPUBindGroupEntry[] = resources.map((r, binding) => ({ binding, resource: toBinding(r) }));
    const bindGroup = this.device.createBindGroup({ layout: this.layout, entries, label });
    const [x = 1, y = 1, z = 1] = workgroups;
    return { pipeline: this.pipeline, bindGroup, workgroups: [x, y, z], label, kernel: this.id };
  }
}

function toBinding(r: Resource): GPUBufferBinding {
  if (r instanceof Tensor) return r.binding;
  if ('buffer' in r && !('mapState' in r)) return r as GPUBufferBinding;
  return { buffer: r as GPUBuffer };
}

const STAGE_COMPUTE = 0x4; // GPUShaderStage.COMPUTE

export class KernelCache {
  private cache = new Map<string, Promise<Kernel>>();
  private modules = new Map<string, GPUShaderModule>();
  constructor(
    private readonly device: GPUDevice,
    /** Where compiled modules and kernels are recorded. */
    readonly usage: KernelUsage = new KernelUsage(),
  ) {}

  get(spec: KernelSpec): Promise<Kernel> {
    const key = JSON.stringify([spec.shader, spec.entry, spec.bindings, sorted(spec.flags), sorted(spec.constants)]);
    let k = this.cache.get(key);
    if (!k) {
      k = this.build(spec);
      this.cache.set(key, k);
      k.catch(() => this.cache.delete(key));
    }
    return k;
  }

  get size(): number {
    return this.cache.size;
  }

  private async build(spec: KernelSpec): Promise<Kernel> {
    const modKey = JSON.stringify([spec.shader, sorted(spec.flags)]);
    let module = this.modules.get(modKey);
    if (!module) {
      const code = preprocess(shaderSource(spec.shader), spec.flags ?? {}, `${spec.shader}.wgsl`);
      module = this.device.createShaderModule({ code, label: spec.shader });
      const info = await module.getCompilationInfo();
      const errors = info.messages.filter((m) => m.type === 'error');
      if (errors.length)
        throw new ShaderError(
          `${spec.shader}.wgsl failed to compile:\n` + errors.map((m) => `  line ${m.lineNum}:${m.linePos} ${m.message}`).join('\n'),
        );
      this.modules.set(modKey, module);
      this.usage.compiledModule(spec.shader, shaderIncludes(spec.shader));
    }
    const layout = this.device.createBindGroupLayout({
      label: `${spec.shader}:${spec.entry}`,
      entries: spec.bindings.map((kind, binding) => ({
        binding,
        visibility: STAGE_COMPUTE,
        buffer: { type: kind === 'uniform' ? 'uniform' : kind === 'read' ? 'read-only-storage' : 'storage' },
      })),
    });
    try {
      const pipeline = await this.device.createComputePipelineAsync({
        label: `${spec.shader}:${spec.entry}`,
        layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout] }),
        compute: { module, entryPoint: spec.entry, constants: { ...(spec.constants ?? {}) } },
      });
      const kernel = new Kernel(spec, pipeline, layout, this.device);
      this.usage.compiledKernel(kernel.id);
      return kernel;
    } catch (e) {
      throw new ShaderError(`Pipeline ${spec.shader}:${spec.entry} failed to build: ${(e as Error).message}`);
    }
  }
}

function sorted(o?: Readonly<Record<string, unknown>>): [string, unknown][] {
  return o ? Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)) : [];
}

/**
 * Workgroup counts for `n` invocations in 1-D workgroups of `wg`, folded into x and y so that no
 * dimension exceeds 65535. The kernel recovers the flat index as
 * flat_index(gid, nwg) = `gid.x + gid.y * num_workgroups.x * WG` (shaders/grid.wgsl, `#include grid`)
 * and returns when it is >= n.
 */
export function grid1d(n: number, wg: number): [number, number, number] {
  const groups = Math.max(1, Math.ceil(n / wg));
  if (groups <= 65535) return [groups, 1, 1];
  const y = Math.ceil(groups / 65535);
  return [Math.ceil(groups / y), y, 1];
}

/**
 * Packs a uniform struct: 4-byte u32/i32/f32 fields in declaration order, padded to 16 bytes.
 * Mirror the WGSL struct exactly (all scalar fields; no vec3 alignment gaps).
 */
export class Params {
  private words: { kind: 'u32' | 'i32' | 'f32'; v: number }[] = [];
  u32(...v: number[]): this {
    for (const x of v) this.words.push({ kind: 'u32', v: x });
    return this;
  }
  i32(...v: number[]): this {
    for (const x of v) this.words.push({ kind: 'i32', v: x });
    return this;
  }
  f32(...v: number[]): this {
    for (const x of v) this.words.push({ kind: 'f32', v: x });
    return this;
  }
  get byteLength(): number {
    return Math.max(16, Math.ceil((this.words.length * 4) / 16) * 16);
  }
  toArrayBuffer(): ArrayBuffer {
    const buf = new ArrayBuffer(this.byteLength);
    const dv = new DataView(buf);
    this.words.forEach((w, i) => {
      if (w.kind === 'f32') dv.setFloat32(i * 4, w.v, true);
      else if (w.kind === 'i32') dv.setInt32(i * 4, w.v, true);
      else dv.setUint32(i * 4, w.v, true);
    });
    return buf;
  }
}
