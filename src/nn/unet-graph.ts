// The U-Net phi_theta(x_t, t) as a fixed graph of modules, planned without a GPU: its parameters
// (names, shapes, initial values), its activations and its memory plan. src/nn/unet.ts binds it to a
// device. The forward order below is the network read top to bottom; backward runs it in reverse.
import { LEVEL_STRIDE } from '../kernels/levels.ts';
import { validateConfig, type UNetConfig } from './config.ts';
import { Concat } from './concat.ts';
import { Conv2d } from './conv2d.ts';
import { GroupNorm } from './groupnorm.ts';
import type { Module } from './module.ts';
import { Graph, memoryPlan, type MemoryPlan } from './plan.ts';
import { ResBlock } from './resblock.ts';
import { TimeEmbedding } from './time-embedding.ts';
import { Upsample2x } from './upsample.ts';
import { AttentionBlock } from './attention-block.ts';

/** Names of the graph's boundary tensors. */
export const UNET_IO = { x: 'x', levels: 'levels', phi: 'phi' } as const;

export interface UNetPlanOptions {
  batch: number;
  /** Plan gradients, Adam moments and EMA (default true). */
  training?: boolean;
  /** Also compute d(phi-loss)/dx (tests, sensitivity maps). */
  inputGrad?: boolean;
}

export class UNetGraph {
  readonly graph: Graph;
  /** Modules in forward order. */
  readonly modules: Module[] = [];
  readonly inputGrad: boolean;

  constructor(
    readonly config: UNetConfig,
    opts: UNetPlanOptions,
  ) {
    validateConfig(config);
    const cfg = config;
    const training = opts.training ?? true;
    this.inputGrad = training && !!opts.inputGrad;
    const n = opts.batch;
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`batch must be a positive integer (got ${n})`);
    const g = (this.graph = new Graph(n, training));
    const add = <M extends Module>(m: M): M => {
      this.modules.push(m);
      return m;
    };
    const width = (i: number) => cfg.baseChannels * cfg.channelMults[i]!;
    const levels = cfg.channelMults.length;
    const attentionAt = (size: number) => cfg.attentionResolutions.includes(size);
    const groups = cfg.groups;

    g.tensor(UNET_IO.x, [n, cfg.inChannels, cfg.imageSize, cfg.imageSize], 'io');
    g.tensor(UNET_IO.levels, [n, LEVEL_STRIDE], 'io');
    const temb = add(new TimeEmbedding(g, 'time', UNET_IO.levels, { features: cfg.timeFeatures, dim: cfg.timeEmbedDim })).output;
    let h = add(new Conv2d(g, 'conv_in', UNET_IO.x, { cout: width(0), k: 3, inputGrad: this.inputGrad })).output;

    const skips: string[] = [];
    for (let i = 0; i < levels; i++) {
      const size = cfg.imageSize / 2 ** i;
      for (let j = 0; j < cfg.numResBlocks; j++) {
        h = add(new ResBlock(g, `down.${i}.res.${j}`, h, temb, { cout: width(i), groups })).output;
        if (attentionAt(size)) h = add(new AttentionBlock(g, `down.${i}.attn.${j}`, h, { groups, heads: cfg.attentionHeads })).output;
        skips.push(h);
      }
      if (i < levels - 1) h = add(new Conv2d(g, `down.${i}.downsample`, h, { cout: width(i), k: 3, stride: 2 })).output;
    }

    h = add(new ResBlock(g, 'mid.res.0', h, temb, { cout: width(levels - 1), groups })).output;
    if (cfg.midAttention) {
      h = add(new AttentionBlock(g, 'mid.attn.0', h, { groups, heads: cfg.attentionHeads })).output;
      h = add(new ResBlock(g, 'mid.res.1', h, temb, { cout: width(levels - 1), groups })).output;
    }

    for (let i = levels - 1; i >= 0; i--) {
      const size = cfg.imageSize / 2 ** i;
      for (let j = 0; j < cfg.numResBlocks; j++) {
        const cat = add(new Concat(g, `up.${i}.cat.${j}`, h, skips.pop()!)).output;
        h = add(new ResBlock(g, `up.${i}.res.${j}`, cat, temb, { cout: width(i), groups })).output;
        if (attentionAt(size)) h = add(new AttentionBlock(g, `up.${i}.attn.${j}`, h, { groups, heads: cfg.attentionHeads })).output;
      }
      if (i > 0) {
        h = add(new Upsample2x(g, `up.${i}.upsample`, h)).output;
        h = add(new Conv2d(g, `up.${i}.upsample.conv`, h, { cout: width(i), k: 3 })).output;
      }
    }

    h = add(new GroupNorm(g, 'out.norm', h, { groups, silu: true })).output;
    add(new Conv2d(g, 'out.conv', h, { cout: cfg.inChannels, k: 3, zeroInit: true, output: UNET_IO.phi }));
  }

  get parameterCount(): number {
    return this.graph.parameterCount;
  }

  get memory(): MemoryPlan {
    return memoryPlan(this.graph);
  }
}
