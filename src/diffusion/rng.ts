// Counter-based noise on the GPU (shaders/philox.wgsl, shaders/rng.wgsl). The key is (seed, step):
// both live in a 16-byte uniform buffer (RngState) that the host rewrites with writeBuffer before a
// step's submit, so the dispatches are built once and the numbers depend only on (seed, step, stream,
// element), the same in Node and in the browser.
import type { Gpu } from '../gpu/gpu.ts';
import { grid1d, Params, type Dispatch } from '../gpu/kernel.ts';
import { ValueError } from '../gpu/errors.ts';
import type { Tensor } from '../gpu/tensor.ts';
import { BufferUsage } from '../gpu/usage.ts';

const WG = 64;

/** Independent uses of the RNG within one (seed, step): pass a different stream to each. */
export const RngStream = { samplerNoise: 0, prior: 1, priorNoise: 2, user: 16 } as const;

/** The (seed, step) key in a GPU uniform buffer {seed: u32, step: u32, 0, 0}. */
export class RngState {
  readonly buffer: GPUBuffer;
  private words = new Uint32Array(4);
  constructor(
    private readonly gpu: Gpu,
    seed = 0,
    step = 0,
  ) {
    this.buffer = gpu.buffer(16, 'rng-state', BufferUsage.UNIFORM | BufferUsage.COPY_DST);
    this.set(seed, step);
  }
  get seed(): number {
    return this.words[0]!;
  }
  get step(): number {
    return this.words[1]!;
  }
  /** Queue a write of (seed, step); takes effect for work submitted after this call. */
  set(seed: number, step: number): void {
    for (const [name, v] of [['seed', seed], ['step', step]] as const)
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new ValueError(`RNG ${name} must be an integer in [0, 2^32), got ${v}`);
    this.words[0] = seed >>> 0;
    this.words[1] = step >>> 0;
    this.gpu.device.queue.writeBuffer(this.buffer, 0, this.words);
  }
  /** Release the key's buffer (it belongs to the scope it was made in, which would release it too). */
  destroy(): void {
    this.gpu.release(this.buffer);
  }
}

export interface RandomNormalOptions {
  /** Which independent stream of the key to use (default 0). */
  stream?: number;
  mean?: number;
  std?: number;
}

/** A dispatch filling `out` with mean + std * N(0, 1) numbers keyed by the state's (seed, step). */
export async function randomNormal(gpu: Gpu, out: Tensor, state: RngState | GPUBuffer, opts: RandomNormalOptions = {}): Promise<Dispatch> {
  const { stream = 0, mean = 0, std = 1 } = opts;
  const k = await gpu.kernel({ shader: 'rng', entry: 'random_normal', bindings: ['uniform', 'uniform', 'rw'], flags: { BITS: false }, constants: { WG } });
  const params = gpu.uniform(new Params().u32(out.size, stream).f32(mean, std), 'random_normal:params');
  return k.bind([params, stateBuffer(state), out], grid1d(Math.ceil(out.size / 4), WG), 'random_normal');
}

/** A dispatch writing the raw Philox words into the u32 tensor `out` (known-answer tests, hashing). */
export async function randomBits(gpu: Gpu, out: Tensor, state: RngState | GPUBuffer, stream = 0): Promise<Dispatch> {
  const k = await gpu.kernel({ shader: 'rng', entry: 'random_bits', bindings: ['uniform', 'uniform', 'rw'], flags: { BITS: true }, constants: { WG } });
  const params = gpu.uniform(new Params().u32(out.size, stream).f32(0, 1), 'random_bits:params');
  return k.bind([params, stateBuffer(state), out], grid1d(Math.ceil(out.size / 4), WG), 'random_bits');
}

export function stateBuffer(state: RngState | GPUBuffer): GPUBuffer {
  return state instanceof RngState ? state.buffer : state;
}
