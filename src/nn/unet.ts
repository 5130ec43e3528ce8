// The U-Net bound to a device: its buffers allocated once for a batch size, its forward and backward
// dispatches built once. The diffusion code forms x0_hat = phi + x_t itself (SPEC section 2); here the
// network exposes phi (`phi`) and the hook for the loss's gradient (`dPhi`: the loss writes
// dL/dphi there, then the backward dispatches run).
import type { Gpu } from '../gpu/gpu.ts';
import type { Dispatch } from '../gpu/kernel.ts';
import { Tensor } from '../gpu/tensor.ts';
import type { FlatLayout } from '../gpu/flat-layout.ts';
import { ShapeError } from '../gpu/errors.ts';
import type { UNetConfig } from './config.ts';
import { Buffers, initialParameters, type KernelVariants, type MemoryPlan } from './plan.ts';
import { UNET_IO, UNetGraph, type UNetPlanOptions } from './unet-graph.ts';

export interface UNetOptions extends UNetPlanOptions {
  /** Use these tensors as the input batch x_t [n, C, H, W] and levels [n, 4] instead of allocating them. */
  x?: Tensor;
  levels?: Tensor;
  /** Force kernel variants (tests run each one; default: autotuned per shape on first use). */
  variants?: KernelVariants;
  /** Seed of the initial weights (PyTorch-style uniform fan-in init; the last conv is zero). */
  seed?: number;
}

export class UNet {
  /** Forward dispatches: x, levels -> phi. */
  forwardDispatches: Dispatch[] = [];
  /** Backward dispatches: dPhi -> parameter gradients (and dx when planned). Empty for inference. */
  backwardDispatches: Dispatch[] = [];

  private constructor(
    /** The network's own scope. */
    readonly gpu: Gpu,
    readonly plan: UNetGraph,
    readonly buffers: Buffers,
  ) {}

  /** Plans the network in a scope of `gpu`: its buffers and every module's uniforms and scratch leases belong to the network. */
  static async create(gpu: Gpu, config: UNetConfig, opts: UNetOptions): Promise<UNet> {
    const plan = new UNetGraph(config, opts);
    const external: Record<string, Tensor> = {};
    if (opts.x) external[UNET_IO.x] = opts.x;
    if (opts.levels) external[UNET_IO.levels] = opts.levels;
    const scope = gpu.scope('unet');
    try {
      const buffers = new Buffers(scope, plan.graph, external, opts.variants);
      const net = new UNet(scope, plan, buffers);
      net.setParameters(initialParameters(plan.graph, opts.seed ?? 0));
      for (const m of plan.modules) net.forwardDispatches.push(...(await m.forward(buffers)));
      if (plan.graph.training) {
        for (const m of [...plan.modules].reverse()) net.backwardDispatches.push(...(await m.backward(buffers)));
      }
      return net;
    } catch (e) {
      scope.destroy();
      throw e;
    }
  }

  get config(): UNetConfig {
    return this.plan.config;
  }
  get batch(): number {
    return this.plan.graph.batch;
  }
  /** The input batch x_t [n, C, H, W]. */
  get x(): Tensor {
    return this.buffers.t(UNET_IO.x);
  }
  /** Per-sample levels [n, 4] (t in column 0). */
  get levels(): Tensor {
    return this.buffers.t(UNET_IO.levels);
  }
  /** The network output phi [n, C, H, W]. */
  get phi(): Tensor {
    return this.buffers.t(UNET_IO.phi);
  }
  /** Where the loss writes dL/dphi before the backward dispatches run. */
  get dPhi(): Tensor {
    return this.buffers.d(UNET_IO.phi);
  }
  /** dL/dx (only with inputGrad). */
  get dx(): Tensor | null {
    return this.plan.inputGrad ? this.buffers.d(UNET_IO.x) : null;
  }
  get parameterCount(): number {
    return this.plan.parameterCount;
  }
  get memory(): MemoryPlan {
    return this.plan.memory;
  }
  /** Parameter names in layout order with their shapes and offsets (elements) in the flat buffers. */
  get parameterLayout(): Map<string, { offset: number; shape: number[] }> {
    return this.plan.graph.params.entries;
  }

  /** The flat parameter buffer as one tensor (for the optimizer: AdamW.create(gpu, net.flatLayout, net.flatParams, net.flatGrads, ...)). */
  get flatParams(): Tensor {
    return new Tensor(this.buffers.params, [this.plan.graph.params.size], 0, 'f32', 'unet:params');
  }
  /** The flat gradient buffer as one tensor (training plans). */
  get flatGrads(): Tensor {
    if (!this.buffers.grads) throw new ShapeError('U-Net gradients', 'a training plan', 'an inference plan');
    return new Tensor(this.buffers.grads, [this.plan.graph.params.size], 0, 'f32', 'unet:grads');
  }
  /** The FlatLayout shared by parameters, gradients, Adam moments and EMA weights. */
  get flatLayout(): FlatLayout {
    return this.plan.graph.params;
  }

  /** Overwrite all parameters from a flat array in this network's layout (padding included). */
  setParameters(flat: Float32Array): void {
    const size = this.plan.graph.params.size;
    if (flat.length !== size) throw new ShapeError('U-Net parameters', [size], [flat.length]);
    this.gpu.device.queue.writeBuffer(this.buffers.params, 0, flat.buffer, flat.byteOffset, flat.byteLength);
  }

  /** The flat parameters or gradients read back (or any tensor in this layout, e.g. the optimizer's EMA). */
  async readFlat(which: 'params' | 'grads' | Tensor = 'params'): Promise<Float32Array> {
    const t = which === 'params' ? this.flatParams : which === 'grads' ? this.flatGrads : which;
    if (t.size !== this.plan.graph.params.size) throw new ShapeError('flat U-Net tensor', [this.plan.graph.params.size], t.shape);
    return new Float32Array(await this.gpu.readBytes(t.buffer, t.byteOffset, t.byteLength));
  }

  /** Copy the parameters from a GPU buffer in this network's flat layout (e.g. a trainer's EMA), on the queue. */
  copyParametersFrom(source: Tensor): void {
    if (source.size !== this.plan.graph.params.size) throw new ShapeError('U-Net parameter source', [this.plan.graph.params.size], source.shape);
    this.gpu.recorder('copy-weights').copy(source, this.flatParams).submit();
  }

  /** Release everything the network allocated (external x/levels stay: they belong to the caller). */
  destroy(): void {
    this.gpu.destroy();
  }
}
