// Residual block with time conditioning:
//   h = Conv3x3(SiLU(GroupNorm(x)));  h += Dense(SiLU(temb)) per channel;
//   h = Conv3x3(SiLU(GroupNorm(h)));  out = h + (cin == cout ? x : Conv1x1(x)).
// Parameter names: <name>.norm1, .conv1, .temb, .norm2, .conv2, .skip (only when cin != cout).
// The time bias and the residual are the epilogues of conv1 and conv2 (added inside the convolution
// where its algorithm fuses them): conv2 writes the block's output. The GroupNorms are their
// prologues: the normalised activations are never stored, each convolution applies them as it reads.
import type { Dispatch } from '../gpu/kernel.ts';
import { channelBiasBackward } from '../kernels/channels.ts';
import { Conv2d } from './conv2d.ts';
import { GroupNorm } from './groupnorm.ts';
import { Linear } from './linear.ts';
import { sequence, type Module } from './module.ts';
import type { Buffers, Graph } from './plan.ts';

export class ResBlock implements Module {
  readonly output: string;
  private readonly norm1: GroupNorm;
  private readonly conv1: Conv2d;
  private readonly temb: Linear;
  private readonly biased: string;
  private readonly norm2: GroupNorm;
  private readonly conv2: Conv2d;
  private readonly skip: Conv2d | null;
  private readonly hw: number;

  constructor(
    graph: Graph,
    readonly name: string,
    readonly input: string,
    /** SiLU(temb) [n, timeEmbedDim], shared by all blocks. */
    readonly tembAct: string,
    opts: { cout: number; groups: number },
  ) {
    const [n, cin, h, w] = graph.shape(input) as [number, number, number, number];
    const { cout, groups } = opts;
    this.hw = h * w;
    // Modules are declared in the parameter order of the checkpoints and the initialisation stream
    // (norm1, conv1, temb, norm2, conv2, skip); the epilogues name tensors declared just after.
    const tembOut = `${name}.temb:out`;
    const skipOut = `${name}.skip:out`;
    this.norm1 = new GroupNorm(graph, `${name}.norm1`, input, { groups, silu: true, intoConv: true });
    this.conv1 = new Conv2d(graph, `${name}.conv1`, this.norm1.output, { cout, k: 3, epilogue: { channelBias: tembOut }, prologue: this.norm1 });
    this.temb = new Linear(graph, `${name}.temb`, tembAct, { out: cout, output: tembOut });
    this.biased = this.conv1.output;
    this.norm2 = new GroupNorm(graph, `${name}.norm2`, this.biased, { groups, silu: true, intoConv: true });
    this.conv2 = new Conv2d(graph, `${name}.conv2`, this.norm2.output, { cout, k: 3, output: `${name}:out`, epilogue: { residual: cin === cout ? input : skipOut }, prologue: this.norm2 });
    this.skip = cin === cout ? null : new Conv2d(graph, `${name}.skip`, input, { cout, k: 1, output: skipOut });
    this.output = this.conv2.output;
    // The skip adds d(out) unchanged: its gradient is the same tensor.
    if (graph.training && this.skip) graph.aliasGrad(this.skip.output, this.output);
  }

  async forward(b: Buffers): Promise<Dispatch[]> {
    return sequence(
      this.norm1.forward(b),
      this.temb.forward(b),
      this.conv1.forward(b), // + time bias
      this.norm2.forward(b),
      this.skip ? this.skip.forward(b) : [],
      this.conv2.forward(b), // + residual, into the block's output
    );
  }

  backward(b: Buffers): Promise<Dispatch[]> {
    const [n, cout] = b.t(this.biased).shape as [number, number];
    const parts: Promise<Dispatch[] | Dispatch>[] = [
      this.conv2.backward(b),
      this.norm2.backward(b),
      this.tembBackward(b, n, cout),
      this.conv1.backward(b),
      // First contribution to d(input) from this block; an identity skip passes d(out) around the
      // block, which norm1's backward adds in the same pass.
      this.norm1.backward(b, this.skip ? undefined : b.d(this.output)),
    ];
    if (this.skip) parts.push(this.skip.backward(b));
    return sequence(...parts);
  }

  private async tembBackward(b: Buffers, n: number, cout: number): Promise<Dispatch[]> {
    // The temb projection's gradient is d(biased) summed over pixels; computed before awaiting so that
    // the accumulation bookkeeping keeps the recorded order.
    const dense = this.temb.backward(b);
    return sequence(channelBiasBackward(b.gpu, b.d(this.biased), b.d(this.temb.output), { n, c: cout, hw: this.hw }), dense);
  }
}
