// Planning a network's memory before touching the GPU. Modules are constructed against a Graph: they
// declare their parameters (packed into one FlatLayout, so that gradients, Adam moments and the EMA
// copy are flat buffers of the same layout) and every activation tensor they produce or keep for
// backward. Nothing is allocated then, so the plan's bytes and the adapter-limit check come first;
// `allocate` makes every buffer once for a (model, batch size), and the steps reuse them forever.
import type { Gpu } from '../gpu/gpu.ts';
import { LimitError, ShapeError } from '../gpu/errors.ts';
import { FlatLayout } from '../gpu/flat-layout.ts';
import { Tensor, numel } from '../gpu/tensor.ts';
import { HostRng } from '../base/host-rng.ts';
import type { MatmulVariant } from '../kernels/matmul.ts';
import type { AttentionVariant } from '../kernels/attention.ts';

/** How a parameter starts: U(-bound, bound) (PyTorch's default for conv/linear: bound = 1/sqrt(fan_in)) or a constant. */
export type ParamInit = { kind: 'uniform'; bound: number } | { kind: 'const'; value: number };

export type MemoryCategory = 'parameters' | 'gradients' | 'adam' | 'ema' | 'activations' | 'activationGrads' | 'stats' | 'io';

export interface TensorDecl {
  shape: number[];
  category: MemoryCategory;
}

/** The pure description of a network's buffers (no GPU). */
export class Graph {
  readonly params = new FlatLayout();
  readonly inits = new Map<string, ParamInit>();
  readonly tensors = new Map<string, TensorDecl>();
  /** Gradients that are the same tensor as another gradient (y = x + c: d(x) is d(y)). */
  readonly gradAliases = new Map<string, string>();
  /** Multiply-add FLOPs (2 per MAC) of the matmul-like layers, counted as modules are planned. */
  readonly flops = { forward: 0, backward: 0 };

  constructor(
    /** Batch size the activations are planned for. */
    readonly batch: number,
    /** Whether gradients (training) are planned; inference plans activations only. */
    readonly training: boolean,
  ) {}

  /** Declare a parameter; returns its name. */
  param(name: string, shape: readonly number[], init: ParamInit): string {
    this.params.add(name, shape);
    this.inits.set(name, init);
    return name;
  }

  /** Declare an activation (or other per-batch) tensor; returns its name. */
  tensor(name: string, shape: readonly number[], category: MemoryCategory = 'activations'): string {
    if (this.tensors.has(name)) throw new Error(`Graph: duplicate tensor ${name}`);
    this.tensors.set(name, { shape: [...shape], category });
    return name;
  }

  /** Declare the gradient of activation `name` (training only); returns its name. */
  grad(name: string): string {
    const d = gradName(name);
    if (!this.tensors.has(d)) this.tensor(d, this.shape(name), 'activationGrads');
    return d;
  }

  /**
   * Declare that d(name) is the same tensor as d(target) (an identity on the gradient path, e.g. the
   * operands of an addition): no copy, no extra memory. d(target) must be declared by its owner.
   */
  aliasGrad(name: string, target: string): void {
    this.gradAliases.set(gradName(name), gradName(target));
  }

  /** The tensor that d(name) resolves to after aliases. */
  resolveGrad(name: string): string {
    let g = gradName(name);
    while (this.gradAliases.has(g)) g = this.gradAliases.get(g)!;
    return g;
  }

  shape(name: string): number[] {
    const t = this.tensors.get(name);
    if (!t) throw new Error(`Graph: unknown tensor ${name}`);
    return t.shape;
  }

  get parameterCount(): number {
    return this.params.used;
  }
}

export const gradName = (name: string) => `d(${name})`;

export interface MemoryPlan {
  /** Bytes per category. */
  bytes: Record<MemoryCategory, number>;
  total: number;
  /** The largest single binding (bytes) and what it is. */
  largest: { name: string; bytes: number };
}

const FLAT_COPIES: [MemoryCategory, number][] = [
  ['parameters', 1],
  ['gradients', 1],
  ['adam', 2],
  ['ema', 1],
];

/**
 * Bytes of every buffer a training (params, grads, Adam m and v, EMA: the last three allocated by the
 * optimizer in the same layout) or inference (params only) plan needs.
 */
export function memoryPlan(graph: Graph): MemoryPlan {
  const bytes: Record<MemoryCategory, number> = { parameters: 0, gradients: 0, adam: 0, ema: 0, activations: 0, activationGrads: 0, stats: 0, io: 0 };
  const flat = graph.params.size * 4;
  for (const [cat, copies] of FLAT_COPIES) if (graph.training || cat === 'parameters') bytes[cat] += copies * flat;
  let largest = { name: 'parameters', bytes: flat };
  for (const [name, t] of graph.tensors) {
    const b = numel(t.shape) * 4;
    bytes[t.category] += b;
    if (b > largest.bytes) largest = { name, bytes: b };
  }
  const total = Object.values(bytes).reduce((a, b) => a + b, 0);
  return { bytes, total, largest };
}

/**
 * Throws a LimitError naming the setting to lower when a planned buffer exceeds the adapter's
 * maxStorageBufferBindingSize or maxBufferSize. Parameter buffers grow with the model width,
 * activations with the batch size (and image size / width).
 */
export function checkLimits(graph: Graph, limits: { maxStorageBufferBindingSize: number; maxBufferSize: number }): void {
  const flat = graph.params.size * 4;
  const widthSetting = 'the model width (baseChannels or channelMults)';
  if (flat > limits.maxBufferSize) throw new LimitError('maxBufferSize (flat parameter buffer)', flat, limits.maxBufferSize, widthSetting);
  if (flat > limits.maxStorageBufferBindingSize)
    throw new LimitError('maxStorageBufferBindingSize (flat parameter buffer)', flat, limits.maxStorageBufferBindingSize, widthSetting);
  for (const [name, t] of graph.tensors) {
    const b = numel(t.shape) * 4;
    const setting = `the batch size (now ${graph.batch})`;
    if (b > limits.maxBufferSize) throw new LimitError(`maxBufferSize (${name})`, b, limits.maxBufferSize, setting);
    if (b > limits.maxStorageBufferBindingSize) throw new LimitError(`maxStorageBufferBindingSize (${name})`, b, limits.maxStorageBufferBindingSize, setting);
  }
}

/** Kernel variants forced for every layer of a kind (tests run each; default: the autotuned choice). */
export interface KernelVariants {
  /** Every convolution, the 1x1 ones and the dense layers (1x1 convolutions too) included. */
  conv2d?: string;
  /** The matmuls inside the 'gemm' and 'winograd' convolutions. */
  matmul?: MatmulVariant;
  groupnorm?: string;
  attention?: AttentionVariant;
}

/**
 * The allocated buffers of a Graph: flat parameter-shaped buffers and one buffer per activation, all
 * owned by `gpu` (the network's scope, which the modules also plan their kernels on).
 */
export class Buffers {
  readonly params: GPUBuffer;
  readonly grads: GPUBuffer | null;
  private readonly paramViews: Map<string, Tensor>;
  private readonly gradViews: Map<string, Tensor>;
  private readonly acts = new Map<string, Tensor>();
  /** Activation gradients already written by some consumer's backward (planning-time bookkeeping). */
  private readonly written = new Set<string>();

  constructor(
    readonly gpu: Gpu,
    readonly graph: Graph,
    /** Tensors supplied from outside (e.g. the batch x_t and the levels), by name. */
    external: Record<string, Tensor> = {},
    /** Variants the modules pass to their kernels. */
    readonly variants: KernelVariants = {},
  ) {
    checkLimits(graph, gpu.limits);
    const flatBytes = Math.max(16, graph.params.size * 4);
    const flat = (label: string) => gpu.buffer(flatBytes, label);
    // Adam's m and v and the EMA copy (same layout) are allocated by the optimizer (src/kernels/adamw.ts).
    this.params = flat('unet:params');
    this.grads = graph.training ? flat('unet:grads') : null;
    this.paramViews = graph.params.views(this.params);
    this.gradViews = this.grads ? graph.params.views(this.grads, 'grad:') : new Map();
    for (const [name, decl] of graph.tensors) {
      const ext = external[name];
      if (ext) {
        if (ext.size !== numel(decl.shape)) throw new ShapeError(`external tensor ${name}`, decl.shape, ext.shape);
        this.acts.set(name, ext.reshape(decl.shape));
      } else this.acts.set(name, gpu.tensor(decl.shape, name, 'f32', `the batch size (now ${graph.batch})`));
    }
  }

  /** The activation tensor `name`. */
  t(name: string): Tensor {
    const t = this.acts.get(name);
    if (!t) throw new Error(`Buffers: unknown tensor ${name}`);
    return t;
  }
  /** The gradient of activation `name`. */
  d(name: string): Tensor {
    return this.t(this.graph.resolveGrad(name));
  }
  /** The parameter `name` (a view of the flat parameter buffer). */
  p(name: string): Tensor {
    const t = this.paramViews.get(name);
    if (!t) throw new Error(`Buffers: unknown parameter ${name}`);
    return t;
  }
  /** The gradient of parameter `name`. */
  g(name: string): Tensor {
    const t = this.gradViews.get(name);
    if (!t) throw new Error(`Buffers: no gradient for ${name} (inference plan?)`);
    return t;
  }

  /**
   * Whether a backward op writing d(name) must accumulate: false for the first consumer reached in
   * backward order (it overwrites), true for every later one. Backward dispatches are planned in the
   * order they run, so this bookkeeping at planning time matches the runtime order.
   */
  accumulate(name: string): boolean {
    const g = this.graph.resolveGrad(name);
    const first = !this.written.has(g);
    this.written.add(g);
    return !first;
  }
  /** Whether some consumer already planned a write of d(name). */
  hasGrad(name: string): boolean {
    return this.written.has(this.graph.resolveGrad(name));
  }
  /** Forget the write bookkeeping (before planning a second backward pass over the same buffers). */
  resetGradBookkeeping(): void {
    this.written.clear();
  }

}

/** Host-side initial parameter values (seeded), in the flat layout. */
export function initialParameters(graph: Graph, seed = 0): Float32Array {
  const out = new Float32Array(graph.params.size);
  const rng = new HostRng(seed ^ 0x9e3779b9);
  for (const [name, e] of graph.params.entries) {
    const init = graph.inits.get(name)!;
    const n = numel(e.shape);
    for (let i = 0; i < n; i++) out[e.offset + i] = init.kind === 'const' ? init.value : (2 * rng.next() - 1) * init.bound;
  }
  return out;
}
