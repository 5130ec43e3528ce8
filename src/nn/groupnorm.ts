// GroupNorm module with an optional fused SiLU: y = [silu](gamma * (x - mean_g) / sqrt(var_g + eps) + beta).
// Keeps x and the per-(sample, group) mean and inverse std for backward.
import type { Dispatch } from '../gpu/kernel.ts';
import { groupNormBackward, groupNormForward, type GroupNormShape, type GroupNormVariant } from '../kernels/groupnorm.ts';
import type { Module } from './module.ts';
import type { Buffers, Graph } from './plan.ts';

export const GROUPNORM_EPS = 1e-5;

export class GroupNorm implements Module {
  readonly output: string;
  readonly shape: GroupNormShape;
  readonly weight: string;
  readonly bias: string;
  private readonly stats: string;
  private readonly inputGrad: boolean;

  constructor(
    graph: Graph,
    readonly name: string,
    readonly input: string,
    opts: { groups: number; silu: boolean; inputGrad?: boolean },
  ) {
    const [n, c, ...spatial] = graph.shape(input) as number[];
    const hw = spatial.reduce((a, x) => a * x, 1);
    this.shape = { n: n!, c: c!, hw, groups: opts.groups, eps: GROUPNORM_EPS, silu: opts.silu };
    this.weight = graph.param(`${name}.weight`, [c!], { kind: 'const', value: 1 });
    this.bias = graph.param(`${name}.bias`, [c!], { kind: 'const', value: 0 });
    this.output = graph.tensor(`${name}:out`, graph.shape(input));
    this.stats = graph.tensor(`${name}:stats`, [n! * opts.groups * 2], 'stats');
    this.inputGrad = graph.training && (opts.inputGrad ?? true);
    if (graph.training) {
      graph.grad(this.output);
      if (this.inputGrad) graph.grad(input);
    }
  }

  forward(b: Buffers): Promise<Dispatch[]> {
    return groupNormForward(b.gpu, b.t(this.input), b.p(this.weight), b.p(this.bias), b.t(this.output), b.t(this.stats), this.shape, { variant: b.variants.groupnorm as GroupNormVariant | undefined });
  }

  backward(b: Buffers): Promise<Dispatch[]> {
    if (!this.inputGrad) throw new Error(`${this.name}: GroupNorm backward without an input gradient is not planned`);
    return groupNormBackward(
      b.gpu,
      b.t(this.input),
      b.p(this.weight),
      b.p(this.bias),
      b.t(this.stats),
      b.d(this.output),
      b.d(this.input),
      b.g(this.weight),
      b.g(this.bias),
      this.shape,
      { accumulate: b.accumulate(this.input), variant: b.variants.groupnorm as GroupNormVariant | undefined },
    );
  }
}
