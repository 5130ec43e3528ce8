// A trainer's whole state in and out: reading it back from the GPU (every flat copy checked finite),
// and restoring it from a decoded checkpoint, validated before anything is written (the options must
// equal the trainer's, the data set must be the one it was trained on, every tensor must fit the
// network). The file format itself is checkpoint-state.ts; the host side (step counter, host RNG,
// last loss, prior bank) stays the trainer's, which passes and receives it here.
import { CheckpointError } from '../gpu/errors.ts';
import type { Dataset } from '../data/dataset.ts';
import type { Gpu } from '../gpu/gpu.ts';
import { stateForLayout, STATE_KIND, type DecodedCheckpoint, type FlatCopy, type TrainingState, type VariantRecord } from './checkpoint-state.ts';
import type { ResolvedOptions } from './options.ts';
import type { TrainingPlan } from './step-builder.ts';

/** The host side of a trainer's state. */
export interface HostState {
  step: number;
  hostRng: number;
  lastLoss: number | null;
  priorBank: Float32Array;
}

/** One flat copy (weights, EMA, Adam moments) read back in the network's layout. */
export async function readFlatCopy(plan: TrainingPlan, which: FlatCopy): Promise<Float32Array> {
  const { net, optimizer } = plan;
  if (which === 'model') return net.readFlat('params');
  return net.gpu.read(which === 'ema' ? optimizer.ema : which === 'adam_m' ? optimizer.m : optimizer.v);
}

/** The first flat copy holding a non-finite value, or null. */
export function nonFiniteCopy(flat: Record<FlatCopy, Float32Array>): FlatCopy | null {
  for (const copy of Object.keys(flat) as FlatCopy[]) if (!flat[copy].every(Number.isFinite)) return copy;
  return null;
}

/** Every flat copy read back (waits for queued work). */
export async function readFlatCopies(plan: TrainingPlan): Promise<Record<FlatCopy, Float32Array>> {
  const { m, v, ema } = await plan.optimizer.exportState();
  return { model: await plan.net.readFlat('params'), ema, adam_m: m, adam_v: v };
}

/** The state of a trainer as a checkpoint holds it. */
export async function captureState(plan: TrainingPlan, flat: Record<FlatCopy, Float32Array>, host: HostState, options: ResolvedOptions, ds: Dataset): Promise<TrainingState> {
  return {
    fields: {
      kind: STATE_KIND,
      options,
      step: host.step,
      dataset: { name: ds.name, channels: ds.channels, size: ds.size, length: ds.length },
      hostRng: host.hostRng,
      streamer: plan.streamer.state,
      gpuRng: { seed: plan.rng.seed, counter: host.step },
      adamStep: (await plan.optimizer.readState()).step,
      lastLoss: host.lastLoss,
      variants: variantRecord(plan.net.gpu),
    },
    flat,
    priorBank: host.priorBank,
  };
}

/**
 * Validate `ckpt` against the trainer (options, data set, layout, RNG seed), then write it into the
 * plan: data stream, weights, Adam moments, EMA and step. Returns the host side to adopt. Throws a
 * CheckpointError, having changed nothing, when anything does not match.
 */
export function restoreState(plan: TrainingPlan, ckpt: DecodedCheckpoint, options: ResolvedOptions, ds: Dataset): HostState {
  const f = ckpt.fields;
  const mismatch = firstDifference(f.options, options);
  if (mismatch) throw new CheckpointError(`${ckpt.source} was written with a different configuration (${mismatch}).`, 'Resume with the options stored in the checkpoint (Trainer.fromCheckpoint / `softdiff train --resume`).');
  checkDataset(ckpt, ds);
  const s = stateForLayout(ckpt, plan.net.flatLayout);
  if (f.gpuRng.seed !== plan.rng.seed) throw new CheckpointError(`${ckpt.source}: GPU RNG seed ${f.gpuRng.seed} does not match ${plan.rng.seed}.`);
  plan.streamer.restore(f.streamer); // validates before changing anything
  plan.net.setParameters(s.flat.model);
  plan.optimizer.importState({ m: s.flat.adam_m, v: s.flat.adam_v, ema: s.flat.ema, step: f.adamStep });
  return { step: f.step, hostRng: f.hostRng, lastLoss: f.lastLoss ?? null, priorBank: s.priorBank };
}

/** A CheckpointError unless `ckpt` was trained on this data set (name, size and length). */
export function checkDataset(ckpt: DecodedCheckpoint, ds: Dataset): void {
  const d = ckpt.fields.dataset;
  if (d.name !== ds.name || d.channels !== ds.channels || d.size !== ds.size || d.length !== ds.length)
    throw new CheckpointError(
      `${ckpt.source} was trained on '${d.name}' (${d.length} images, ${d.channels}x${d.size}x${d.size}), not on '${ds.name}' (${ds.length} images, ${ds.channels}x${ds.size}x${ds.size}).`,
      'Resume with the same data set (a changed data set would break the exact continuation of the data order).',
    );
}

/** A readable description of the first difference between two JSON values, or null. */
export function firstDifference(a: unknown, b: unknown, path = 'options'): string | null {
  if (typeof a !== typeof b || Array.isArray(a) !== Array.isArray(b) || (a === null) !== (b === null)) return `${path}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`;
  if (a && typeof a === 'object') {
    const ka = Object.keys(a as object);
    const kb = Object.keys(b as object);
    for (const k of new Set([...ka, ...kb])) {
      const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
      if (d) return d;
    }
    return null;
  }
  return a === b ? null : `${path}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`;
}

/** The device's kernel variant choices as a checkpoint stores them. */
export function variantRecord(gpu: Gpu): VariantRecord {
  return { adapter: gpu.adapter.key, policy: gpu.variants.policy, choices: gpu.variants.export() };
}

/**
 * Pin the kernel variants a checkpoint's run used, before the resumed trainer is planned, so that the
 * resumed steps compute exactly what the uninterrupted run would have. Choices timed on another
 * adapter are not imported (they would be slow there); the 'first' policy is adapter-independent and
 * always adopted. Returns what was done, in words, or null when the checkpoint records nothing.
 */
export function adoptVariantChoices(gpu: Gpu, record: VariantRecord | undefined): string | null {
  if (!record) return null;
  if (record.policy === 'first') gpu.variants.policy = 'first';
  if (record.adapter !== gpu.adapter.key) {
    return record.policy === 'first'
      ? `the checkpoint's kernel variants were pinned (first variant of each op); kept on this adapter (${gpu.adapter.key})`
      : `the checkpoint's kernel variants were timed on adapter ${record.adapter}, not this one (${gpu.adapter.key}); timing them anew, so the resumed steps may differ from an uninterrupted run in the last bits`;
  }
  gpu.variants.import(record.choices);
  return `reusing the ${Object.keys(record.choices).length} kernel variant choices stored in the checkpoint`;
}
