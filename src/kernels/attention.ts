// The core of a self-attention block over the L = h*w positions of a feature map (shaders/attention.wgsl):
// o = softmax(q k^T * scale) v per sample and head, saving lse (log-sum-exp per query) for backward,
// and the backward dq, dk, dv with P recomputed from lse.
//
// Layout (no transposes): q, k, v, o are channel-major [n, c, L] exactly as a 1x1 convolution writes
// them; head h owns channels h*d .. h*d+d-1 with d = c / heads. q, k, v may be three [n, c, L] tensors,
// or ONE packed [n, 3c, L] tensor passed three times (what a 1x1 convolution with a [3c, c] weight
// writes: channels [0, c) are q, [c, 2c) k, [2c, 3c) v). The gradients dq, dk, dv mirror that: three
// tensors, or the same packed [n, 3c, L] tensor three times (what the 1x1 convolution backward reads).
// lse is [n, heads, L].
// Variants (AttentionOptions.variant; every test runs both): 'rows' (shaders/attention.wgsl, GPUs) and
// 'lanes' (shaders/attention_lanes.wgsl, CPU adapters).
//
// The full block (GroupNorm -> QKV projection -> attention -> output projection -> residual add) is
// assembled by the U-Net from src/kernels/groupnorm.ts, 1x1 convolutions, this file and an
// elementwise add.
import type { Gpu } from '../gpu/gpu.ts';
import { grid1d, Params, type BindingKind, type Dispatch } from '../gpu/kernel.ts';
import { LimitError, ShapeError, ValueError } from '../gpu/errors.ts';
import { sameShape, type Tensor } from '../gpu/tensor.ts';
import { pickVariant, type Operands } from '../gpu/autotune.ts';

export interface AttentionShape {
  n: number;
  /** Channels of q (= of k, v, o); d = c / heads per head. */
  c: number;
  /** Positions h*w. */
  L: number;
  heads?: number;
  /** Defaults to 1/sqrt(d). */
  scale?: number;
}

export const ATTENTION_VARIANTS = ['rows', 'lanes'] as const;
export type AttentionVariant = (typeof ATTENTION_VARIANTS)[number];

export interface AttentionOptions {
  /**
   * 'rows': a workgroup per query (key) row, scores in workgroup memory, tree reductions (GPUs; needs
   * (2d + 2L + 128) * 4 bytes of workgroup memory). 'lanes': an invocation per row, online softmax, no
   * barriers (CPU adapters; head width d <= 256). Default: the faster on this adapter (timed once).
   */
  variant?: AttentionVariant;
}

/** 'rows' threads per workgroup (one row); 'lanes' rows per workgroup. */
const WG = 64;
const WG_LANES = 32;
const LANES_MAX_D = 256;

const FLAGS = { FORWARD: false, DELTA: false, BACKWARD: false, DQ: false, KV_SHARED: false };

interface Operand {
  t: Tensor;
  /** Element offset of the operand's channel 0 inside the bound tensor. */
  off: number;
  /** Elements between samples. */
  bs: number;
}

interface Resolved {
  n: number;
  c: number;
  L: number;
  heads: number;
  d: number;
  scale: number;
  packed: boolean;
  q: Operand;
  k: Operand;
  v: Operand;
}

function resolve(gpu: Gpu, s: AttentionShape, q: Tensor, k: Tensor, v: Tensor, what: string): Resolved {
  const heads = s.heads ?? 1;
  for (const [name, x] of [['n', s.n], ['c', s.c], ['L', s.L], ['heads', heads]] as const)
    if (!Number.isInteger(x) || x < 1) throw new ValueError(`attention ${name} must be a positive integer, got ${x}`);
  if (s.c % heads !== 0) throw new ValueError(`attention heads (${heads}) must divide the channels (${s.c})`, 'Pick a head count dividing the width.');
  const d = s.c / heads;
  const scale = s.scale ?? 1 / Math.sqrt(d);
  const { n, c, L } = s;
  const packed = q === k && k === v;
  let ops: [Operand, Operand, Operand];
  if (packed) {
    if (!sameShape(q.shape, [n, 3 * c, L])) throw new ShapeError(`${what} packed qkv`, [n, 3 * c, L], q.shape);
    ops = [0, 1, 2].map((j) => ({ t: q, off: j * c * L, bs: 3 * c * L })) as [Operand, Operand, Operand];
  } else {
    for (const [name, t] of [['q', q], ['k', k], ['v', v]] as const)
      if (!sameShape(t.shape, [n, c, L])) throw new ShapeError(`${what} ${name} (or pass one packed [n, 3c, L] tensor as q, k and v)`, [n, c, L], t.shape);
    ops = [q, k, v].map((t) => ({ t, off: 0, bs: c * L })) as [Operand, Operand, Operand];
  }
  if (n * heads > 65535) throw new LimitError('maxComputeWorkgroupsPerDimension (attention n * heads)', n * heads, 65535, 'the batch size');
  return { n, c, L, heads, d, scale, packed, q: ops[0], k: ops[1], v: ops[2] };
}

function params(gpu: Gpu, r: Resolved, label: string): GPUBuffer {
  const { n, c, L, heads, d } = r;
  return gpu.uniform(
    new Params()
      .u32(heads, d, L, n * heads * L)
      .u32(r.q.off, r.k.off, r.v.off, 0)
      .u32(r.q.bs, r.k.bs, r.v.bs, c * L)
      .f32(r.scale),
    label,
  );
}

/** Workgroup memory of 'rows': two head vectors, two score rows, the reduction's pairs (workgroup_reduce.wgsl). */
const rowsWorkgroupBytes = (r: Resolved) => (2 * r.d + 2 * r.L + 2 * WG) * 4;

/** The variants that can run this shape (rows: workgroup memory; lanes: head width). */
function usable(gpu: Gpu, r: Resolved): AttentionVariant[] {
  const out: AttentionVariant[] = [];
  if (rowsWorkgroupBytes(r) <= gpu.limits.maxComputeWorkgroupStorageSize) out.push('rows');
  if (r.d <= LANES_MAX_D) out.push('lanes');
  return out;
}

async function choose<T extends Operands>(
  gpu: Gpu,
  r: Resolved,
  what: string,
  variant: AttentionVariant | undefined,
  operands: T,
  build: (g: Gpu, v: AttentionVariant, t: T) => Promise<Dispatch[]>,
): Promise<Dispatch[]> {
  const ok = usable(gpu, r);
  if (variant !== undefined && !ATTENTION_VARIANTS.includes(variant)) throw new ValueError(`Unknown attention variant ${variant}; known: ${ATTENTION_VARIANTS.join(', ')}`);
  if (variant === 'rows' && !ok.includes('rows'))
    throw new LimitError('maxComputeWorkgroupStorageSize (attention rows)', rowsWorkgroupBytes(r), gpu.limits.maxComputeWorkgroupStorageSize, "the attention resolution, or use variant 'lanes'");
  if (variant === 'lanes' && !ok.includes('lanes')) throw new ValueError(`attention variant 'lanes' needs a head width <= ${LANES_MAX_D}, got ${r.d}`, 'Use more heads.');
  if (!ok.length) throw new LimitError('maxComputeWorkgroupStorageSize (attention rows)', rowsWorkgroupBytes(r), gpu.limits.maxComputeWorkgroupStorageSize, 'the attention resolution or the channels per head (more heads)');
  const key = `attention-${what}:${r.n}x${r.c}x${r.L}/${r.heads}${r.packed ? 'p' : ''}`;
  const choice = await pickVariant(gpu, key, ok.map((name) => ({ name, build: (g: Gpu, t: T) => build(g, name, t) })), operands, variant);
  return choice.dispatches;
}

function kernel(gpu: Gpu, r: Resolved, variant: AttentionVariant, entry: string, flags: Partial<typeof FLAGS>, bindings: BindingKind[]) {
  if (variant === 'lanes')
    return gpu.kernel({ shader: 'attention_lanes', entry, bindings, flags: { ...FLAGS, WIDE: r.d > 64, ...flags }, constants: { WG: WG_LANES } });
  // attn_delta uses no row arrays: minimal sizes, so it also builds where 'rows' does not fit.
  const rows = entry === 'attn_delta' ? { MAXL: 1, MAXD: 1 } : { MAXL: r.L, MAXD: r.d };
  return gpu.kernel({ shader: 'attention', entry, bindings, flags: { ...FLAGS, ...flags }, constants: { WG, ...rows } });
}

function rowGroups(r: Resolved, variant: AttentionVariant): number[] {
  return [variant === 'lanes' ? Math.ceil(r.L / WG_LANES) : r.L, r.n * r.heads, 1];
}

/**
 * o = softmax(q k^T * scale) v per sample and head; lse [n, heads, L] = log-sum-exp of each query's
 * scores (kept for backward). o: [n, c, L].
 */
export async function attentionForward(
  gpu: Gpu,
  q: Tensor,
  k: Tensor,
  v: Tensor,
  o: Tensor,
  lse: Tensor,
  s: AttentionShape,
  opts: AttentionOptions = {},
): Promise<Dispatch[]> {
  const r = resolve(gpu, s, q, k, v, 'attention forward');
  if (!sameShape(o.shape, [r.n, r.c, r.L])) throw new ShapeError('attention output o', [r.n, r.c, r.L], o.shape);
  if (lse.size !== r.n * r.heads * r.L) throw new ShapeError('attention lse', [r.n, r.heads, r.L], lse.shape);
  return choose(gpu, r, 'forward', opts.variant, { q: r.q.t, k: r.k.t, v: r.v.t, o, lse }, async (g, variant, t) => {
    const kf = await kernel(g, r, variant, 'attn_forward', { FORWARD: true }, ['uniform', 'read', 'read', 'read', 'rw', 'rw']);
    return [kf.bind([params(g, r, 'attention:forward'), t.q, t.k, t.v, t.o, t.lse], rowGroups(r, variant), `attention forward (${variant})`)];
  });
}

/**
 * dq, dk, dv of o = attention(q, k, v) given dO (layout of o) and the forward's o and lse. Gradients
 * are overwritten. dq, dk, dv must be packed exactly when q, k, v are (see the file header). A scratch
 * tensor delta [n, heads, L] (rowsum(dO * o)) is allocated here once.
 */
export async function attentionBackward(
  gpu: Gpu,
  q: Tensor,
  k: Tensor,
  v: Tensor,
  o: Tensor,
  lse: Tensor,
  dO: Tensor,
  dq: Tensor,
  dk: Tensor,
  dv: Tensor,
  s: AttentionShape,
  opts: AttentionOptions = {},
): Promise<Dispatch[]> {
  const r = resolve(gpu, s, q, k, v, 'attention backward');
  const g = resolve(gpu, s, dq, dk, dv, 'attention backward gradient');
  if (g.packed !== r.packed) throw new ShapeError('attention gradients dq, dk, dv', r.packed ? 'one packed [n, 3c, L] tensor like q, k, v' : 'three [n, c, L] tensors like q, k, v', g.packed ? 'packed' : 'separate');
  const oShape = [r.n, r.c, r.L];
  if (!sameShape(o.shape, oShape)) throw new ShapeError('attention output o', oShape, o.shape);
  if (!sameShape(dO.shape, oShape)) throw new ShapeError('attention output gradient dO', oShape, dO.shape);
  if (lse.size !== r.n * r.heads * r.L) throw new ShapeError('attention lse', [r.n, r.heads, r.L], lse.shape);
  const R = 'read' as const;
  const operands = { q: r.q.t, k: r.k.t, v: r.v.t, o, lse, dO, dq, dk, dv };
  return choose(gpu, r, 'backward', opts.variant, operands, async (g, variant, t) => {
    const delta = g.tensor([r.n, r.heads, r.L], 'attention:delta');
    const u = params(g, r, 'attention:backward');
    const kDelta = await kernel(g, r, 'rows', 'attn_delta', { DELTA: true }, ['uniform', 'read', 'read', 'rw']);
    const deltaPass = kDelta.bind([u, t.o, t.dO, delta], grid1d(r.n * r.heads * r.L, WG), 'attention delta');
    const reads = [u, t.q, t.k, t.v, t.dO, t.lse, delta];
    const groups = rowGroups(r, variant);
    const kDq = await kernel(g, r, variant, 'attn_dq', { BACKWARD: true, DQ: true }, ['uniform', R, R, R, R, R, R, 'rw']);
    const ds = [deltaPass, kDq.bind([...reads, t.dq], groups, `attention dq (${variant})`)];
    if (r.packed) {
      const kKv = await kernel(g, r, variant, 'attn_dkv', { BACKWARD: true, KV_SHARED: true }, ['uniform', R, R, R, R, R, R, 'rw']);
      ds.push(kKv.bind([...reads, t.dk], groups, `attention dk dv (${variant})`));
    } else {
      const kKv = await kernel(g, r, variant, 'attn_dkv', { BACKWARD: true }, ['uniform', R, R, R, R, R, R, 'rw', 'rw']);
      ds.push(kKv.bind([...reads, t.dk, t.dv], groups, `attention dk dv (${variant})`));
    }
    return ds;
  });
}
