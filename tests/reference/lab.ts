// float64 references for the score-matching lab (shaders/lab_*.wgsl): the stacked-row model forward
// and backward, the objectives with their output gradients, the batch drawn from Philox, and the
// mixture score. The backward passes are checked against finite differences in tests/lab/.
import type { ModelSpec } from '../../src/lab/score-model.ts';
import type { GaussianMixture } from '../../src/lab/mixture.ts';
import { componentStride } from '../../src/lab/mixture.ts';
import { boxMuller, philox4x32_10 } from './rng.ts';

/** phi, phi', phi''. */
export function act3(name: ModelSpec['activation'], a: number): [number, number, number] {
  const sig = (x: number) => 1 / (1 + Math.exp(-x));
  switch (name) {
    case 'tanh': {
      const t = Math.tanh(a);
      return [t, 1 - t * t, -2 * t * (1 - t * t)];
    }
    case 'softplus': {
      const s = sig(a);
      return [Math.max(a, 0) + Math.log1p(Math.exp(-Math.abs(a))), s, s * (1 - s)];
    }
    case 'sigmoid': {
      const s = sig(a);
      return [s, s * (1 - s), s * (1 - s) * (1 - 2 * s)];
    }
    case 'silu': {
      const s = sig(a);
      return [a * s, s * (1 + a * (1 - s)), s * (1 - s) * (2 + a * (1 - 2 * s))];
    }
  }
}

export interface ModelCache {
  output: Float64Array;
  pre: Float64Array[];
  post: Float64Array[];
}

function weightAt(spec: ModelSpec, params: Float64Array, layer: number): (o: number, i: number) => number {
  const l = spec.layers[layer]!;
  const off = spec.layout.entries.get(l.weight)!.offset;
  return l.transposed ? (o, i) => params[off + i * l.nout + o]! : (o, i) => params[off + o * l.nin + i]!;
}

function outputScale(spec: ModelSpec, input: Float64Array, primal: number, r: number, raw: boolean): number {
  if (raw) return 1;
  const s = spec.output.scale;
  return spec.output.conditional ? s * Math.exp(-input[(r % primal) * spec.inputDim + spec.dim]!) : s;
}

/** The stacked rows through the model: primal rows get phi and biases, tangent rows phi'(a) t. */
export function modelForwardRef(spec: ModelSpec, params: Float64Array, input: Float64Array, primal: number, raw = false): ModelCache {
  const R = input.length / spec.inputDim;
  const pre: Float64Array[] = [];
  const post: Float64Array[] = [];
  let x = input;
  let out = new Float64Array(0);
  spec.layers.forEach((l, li) => {
    const W = weightAt(spec, params, li);
    const bias = spec.layout.entries.get(l.bias)!.offset;
    const y = new Float64Array(R * l.nout);
    for (let r = 0; r < R; r++)
      for (let o = 0; o < l.nout; o++) {
        let acc = r < primal ? params[bias + o]! : 0;
        for (let i = 0; i < l.nin; i++) acc += x[r * l.nin + i]! * W(o, i);
        y[r * l.nout + o] = acc;
      }
    if (l.activation) {
      const h = new Float64Array(R * l.nout);
      for (let r = 0; r < R; r++)
        for (let o = 0; o < l.nout; o++) {
          const [f, d] = act3(spec.activation, y[(r % primal) * l.nout + o]!);
          h[r * l.nout + o] = r < primal ? f : d * y[r * l.nout + o]!;
        }
      pre.push(y);
      post.push(h);
      x = h;
    } else {
      const skip = raw ? 0 : spec.output.skip;
      for (let r = 0; r < R; r++) {
        const a = outputScale(spec, input, primal, r, raw);
        for (let o = 0; o < l.nout; o++) y[r * l.nout + o] = a * (y[r * l.nout + o]! + skip * input[r * spec.inputDim + o]!);
      }
      out = y;
    }
  });
  return { output: out, pre, post };
}

/** Gradient of <dOut, output> with respect to the flat parameters (layout order). */
export function modelBackwardRef(spec: ModelSpec, params: Float64Array, input: Float64Array, primal: number, dOut: Float64Array, raw = false): Float64Array {
  const R = input.length / spec.inputDim;
  const cache = modelForwardRef(spec, params, input, primal, raw);
  const grads = new Float64Array(spec.layout.size);
  const last = spec.layers.length - 1;
  let dy = new Float64Array(R * spec.dim);
  for (let r = 0; r < R; r++) {
    const a = outputScale(spec, input, primal, r, raw);
    for (let o = 0; o < spec.dim; o++) dy[r * spec.dim + o] = a * dOut[r * spec.dim + o]!;
  }
  for (let li = last; li >= 0; li--) {
    const l = spec.layers[li]!;
    const x = li === 0 ? input : cache.post[li - 1]!;
    const W = weightAt(spec, params, li);
    const wOff = spec.layout.entries.get(l.weight)!.offset;
    const bOff = spec.layout.entries.get(l.bias)!.offset;
    for (let r = 0; r < R; r++)
      for (let o = 0; o < l.nout; o++) {
        const g = dy[r * l.nout + o]!;
        if (r < primal) grads[bOff + o] += g;
        for (let i = 0; i < l.nin; i++) grads[wOff + (l.transposed ? i * l.nout + o : o * l.nin + i)] += g * x[r * l.nin + i]!;
      }
    if (li === 0) break;
    const dh = new Float64Array(R * l.nin);
    for (let r = 0; r < R; r++)
      for (let i = 0; i < l.nin; i++) {
        let acc = 0;
        for (let o = 0; o < l.nout; o++) acc += dy[r * l.nout + o]! * W(o, i);
        dh[r * l.nin + i] = acc;
      }
    const a = cache.pre[li - 1]!;
    const da = new Float64Array(R * l.nin);
    for (let r = 0; r < R; r++)
      for (let i = 0; i < l.nin; i++) {
        const [, d1, d2] = act3(spec.activation, a[(r % primal) * l.nin + i]!);
        if (r < primal) {
          let g = dh[r * l.nin + i]! * d1;
          for (let m = r + primal; m < R; m += primal) g += dh[m * l.nin + i]! * d2 * a[m * l.nin + i]!;
          da[r * l.nin + i] = g;
        } else da[r * l.nin + i] = dh[r * l.nin + i]! * d1;
      }
    dy = da;
  }
  return grads;
}

export interface ObjectiveRefSpec {
  mode: 'regress' | 'dsm' | 'trace';
  sliced?: boolean;
  weightPower?: number;
  coef?: number;
  traceScale?: number;
}

export interface BatchRef {
  input: Float64Array;
  clean: Float64Array;
  noise: Float64Array;
  sigma: Float64Array;
}

/** Per-point objective values, their mean and d(mean)/d(output rows). */
export function objectiveRef(o: ObjectiveRefSpec, dim: number, inputDim: number, primal: number, tangents: number, output: Float64Array, input: Float64Array, target: Float64Array | null, noise: Float64Array, sigma: Float64Array) {
  const R = primal * (1 + tangents);
  const per = new Float64Array(primal);
  const dOut = new Float64Array(R * dim);
  const coef = o.coef ?? 0.5;
  const c = o.traceScale ?? 1;
  for (let b = 0; b < primal; b++) {
    let l = 0;
    if (o.mode !== 'trace') {
      const w = o.weightPower ? sigma[b]! ** o.weightPower : 1;
      for (let j = 0; j < dim; j++) {
        const t = o.mode === 'dsm' ? -noise[b * dim + j]! / sigma[b]! : target![b * dim + j]!;
        const r = output[b * dim + j]! - t;
        l += coef * w * r * r;
        dOut[b * dim + j] = (2 * coef * w * r) / primal;
      }
    } else {
      const ds = new Float64Array(dim);
      for (let j = 0; j < dim; j++) {
        const s = output[b * dim + j]!;
        if (!o.sliced) {
          l += 0.5 * s * s;
          ds[j] = s;
        }
      }
      for (let m = 1; m <= tangents; m++) {
        const row = m * primal + b;
        let vs = 0;
        for (let j = 0; j < dim; j++) {
          const v = input[row * inputDim + j]!;
          l += c * v * output[row * dim + j]!;
          vs += v * output[b * dim + j]!;
          dOut[row * dim + j] = (c * v) / primal;
        }
        if (o.sliced) {
          l += 0.5 * c * vs * vs;
          for (let j = 0; j < dim; j++) ds[j] += c * vs * input[row * inputDim + j]!;
        }
      }
      for (let j = 0; j < dim; j++) dOut[b * dim + j] = ds[j]! / primal;
    }
    per[b] = l;
  }
  return { perSample: per, loss: per.reduce((a, v) => a + v, 0) / primal, dOut };
}

const uniform01 = (w: number) => (w >>> 8) / 16777216;

/** shaders/lab_batch.wgsl in float64 from the same Philox words and the same float32 tables. */
export function prepareBatchRef(
  source: Float32Array,
  dim: number,
  inputDim: number,
  sigmas: Float32Array,
  primal: number,
  tangents: number,
  tangentMode: 0 | 1 | 2 | 3,
  addNoise: boolean,
  seed: number,
  step: number,
): BatchRef {
  const stride = componentStride(dim);
  const k = source.length / stride;
  const words = (b: number, stream: number, block: number) => philox4x32_10([b, stream, block, 0], [seed, step]);
  const normalAt = (b: number, stream: number, i: number) => {
    const w = words(b, stream, Math.floor(i / 4));
    const j = i % 4;
    const z = j < 2 ? boxMuller(w[0]!, w[1]!) : boxMuller(w[2]!, w[3]!);
    return z[j % 2]!;
  };
  const R = primal * (1 + tangents);
  const input = new Float64Array(R * inputDim);
  const clean = new Float64Array(primal * dim);
  const noise = new Float64Array(primal * dim);
  const sigma = new Float64Array(primal);
  for (let b = 0; b < primal; b++) {
    const u = uniform01(words(b, 1, 0)[0]!);
    let lo = 0;
    let hi = k - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (source[mid * stride]! > u) hi = mid;
      else lo = mid + 1;
    }
    const base = lo * stride;
    const z0 = Array.from({ length: dim }, (_, j) => normalAt(b, 1, 4 + j));
    const level = Math.min(sigmas.length - 1, Math.floor(uniform01(words(b, 3, 0)[0]!) * sigmas.length));
    const s = sigmas[level]!;
    sigma[b] = s;
    for (let i = 0; i < dim; i++) {
      let v = source[base + 1 + i]!;
      for (let j = 0; j <= i; j++) v += source[base + 1 + dim + i * dim + j]! * z0[j]!;
      clean[b * dim + i] = v;
      const z = normalAt(b, 2, i);
      noise[b * dim + i] = z;
      input[b * inputDim + i] = addNoise ? v + s * z : v;
    }
    if (inputDim > dim) input[b * inputDim + dim] = Math.log(s);
    for (let m = 0; m < tangents; m++) {
      const row = (m + 1) * primal + b;
      for (let j = 0; j < dim; j++) {
        const i = m * dim + j;
        input[row * inputDim + j] =
          tangentMode === 1 ? (j === m ? 1 : 0) : tangentMode === 2 ? normalAt(b, 4, i) : (words(b, 4, Math.floor(i / 4))[i % 4]! & 0x80000000) !== 0 ? 1 : -1;
      }
    }
  }
  return { input, clean, noise, sigma };
}

/** The mixture's score at each row of `points` (row stride `stride`). */
export function mixtureScoreRef(mix: GaussianMixture, points: ArrayLike<number>, n: number, stride = mix.dim): Float64Array {
  const out = new Float64Array(n * mix.dim);
  const x = new Float64Array(mix.dim);
  const g = new Float64Array(mix.dim);
  for (let b = 0; b < n; b++) {
    for (let j = 0; j < mix.dim; j++) x[j] = points[b * stride + j]!;
    mix.score(x, g);
    out.set(g, b * mix.dim);
  }
  return out;
}
