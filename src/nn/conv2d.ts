// Conv2d module: y = conv(x, weight) + bias, PyTorch layout (weight [cout, cin, k, k]).
import type { Dispatch } from '../gpu/kernel.ts';
import { conv2dBackwardInput, conv2dBackwardWeight, conv2dForward, conv2dOutSize, type Conv2dShape } from '../kernels/conv2d.ts';
import { declareAffine, sequence, type Module } from './module.ts';
import type { Buffers, Graph } from './plan.ts';
import type { GroupNorm } from './groupnorm.ts';
import type { Tensor } from '../gpu/tensor.ts';

export interface Conv2dOptions {
  cout: number;
  k: 1 | 3;
  stride?: 1 | 2;
  /** Start weight and bias at zero (the network's last layer). */
  zeroInit?: boolean;
  /** Plan and compute d(input) (false for the network's first layer unless input gradients are wanted). */
  inputGrad?: boolean;
  /** Name of the output activation (default `${name}:out`). */
  output?: string;
  /**
   * Tensors the forward adds to its output (fused into the convolution where its algorithm can):
   * `channelBias` [n, cout] per (sample, channel), `residual` [n, cout, ho, wo]. Their gradients are
   * the caller's: d(channelBias) is the per-plane sum of d(output), d(residual) is d(output).
   */
  epilogue?: { channelBias?: string; residual?: string };
  /**
   * The input is a GroupNorm's output that is never stored (GroupNorm `intoConv`): the convolution
   * reads the GroupNorm's input and applies its coefficients as it reads (forward and weight
   * gradient); its input gradient is still written into d(input).
   */
  prologue?: GroupNorm;
}

export class Conv2d implements Module {
  readonly output: string;
  readonly shape: Conv2dShape;
  readonly weight: string;
  readonly bias: string;
  private readonly inputGrad: boolean;
  private readonly epilogue: { channelBias?: string; residual?: string };
  private readonly prologue: GroupNorm | null;

  constructor(
    graph: Graph,
    readonly name: string,
    readonly input: string,
    opts: Conv2dOptions,
  ) {
    const [n, cin, h, w] = graph.shape(input) as [number, number, number, number];
    const stride = opts.stride ?? 1;
    this.shape = { n, cin, h, w, cout: opts.cout, k: opts.k, stride, pad: opts.k === 3 ? 1 : 0 };
    const { ho, wo } = conv2dOutSize(this.shape);
    const fanIn = cin * opts.k * opts.k;
    const decl = declareAffine(graph, name, input, {
      weightShape: [opts.cout, cin, opts.k, opts.k],
      outputShape: [n, opts.cout, ho, wo],
      fanIn,
      macs: n * opts.cout * ho * wo * fanIn,
      zeroInit: opts.zeroInit,
      inputGrad: opts.inputGrad,
      output: opts.output,
    });
    ({ weight: this.weight, bias: this.bias, output: this.output, inputGrad: this.inputGrad } = decl);
    this.epilogue = { ...opts.epilogue };
    this.prologue = opts.prologue ?? null;
    if (this.prologue && this.prologue.output !== input) throw new Error(`${name}: its prologue GroupNorm must produce its input`);
  }

  forward(b: Buffers): Promise<Dispatch[]> {
    const { channelBias, residual } = this.epilogue;
    const epilogue = { channelBias: channelBias ? b.t(channelBias) : null, residual: residual ? b.t(residual) : null };
    return conv2dForward(b.gpu, this.source(b), b.p(this.weight), b.p(this.bias), b.t(this.output), this.shape, { ...convOptions(b), epilogue, prologue: this.prologue?.prologue(b) });
  }

  /** The tensor the convolution reads: its input, or the prologue GroupNorm's input. */
  private source(b: Buffers): Tensor {
    return b.t(this.prologue ? this.prologue.input : this.input);
  }

  backward(b: Buffers): Promise<Dispatch[]> {
    const dy = b.d(this.output);
    const parts: Promise<Dispatch[]>[] = [conv2dBackwardWeight(b.gpu, this.source(b), dy, b.g(this.weight), b.g(this.bias), this.shape, { ...convOptions(b), prologue: this.prologue?.prologue(b) })];
    if (this.inputGrad) parts.push(conv2dBackwardInput(b.gpu, dy, b.p(this.weight), b.d(this.input), this.shape, { accumulate: b.accumulate(this.input), ...convOptions(b) }));
    return sequence(...parts);
  }
}

/** The forced convolution and matmul variants of a plan (none: autotuned). */
export const convOptions = (b: Buffers) => ({ variant: b.variants.conv2d, matmul: b.variants.matmul });
