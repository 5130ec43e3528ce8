// GroupNorm with learned scale/shift and optional fused SiLU (shaders/groupnorm.wgsl).
// Two variants for the reductions: 'serial' (one invocation per row, no workgroup barriers: software
// adapters) and 'tree' (one workgroup per row with a shared-memory tree: GPUs).
import type { Gpu } from '../gpu/gpu.ts';
import { grid1d, Params, type Dispatch } from '../gpu/kernel.ts';
import { ShapeError, ValueError } from '../gpu/errors.ts';
import type { Tensor } from '../gpu/tensor.ts';
import { pickVariant } from '../gpu/autotune.ts';

export interface GroupNormShape {
  n: number;
  c: number;
  hw: number;
  groups: number;
  eps: number;
  silu: boolean;
}

export const GROUPNORM_VARIANTS = ['serial', 'tree'] as const;
export type GroupNormVariant = (typeof GROUPNORM_VARIANTS)[number];

export interface GroupNormOptions {
  variant?: GroupNormVariant;
}
export interface GroupNormBackwardOptions extends GroupNormOptions {
  /** Add the input gradient into dx instead of overwriting it. */
  accumulate?: boolean;
}

/** Row-per-invocation kernels: small workgroups, so that a few rows still spread over CPU threads. */
const WG_SERIAL = 16;

function check(s: GroupNormShape): void {
  for (const k of ['n', 'c', 'hw', 'groups'] as const)
    if (!Number.isInteger(s[k]) || s[k] < 1) throw new ValueError(`GroupNorm ${k} must be a positive integer, got ${s[k]}`);
  if (s.c % s.groups !== 0) throw new ValueError(`GroupNorm groups (${s.groups}) must divide the channels (${s.c})`, 'Choose groups dividing every normalised channel count.');
  if (!(s.eps > 0)) throw new ValueError(`GroupNorm eps must be positive, got ${s.eps}`);
}

/** WebGPU forbids binding one buffer range both read-only and writable in a dispatch. */
function expectDisjoint(what: string, out: Tensor, inputs: [string, Tensor][]): void {
  for (const [name, t] of inputs)
    if (t.buffer === out.buffer && t.offset < out.offset + out.size && out.offset < t.offset + t.size)
      throw new ShapeError(what, `a tensor disjoint from ${name}`, `a view overlapping ${name}`);
}

function params(gpu: Gpu, s: GroupNormShape, label: string): GPUBuffer {
  return gpu.uniform(new Params().u32(s.n, s.c, s.hw, s.groups).f32(s.eps), label);
}

/** Workgroup size for a tree reduction over, or a plane of, `len` elements: a power of two in [32, 256]. */
function treeWg(len: number): number {
  let wg = 32;
  while (wg < 256 && wg < len) wg *= 2;
  return wg;
}

/**
 * Grid of the per-element kernels: x over the hw positions of a plane, y (then z) over the n * c
 * planes, so each workgroup lies in one channel.
 */
function planeGrid(planes: number, hw: number, wg: number): [number, number, number] {
  return [Math.ceil(hw / wg), Math.min(planes, 65535), Math.ceil(planes / 65535)];
}

type ForwardOperands = { x: Tensor; gamma: Tensor; beta: Tensor; y: Tensor; stats: Tensor };
type BackwardOperands = { x: Tensor; gamma: Tensor; beta: Tensor; stats: Tensor; dy: Tensor; dx: Tensor; dgamma: Tensor; dbeta: Tensor };

function shapeKey(s: GroupNormShape): string {
  return `${s.n}x${s.c}x${s.hw}/${s.groups}${s.silu ? '+silu' : ''}`;
}

/**
 * `y = [silu](gamma * (x - mean_g) * rstd_g + beta)`; stats [n*groups*2] receives (mean, rstd) per
 * (sample, group) for the backward pass. x, y: [n, c, hw] (any shape with that many elements; y may
 * not alias x). A small
 * per-plane scratch (scale, shift) is allocated here, once.
 */
export async function groupNormForward(
  gpu: Gpu,
  x: Tensor,
  gamma: Tensor,
  beta: Tensor,
  y: Tensor,
  stats: Tensor,
  s: GroupNormShape,
  opts: GroupNormOptions = {},
): Promise<Dispatch[]> {
  check(s);
  const size = s.n * s.c * s.hw;
  for (const [name, t, n] of [['x', x, size], ['y', y, size], ['gamma', gamma, s.c], ['beta', beta, s.c], ['stats', stats, s.n * s.groups * 2]] as const)
    if (t.size !== n) throw new ShapeError(`GroupNorm ${name}`, `${n} elements`, t.shape);
  expectDisjoint('GroupNorm y', y, [['x', x], ['gamma', gamma], ['beta', beta]]);
  const rows = s.n * s.groups;
  const len = (s.c / s.groups) * s.hw;
  const wgPlane = treeWg(s.hw);
  const flags = { SILU: s.silu, ACCUMULATE: false };
  const normalize = await gpu.kernel({ shader: 'groupnorm', entry: 'gn_normalize', bindings: ['uniform', 'read', 'read', 'rw'], flags, constants: { WG: wgPlane } });
  const build = async (g: Gpu, variant: GroupNormVariant, t: ForwardOperands): Promise<Dispatch[]> => {
    const p = params(g, s, 'groupnorm:params');
    // Per-plane (scale, shift) written by the stats pass, read by the per-element pass.
    const coef = g.tensor([s.n, s.c, 2], 'groupnorm:coef');
    const serial = variant === 'serial';
    const stat = await gpu.kernel({
      shader: 'groupnorm',
      entry: serial ? 'gn_stats_serial' : 'gn_stats_tree',
      bindings: ['uniform', 'read', 'read', 'read', 'rw', 'rw'],
      flags,
      constants: { WG: serial ? WG_SERIAL : treeWg(len) },
    });
    return [
      stat.bind([p, t.x, t.gamma, t.beta, t.stats, coef], serial ? grid1d(rows, WG_SERIAL) : grid1d(rows, 1), `groupnorm:stats:${variant}`),
      normalize.bind([p, t.x, coef, t.y], planeGrid(s.n * s.c, s.hw, wgPlane), 'groupnorm:normalize'),
    ];
  };
  const variants = GROUPNORM_VARIANTS.map((name) => ({ name, build: (g: Gpu, t: ForwardOperands) => build(g, name, t) }));
  return (await pickVariant(gpu, `groupnorm:${shapeKey(s)}`, variants, { x, gamma, beta, y, stats }, opts.variant)).dispatches;
}

/**
 * Gradients of groupNormForward: dx (overwritten, or added to with `accumulate`), dgamma and dbeta
 * (overwritten). The pre-SiLU value is recomputed from x and stats. Scratch for the per-channel sums
 * and per-plane coefficients is allocated here, once.
 */
export async function groupNormBackward(
  gpu: Gpu,
  x: Tensor,
  gamma: Tensor,
  beta: Tensor,
  stats: Tensor,
  dy: Tensor,
  dx: Tensor,
  dgamma: Tensor,
  dbeta: Tensor,
  s: GroupNormShape,
  opts: GroupNormBackwardOptions = {},
): Promise<Dispatch[]> {
  check(s);
  const size = s.n * s.c * s.hw;
  for (const [name, t, n] of [
    ['x', x, size],
    ['dy', dy, size],
    ['dx', dx, size],
    ['gamma', gamma, s.c],
    ['beta', beta, s.c],
    ['dgamma', dgamma, s.c],
    ['dbeta', dbeta, s.c],
    ['stats', stats, s.n * s.groups * 2],
  ] as const)
    if (t.size !== n) throw new ShapeError(`GroupNorm backward ${name}`, `${n} elements`, t.shape);
  expectDisjoint('GroupNorm backward dx', dx, [['x', x], ['dy', dy], ['stats', stats]]);
  const flags = { SILU: s.silu, ACCUMULATE: !!opts.accumulate };
  const reduce = await gpu.kernel({ shader: 'groupnorm', entry: 'gn_reduce', bindings: ['uniform', 'read', 'read', 'read', 'read', 'rw', 'rw', 'rw'], flags, constants: { WG: WG_SERIAL } });
  const wgPlane = treeWg(s.hw);
  const dxKernel = await gpu.kernel({ shader: 'groupnorm', entry: 'gn_dx', bindings: ['uniform', 'read', 'read', 'read', 'rw'], flags, constants: { WG: wgPlane } });
  const build = async (g: Gpu, variant: GroupNormVariant, t: BackwardOperands): Promise<Dispatch[]> => {
    const p = params(g, s, 'groupnorm-backward:params');
    const sums = g.tensor([s.n, s.c, 2], 'groupnorm:channel-sums');
    // Per-plane coefficients of dx: 2 vec4 per (sample, channel).
    const planes = g.tensor([s.n, s.c, 8], 'groupnorm:dx-coef');
    const serial = variant === 'serial';
    const rows = s.n * s.c;
    const chan = await gpu.kernel({
      shader: 'groupnorm',
      entry: serial ? 'gn_channel_sums_serial' : 'gn_channel_sums_tree',
      bindings: ['uniform', 'read', 'read', 'read', 'read', 'read', 'rw'],
      flags,
      constants: { WG: serial ? WG_SERIAL : treeWg(s.hw) },
    });
    return [
      chan.bind([p, t.x, t.gamma, t.beta, t.stats, t.dy, sums], serial ? grid1d(rows, WG_SERIAL) : grid1d(rows, 1), `groupnorm-backward:channel-sums:${variant}`),
      reduce.bind([p, t.gamma, t.beta, t.stats, sums, t.dgamma, t.dbeta, planes], grid1d(s.n * s.c, WG_SERIAL), 'groupnorm-backward:reduce'),
      dxKernel.bind([p, t.x, t.dy, planes, t.dx], planeGrid(s.n * s.c, s.hw, wgPlane), 'groupnorm-backward:dx'),
    ];
  };
  const variants = GROUPNORM_VARIANTS.map((name) => ({ name, build: (g: Gpu, t: BackwardOperands) => build(g, name, t) }));
  return (await pickVariant(gpu, `groupnorm-backward:${shapeKey(s)}`, variants, { x, gamma, beta, stats, dy, dx, dgamma, dbeta }, opts.variant)).dispatches;
}
