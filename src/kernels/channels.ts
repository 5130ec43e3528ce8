// Channel-wise plumbing for the U-Net (shaders/channels.wgsl): a per-sample channel bias (the time
// embedding entering a ResBlock) and its backward, and the channel concat of a skip connection with
// its backward (a split).
import type { Gpu } from '../gpu/gpu.ts';
import { grid1d, Params, type Dispatch } from '../gpu/kernel.ts';
import { ShapeError, ValueError } from '../gpu/errors.ts';
import type { Tensor } from '../gpu/tensor.ts';

const WG = 256;
/** bias_backward runs one invocation per (n, c) row: small workgroups spread few rows over CPU threads. */
const WG_ROWS = 16;

export interface ChannelBiasShape {
  n: number;
  c: number;
  hw: number;
}

export interface ConcatShape {
  n: number;
  /** Channels of the first operand. */
  ca: number;
  /** Channels of the second operand. */
  cb: number;
  hw: number;
}

function positive(what: string, s: object): void {
  for (const [k, v] of Object.entries(s))
    if (!Number.isInteger(v) || (v as number) < 1) throw new ValueError(`${what} ${k} must be a positive integer, got ${v}`);
}

function expectSize(what: string, t: Tensor, n: number): void {
  if (t.size !== n) throw new ShapeError(what, `${n} elements`, t.shape);
}

function sameBuffer(a: Tensor, b: Tensor): boolean {
  return a.buffer === b.buffer && a.offset < b.offset + b.size && b.offset < a.offset + a.size;
}

/** y[n,c,:] = x[n,c,:] + bias[n,c]. y may be x itself (in place), but not partly overlap it. */
export async function addChannelBias(gpu: Gpu, x: Tensor, bias: Tensor, y: Tensor, s: ChannelBiasShape): Promise<Dispatch[]> {
  positive('addChannelBias', s);
  const size = s.n * s.c * s.hw;
  expectSize('addChannelBias x', x, size);
  expectSize('addChannelBias y', y, size);
  expectSize('addChannelBias bias', bias, s.n * s.c);
  const p = gpu.uniform(new Params().u32(s.n, s.c, s.hw, 0), 'bias-add:params');
  if (sameBuffer(x, y)) {
    if (x.offset !== y.offset) throw new ShapeError('addChannelBias y', 'the same view as x, or a disjoint one', `a view overlapping x at offset ${y.offset - x.offset}`);
    const k = await gpu.kernel({ shader: 'channels', entry: 'bias_add_inplace', bindings: ['uniform', 'read', 'rw'], flags: { ACCUMULATE: false }, constants: { WG } });
    return [k.bind([p, bias, y], grid1d(size, WG), 'bias-add-inplace')];
  }
  const k = await gpu.kernel({ shader: 'channels', entry: 'bias_add', bindings: ['uniform', 'read', 'read', 'rw'], flags: { ACCUMULATE: false }, constants: { WG } });
  return [k.bind([p, x, bias, y], grid1d(size, WG), 'bias-add')];
}

/** dbias[n,c] = sum over hw of dy[n,c,:] (overwrites dbias). */
export async function channelBiasBackward(gpu: Gpu, dy: Tensor, dbias: Tensor, s: ChannelBiasShape): Promise<Dispatch[]> {
  positive('channelBiasBackward', s);
  expectSize('channelBiasBackward dy', dy, s.n * s.c * s.hw);
  expectSize('channelBiasBackward dbias', dbias, s.n * s.c);
  const p = gpu.uniform(new Params().u32(s.n, s.c, s.hw, 0), 'bias-backward:params');
  const k = await gpu.kernel({ shader: 'channels', entry: 'bias_backward', bindings: ['uniform', 'read', 'rw'], flags: { ACCUMULATE: false }, constants: { WG: WG_ROWS } });
  return [k.bind([p, dy, dbias], grid1d(s.n * s.c, WG_ROWS), 'bias-backward')];
}

/** out[n] = concat(a[n], b[n]) along channels: a [n, ca, hw], b [n, cb, hw], out [n, ca + cb, hw]. */
export async function concatChannels(gpu: Gpu, a: Tensor, b: Tensor, out: Tensor, s: ConcatShape): Promise<Dispatch[]> {
  positive('concatChannels', s);
  expectSize('concatChannels a', a, s.n * s.ca * s.hw);
  expectSize('concatChannels b', b, s.n * s.cb * s.hw);
  expectSize('concatChannels out', out, s.n * (s.ca + s.cb) * s.hw);
  const p = gpu.uniform(new Params().u32(s.n, s.ca, s.hw, s.cb), 'concat:params');
  const k = await gpu.kernel({ shader: 'channels', entry: 'concat', bindings: ['uniform', 'read', 'read', 'rw'], flags: { ACCUMULATE: false }, constants: { WG } });
  return [k.bind([p, a, b, out], grid1d(out.size, WG), 'concat')];
}

/** Backward of concatChannels: da, db receive their channel slices of dout (added with `accumulate`). */
export async function splitChannelsBackward(
  gpu: Gpu,
  dout: Tensor,
  da: Tensor,
  db: Tensor,
  s: ConcatShape,
  opts: { accumulate?: boolean } = {},
): Promise<Dispatch[]> {
  positive('splitChannelsBackward', s);
  expectSize('splitChannelsBackward dout', dout, s.n * (s.ca + s.cb) * s.hw);
  expectSize('splitChannelsBackward da', da, s.n * s.ca * s.hw);
  expectSize('splitChannelsBackward db', db, s.n * s.cb * s.hw);
  if (sameBuffer(da, db)) throw new ShapeError('splitChannelsBackward db', 'a tensor disjoint from da', 'a view overlapping da');
  const p = gpu.uniform(new Params().u32(s.n, s.ca, s.hw, s.cb), 'split:params');
  const k = await gpu.kernel({ shader: 'channels', entry: 'split', bindings: ['uniform', 'read', 'rw', 'rw'], flags: { ACCUMULATE: !!opts.accumulate }, constants: { WG } });
  return [k.bind([p, dout, da, db], grid1d(dout.size, WG), 'split')];
}
