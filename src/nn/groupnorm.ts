// GroupNorm module with an optional fused SiLU: y = [silu](gamma * (x - mean_g) / sqrt(var_g + eps) + beta).
// Keeps x and the per-(sample, group) mean and inverse std for backward. With `intoConv` the output is
// never stored: the forward stops at the per-plane coefficients (`coef`), and the convolution that
// consumes y applies them as it reads x (its prologue); y is a virtual tensor whose gradient the
// convolution's backward still writes.
import type { Dispatch } from '../gpu/kernel.ts';
import { groupNormBackward, groupNormForward, type GroupNormShape, type GroupNormVariant } from '../kernels/groupnorm.ts';
import type { Module } from './module.ts';
import type { Tensor } from '../gpu/tensor.ts';
import type { Buffers, Graph } from './plan.ts';

export const GROUPNORM_EPS = 1e-5;

export class GroupNorm implements Module {
  readonly output: string;
  readonly shape: GroupNormShape;
  readonly weight: string;
  readonly bias: string;
  private readonly stats: string;
  /** Per-plane (scale, shift) [n, c, 2] when the output is applied by its consumer, else null. */
  readonly coef: string | null;
  private readonly inputGrad: boolean;

  constructor(
    graph: Graph,
    readonly name: string,
    readonly input: string,
    opts: { groups: number; silu: boolean; inputGrad?: boolean; intoConv?: boolean },
  ) {
    const [n, c, ...spatial] = graph.shape(input) as number[];
    const hw = spatial.reduce((a, x) => a * x, 1);
    this.shape = { n: n!, c: c!, hw, groups: opts.groups, eps: GROUPNORM_EPS, silu: opts.silu };
    this.weight = graph.param(`${name}.weight`, [c!], { kind: 'const', value: 1 });
    this.bias = graph.param(`${name}.bias`, [c!], { kind: 'const', value: 0 });
    this.output = opts.intoConv ? graph.virtual(`${name}:out`, graph.shape(input)) : graph.tensor(`${name}:out`, graph.shape(input));
    this.coef = opts.intoConv ? graph.tensor(`${name}:coef`, [n!, c!, 2], 'stats') : null;
    this.stats = graph.tensor(`${name}:stats`, [n! * opts.groups * 2], 'stats');
    this.inputGrad = graph.training && (opts.inputGrad ?? true);
    if (graph.training) {
      graph.grad(this.output);
      if (this.inputGrad) graph.grad(input);
    }
  }

  /** The prologue a consuming convolution applies (intoConv only). */
  prologue(b: Buffers): { coef: Tensor; silu: boolean } {
    if (!this.coef) throw new Error(`${this.name}: its output is stored, not applied by a convolution`);
    return { coef: b.t(this.coef), silu: this.shape.silu };
  }

  forward(b: Buffers): Promise<Dispatch[]> {
    const variant = b.variants.groupnorm as GroupNormVariant | undefined;
    if (this.coef) return groupNormForward(b.gpu, b.t(this.input), b.p(this.weight), b.p(this.bias), null, b.t(this.stats), this.shape, { variant, coef: b.t(this.coef) });
    return groupNormForward(b.gpu, b.t(this.input), b.p(this.weight), b.p(this.bias), b.t(this.output), b.t(this.stats), this.shape, { variant });
  }

  /** `addend` (the size of the input) is added to d(input) in the same pass. */
  backward(b: Buffers, addend?: Tensor): Promise<Dispatch[]> {
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
      { accumulate: b.accumulate(this.input), variant: b.variants.groupnorm as GroupNormVariant | undefined, addend },
    );
  }
}
