// Matrix multiply C = op(A) @ op(B), float32 row-major, optionally batched (shaders/matmul_tiled.wgsl,
// shaders/matmul_regblock.wgsl). op(X) is X or X^T, so backward passes get dA = dC B^T and
// dB = A^T dC without transposing anything in memory: a transpose is only a change of strides.
import type { Gpu } from '../gpu/gpu.ts';
import { Params, type Dispatch } from '../gpu/kernel.ts';
import { LimitError, ShapeError, ValueError } from '../gpu/errors.ts';
import type { Tensor } from '../gpu/tensor.ts';
import { pickVariant, type Variant } from '../gpu/autotune.ts';

/**
 * tiled: 64x64 shared-memory tiles, 16x16 workgroups (GPUs).
 * reg8x8 / reg4x4: register blocks of 8x8 / 4x4 per invocation, vec4 loads of B, no barriers
 * (CPU software adapters; reg4x4 leaves more invocations for small outputs).
 */
export const MATMUL_VARIANTS = ['tiled', 'reg8x8', 'reg4x4'] as const;
export type MatmulVariant = (typeof MATMUL_VARIANTS)[number];

export interface MatmulOptions {
  /** A is stored transposed: [K, M] (or [batch, K, M]). */
  transA?: boolean;
  /** B is stored transposed: [N, K] (or [batch, N, K]). */
  transB?: boolean;
  /** Force a variant (tests run every one); otherwise pickVariant times them once per adapter and shape class. */
  variant?: MatmulVariant;
}

type MatmulOperands = { a: Tensor; b: Tensor; c: Tensor };

export interface MatmulShape {
  batch: number;
  M: number;
  N: number;
  K: number;
}

/**
 * Dispatches computing c = op(a) @ op(b).
 * a: [M, K] or [batch, M, K] ([K, M] / [batch, K, M] with transA); b: [K, N] or [batch, K, N]
 * ([N, K] / [batch, N, K] with transB); c: [M, N] or [batch, M, N]. A 2-D a or b with a 3-D c is
 * broadcast over the batch. c must not share a buffer with a or b.
 */
export async function matmul(gpu: Gpu, a: Tensor, b: Tensor, c: Tensor, opts: MatmulOptions = {}): Promise<Dispatch[]> {
  const s = matmulShape(a, b, c, opts);
  // On software adapters the tiled variant measured 4-5x (lavapipe) and 8-19x (SwiftShader) slower than
  // reg8x8 at 256-1024 (bench/matmul),
  // so it is not worth timing there; it stays available by name.
  const names = gpu.adapter.software && !opts.variant ? MATMUL_VARIANTS.filter((v) => v !== 'tiled') : MATMUL_VARIANTS;
  const variants: Variant<MatmulOperands>[] = names.map((name) => ({ name, build: (g, t) => buildMatmul(g, name, t.a, t.b, t.c, s, opts) }));
  const choice = await pickVariant(gpu, `matmul:${shapeClass(s, opts)}`, variants, { a, b, c }, opts.variant);
  return choice.dispatches;
}

/** Validates the operands and returns the problem size; throws ShapeError naming the bad tensor. */
export function matmulShape(a: Tensor, b: Tensor, c: Tensor, opts: MatmulOptions = {}): MatmulShape {
  const mat = (t: Tensor, name: string) => {
    if (t.shape.length !== 2 && t.shape.length !== 3) throw new ShapeError(`matmul ${name}`, '[rows, cols] or [batch, rows, cols]', t.shape);
    const [r, k] = t.shape.slice(-2) as [number, number];
    return { batch: t.shape.length === 3 ? t.shape[0]! : 0, r, k };
  };
  const A = mat(a, 'A');
  const B = mat(b, 'B');
  const C = mat(c, 'C');
  const [M, K] = opts.transA ? [A.k, A.r] : [A.r, A.k];
  const [Kb, N] = opts.transB ? [B.k, B.r] : [B.r, B.k];
  if (Kb !== K) throw new ShapeError(`matmul B (inner dimension must equal A's K=${K}${opts.transB ? ', B stored transposed' : ''})`, opts.transB ? `[N, ${K}]` : `[${K}, N]`, b.shape);
  const batch = Math.max(1, C.batch);
  if (C.r !== M || C.k !== N) throw new ShapeError('matmul C', c.shape.length === 3 ? [batch, M, N] : [M, N], c.shape);
  for (const [name, t, x] of [['A', a, A], ['B', b, B]] as const) {
    if (x.batch && !C.batch) throw new ShapeError(`matmul ${name} (batched operand needs a batched C)`, t.shape.slice(1), t.shape);
    if (x.batch && x.batch !== batch) throw new ShapeError(`matmul ${name} batch`, `${batch}`, `${x.batch}`);
  }
  if (M < 1 || N < 1 || K < 1) throw new ShapeError('matmul dimensions', 'M, N, K >= 1', `M=${M}, N=${N}, K=${K}`);
  if (c.buffer === a.buffer || c.buffer === b.buffer) throw new ValueError('matmul: C must not share a buffer with A or B (WebGPU forbids binding it both read and read_write).');
  return { batch, M, N, K };
}

/** The autotune key: sizes bucketed to powers of two, plus whether B can be read as vec4. */
function shapeClass(s: MatmulShape, opts: MatmulOptions): string {
  const bucket = (x: number) => 2 ** Math.ceil(Math.log2(x));
  return `${s.batch > 1 ? `b${bucket(s.batch)}:` : ''}${bucket(s.M)}x${bucket(s.N)}x${bucket(s.K)}${opts.transA ? ':tA' : ''}${opts.transB ? ':tB' : ''}`;
}

async function buildMatmul(gpu: Gpu, variant: MatmulVariant, a: Tensor, b: Tensor, c: Tensor, s: MatmulShape, opts: MatmulOptions): Promise<Dispatch[]> {
  const { batch, M, N, K } = s;
  const rsA = opts.transA ? 1 : K;
  const ksA = opts.transA ? M : 1;
  const ksB = opts.transB ? 1 : N;
  const csB = opts.transB ? K : 1;
  const batchA = a.shape.length === 3 ? M * K : 0;
  const batchB = b.shape.length === 3 ? K * N : 0;
  const params = gpu.uniform(new Params().u32(M, N, K, rsA, ksA, ksB, csB, batchA, batchB, M * N), `matmul:${variant}:params`);
  const bindings = ['uniform', 'read', 'read', 'rw'] as const;
  let groups: [number, number, number];
  let d: Dispatch;
  if (variant === 'tiled') {
    groups = [Math.ceil(N / 64), Math.ceil(M / 64), batch];
    const k = await gpu.kernel({ shader: 'matmul_tiled', entry: 'matmul_tiled', bindings });
    d = k.bind([params, a, b, c], groups, `matmul:${variant}`);
  } else {
    const block8 = variant === 'reg8x8';
    const tm = block8 ? 8 : 4;
    const tn = block8 ? 8 : 4;
    const WX = 8;
    const WY = 8;
    groups = [Math.ceil(N / (tn * WX)), Math.ceil(M / (tm * WY)), batch];
    // vec4 loads of B need whole vec4 rows: row-major B with N % 4 == 0 (batch offsets are then too).
    const bVec4 = !opts.transB && N % 4 === 0;
    const k = await gpu.kernel({ shader: 'matmul_regblock', entry: 'matmul_regblock', bindings, flags: { B_VEC4: bVec4, BLOCK8: block8 }, constants: { WX, WY } });
    d = k.bind([params, a, b, c], groups, `matmul:${variant}`);
  }
  const maxGroups = gpu.limits.maxComputeWorkgroupsPerDimension;
  for (const [i, what] of [[0, 'columns N'], [1, 'rows M'], [2, 'batch']] as const)
    if (groups[i] > maxGroups) throw new LimitError(`maxComputeWorkgroupsPerDimension (matmul ${what})`, groups[i], maxGroups, `the matmul's ${what}`);
  return [d];
}
