// Sinusoidal time features for the U-Net's time embedding (shaders/timeembed.wgsl): for t read from
// the levels tensor, dim / 2 sines then dim / 2 cosines of scale * t * f_k with
// f_k = exp(-ln(10000) k / (dim / 2)). No backward: the input t is data, not a parameter.
import type { Gpu } from '../gpu/gpu.ts';
import { grid1d, Params, type Dispatch } from '../gpu/kernel.ts';
import { ShapeError, ValueError } from '../gpu/errors.ts';
import type { Tensor } from '../gpu/tensor.ts';

const WG = 64;

export interface TimeEmbeddingShape {
  /** Batch size. */
  n: number;
  /** Feature width (even): dim / 2 sines then dim / 2 cosines. */
  dim: number;
  /** Multiplier of t (1000 for t in [0, 1]). */
  scale: number;
  /** t_b = levels[b * stride + offset] (LEVEL_STRIDE and 0 for the levels tensor). */
  stride: number;
  offset: number;
}

/** turns[k] = scale f_k / (2 pi), in float64 before the single rounding to float32. */
export function timeEmbeddingTurns(dim: number, scale: number): Float32Array {
  const half = dim / 2;
  return Float32Array.from({ length: half }, (_, k) => (scale * Math.exp((-Math.log(10000) * k) / half)) / (2 * Math.PI));
}

/** out [n, dim] = [sin(scale t f_k) for k < dim/2, cos(scale t f_k) for k < dim/2] per sample. */
export async function timeEmbedding(gpu: Gpu, levels: Tensor, out: Tensor, s: TimeEmbeddingShape): Promise<Dispatch[]> {
  for (const k of ['n', 'dim', 'stride'] as const)
    if (!Number.isInteger(s[k]) || s[k] < 1) throw new ValueError(`timeEmbedding ${k} must be a positive integer, got ${s[k]}`);
  if (s.dim % 2 !== 0) throw new ValueError(`timeEmbedding dim must be even (half sines, half cosines), got ${s.dim}`);
  if (!Number.isInteger(s.offset) || s.offset < 0 || s.offset >= s.stride) throw new ValueError(`timeEmbedding offset must be in [0, stride), got ${s.offset}`);
  if (!Number.isFinite(s.scale)) throw new ValueError(`timeEmbedding scale must be finite, got ${s.scale}`);
  if (levels.size < s.n * s.stride) throw new ShapeError('timeEmbedding levels', `at least ${s.n * s.stride} elements ([n, stride])`, levels.shape);
  if (out.size !== s.n * s.dim) throw new ShapeError('timeEmbedding out', [s.n, s.dim], out.shape);
  const turns = gpu.upload(timeEmbeddingTurns(s.dim, s.scale), [s.dim / 2], 'time-embedding:turns');
  const p = gpu.uniform(new Params().u32(s.n, s.dim, s.stride, s.offset), 'time-embedding:params');
  const k = await gpu.kernel({ shader: 'timeembed', entry: 'timestep_embedding', bindings: ['uniform', 'read', 'read', 'rw'], constants: { WG } });
  return [k.bind([p, levels, turns, out], grid1d(out.size, WG), 'time-embedding')];
}
