// float64 references for the channel plumbing: per-sample channel bias, channel concat and split.
export interface ChannelRefShape {
  n: number;
  c: number;
  hw: number;
}

/** y[n,c,i] = x[n,c,i] + bias[n,c]. */
export function addChannelBiasRef(x: Float64Array, bias: Float64Array, s: ChannelRefShape): Float64Array {
  return x.map((v, i) => v + bias[Math.floor(i / s.hw)]!);
}

/** dbias[n,c] = sum_i dy[n,c,i]. */
export function channelBiasBackwardRef(dy: Float64Array, s: ChannelRefShape): Float64Array {
  const out = new Float64Array(s.n * s.c);
  dy.forEach((v, i) => (out[Math.floor(i / s.hw)] += v));
  return out;
}

export interface ConcatRefShape {
  n: number;
  ca: number;
  cb: number;
  hw: number;
}

export function concatChannelsRef(a: Float64Array, b: Float64Array, s: ConcatRefShape): Float64Array {
  const { n, ca, cb, hw } = s;
  const out = new Float64Array(n * (ca + cb) * hw);
  for (let k = 0; k < n; k++) {
    out.set(a.subarray(k * ca * hw, (k + 1) * ca * hw), k * (ca + cb) * hw);
    out.set(b.subarray(k * cb * hw, (k + 1) * cb * hw), (k * (ca + cb) + ca) * hw);
  }
  return out;
}

/** The gradients of concatChannelsRef: the channel slices of dout. */
export function splitChannelsRef(dout: Float64Array, s: ConcatRefShape): { da: Float64Array; db: Float64Array } {
  const { n, ca, cb, hw } = s;
  const da = new Float64Array(n * ca * hw);
  const db = new Float64Array(n * cb * hw);
  for (let k = 0; k < n; k++) {
    da.set(dout.subarray(k * (ca + cb) * hw, (k * (ca + cb) + ca) * hw), k * ca * hw);
    db.set(dout.subarray((k * (ca + cb) + ca) * hw, (k + 1) * (ca + cb) * hw), k * cb * hw);
  }
  return { da, db };
}
