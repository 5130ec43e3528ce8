// Channel concatenation out = [a; b] along C (the U-Net's skip connections).
import type { Dispatch } from '../gpu/kernel.ts';
import { concatChannels, splitChannelsBackward } from '../kernels/channels.ts';
import type { Module } from './module.ts';
import type { Buffers, Graph } from './plan.ts';

export class Concat implements Module {
  readonly output: string;
  readonly shape: { n: number; ca: number; cb: number; hw: number };

  constructor(
    graph: Graph,
    readonly name: string,
    readonly a: string,
    readonly b: string,
  ) {
    const [n, ca, h, w] = graph.shape(a) as [number, number, number, number];
    const [nb, cb, hb, wb] = graph.shape(b) as [number, number, number, number];
    if (nb !== n || hb !== h || wb !== w) throw new Error(`${name}: cannot concatenate [${graph.shape(a)}] and [${graph.shape(b)}]`);
    this.shape = { n, ca, cb, hw: h * w };
    this.output = graph.tensor(`${name}:out`, [n, ca + cb, h, w]);
    if (graph.training) {
      graph.grad(this.output);
      graph.grad(a);
      graph.grad(b);
    }
  }

  forward(bufs: Buffers): Promise<Dispatch[]> {
    return concatChannels(bufs.gpu, bufs.t(this.a), bufs.t(this.b), bufs.t(this.output), this.shape);
  }

  backward(bufs: Buffers): Promise<Dispatch[]> {
    const accA = bufs.accumulate(this.a);
    const accB = bufs.accumulate(this.b);
    // One flag covers both halves; in the U-Net the concat is the first consumer of both reached in backward.
    if (accA !== accB) throw new Error(`${this.name}: the two halves need different accumulation (${accA}, ${accB})`);
    return splitChannelsBackward(bufs.gpu, bufs.d(this.output), bufs.d(this.a), bufs.d(this.b), this.shape, { accumulate: accA });
  }
}
