// Self-attention block over the h*w positions (DDPM style):
//   a = GroupNorm(x);  [q; k; v] = Conv1x1(c -> 3c)(a);  o = softmax(q^T k / sqrt(d)) v per head;
//   out = x + Conv1x1(c -> c)(o).
// Parameter names: <name>.norm, <name>.qkv (weight [3c, c, 1, 1]: rows [0, c) q, [c, 2c) k,
// [2c, 3c) v), <name>.proj. q, k, v stay packed in one [n, 3c, L] tensor, as the attention kernel
// reads them, and so do their gradients.
import type { Dispatch } from '../gpu/kernel.ts';
import { attentionBackward, attentionForward, type AttentionShape } from '../kernels/attention.ts';
import { elementwise } from '../kernels/elementwise.ts';
import { addInto } from '../kernels/accumulate.ts';
import { Conv2d } from './conv2d.ts';
import { GroupNorm } from './groupnorm.ts';
import { sequence, type Module } from './module.ts';
import type { Buffers, Graph } from './plan.ts';

export class AttentionBlock implements Module {
  readonly output: string;
  private readonly norm: GroupNorm;
  private readonly qkv: Conv2d;
  private readonly attended: string;
  private readonly lse: string;
  private readonly proj: Conv2d;
  private readonly shape: AttentionShape & { heads: number };

  constructor(
    graph: Graph,
    readonly name: string,
    readonly input: string,
    opts: { groups: number; heads: number },
  ) {
    const [n, c, h, w] = graph.shape(input) as [number, number, number, number];
    this.shape = { n, c, L: h * w, heads: opts.heads };
    // q k^T and P v: 2 L^2 c MACs per sample; backward recomputes P and forms dq, dk, dv, dP (~2.5x).
    graph.flops.forward += 4 * n * h * w * h * w * c;
    if (graph.training) graph.flops.backward += 10 * n * h * w * h * w * c;
    this.norm = new GroupNorm(graph, `${name}.norm`, input, { groups: opts.groups, silu: false });
    this.qkv = new Conv2d(graph, `${name}.qkv`, this.norm.output, { cout: 3 * c, k: 1 });
    this.attended = graph.tensor(`${name}:attended`, [n, c, h, w]);
    this.lse = graph.tensor(`${name}:lse`, [n, opts.heads, h * w], 'stats');
    this.proj = new Conv2d(graph, `${name}.proj`, this.attended, { cout: c, k: 1 });
    this.output = graph.tensor(`${name}:out`, [n, c, h, w]);
    if (graph.training) {
      graph.grad(this.output);
      graph.grad(this.attended);
      graph.aliasGrad(this.proj.output, this.output);
    }
  }

  /** The packed q, k, v (or their gradients) seen as [n, 3c, L], and o as [n, c, L]. */
  private views(b: Buffers, grad: boolean) {
    const { n, c, L } = this.shape;
    const qkv = (grad ? b.d(this.qkv.output) : b.t(this.qkv.output)).reshape([n, 3 * c, L]);
    const o = (grad ? b.d(this.attended) : b.t(this.attended)).reshape([n, c, L]);
    return { qkv, o };
  }

  forward(b: Buffers): Promise<Dispatch[]> {
    const { qkv, o } = this.views(b, false);
    return sequence(
      this.norm.forward(b),
      this.qkv.forward(b),
      attentionForward(b.gpu, qkv, qkv, qkv, o, b.t(this.lse), this.shape, { variant: b.variants.attention }),
      this.proj.forward(b),
      elementwise(b.gpu, 'add', b.t(this.output), b.t(this.proj.output), b.t(this.input)),
    );
  }

  backward(b: Buffers): Promise<Dispatch[]> {
    const fwd = this.views(b, false);
    const grad = this.views(b, true);
    const proj = this.proj.backward(b);
    // attentionBackward overwrites d(qkv), whose only consumer is this attention.
    if (b.accumulate(this.qkv.output)) throw new Error(`${this.name}: qkv gradient would need accumulation`);
    const attn = attentionBackward(b.gpu, fwd.qkv, fwd.qkv, fwd.qkv, fwd.o, b.t(this.lse), grad.o, grad.qkv, grad.qkv, grad.qkv, this.shape, { variant: b.variants.attention });
    const qkv = this.qkv.backward(b);
    const norm = this.norm.backward(b); // first contribution to d(input) from this block
    b.accumulate(this.input);
    return sequence(proj, attn, qkv, norm, addInto(b.gpu, b.d(this.output), b.d(this.input)));
  }
}
