// Conv2d module: y = conv(x, weight) + bias, PyTorch layout (weight [cout, cin, k, k]).
import type { Dispatch } from '../gpu/kernel.ts';
import { conv2dBackwardInput, conv2dBackwardWeight, conv2dForward, conv2dOutSize, type Conv2dShape } from '../kernels/conv2d.ts';
import { declareAffine, sequence, type Module } from './module.ts';
import type { Buffers, Graph } from './plan.ts';

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
}

export class Conv2d implements Module {
  readonly output: string;
  readonly shape: Conv2dShape;
  readonly weight: string;
  readonly bias: string;
  private readonly inputGrad: boolean;

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
  }

  forward(b: Buffers): Promise<Dispatch[]> {
    return conv2dForward(b.gpu, b.t(this.input), b.p(this.weight), b.p(this.bias), b.t(this.output), this.shape, convOptions(b));
  }

  backward(b: Buffers): Promise<Dispatch[]> {
    const dy = b.d(this.output);
    const parts: Promise<Dispatch[]>[] = [conv2dBackwardWeight(b.gpu, b.t(this.input), dy, b.g(this.weight), b.g(this.bias), this.shape, convOptions(b))];
    if (this.inputGrad) parts.push(conv2dBackwardInput(b.gpu, dy, b.p(this.weight), b.d(this.input), this.shape, { accumulate: b.accumulate(this.input), ...convOptions(b) }));
    return sequence(...parts);
  }
}

/** The forced convolution and matmul variants of a plan (none: autotuned). */
export const convOptions = (b: Buffers) => ({ variant: b.variants.conv2d, matmul: b.variants.matmul });
