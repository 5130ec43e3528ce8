// The fixed, seeded, stratified split of a labelled data set: a fraction of each class held out (the
// reference set of every quality metric, never seen by the classifier), the rest for training the
// classifier. Stratified because the `mnist` package stores its digits class by class: "the last
// 2,000" would be only 8s and 9s.
import { ValueError } from '../gpu/errors.ts';
import { HostRng, mixSeed, permutation } from '../base/host-rng.ts';

/** The project's split: 20% of each class, seed 0 (MNIST: 2,000 held-out digits, 8,000 for training). */
export const HELD_OUT_FRACTION = 0.2;
export const SPLIT_SEED = 0;

export interface Split {
  /** Indices into the data set, ascending. */
  train: Uint32Array;
  heldOut: Uint32Array;
}

/**
 * For each class c with n_c images, round(fraction * n_c) of them, chosen by a permutation seeded with
 * mixSeed(seed, c), are held out. Indices come back sorted, so the split does not depend on the order
 * of the classes in the file.
 */
export function stratifiedSplit(labels: ArrayLike<number>, fraction = HELD_OUT_FRACTION, seed = SPLIT_SEED): Split {
  if (!(fraction > 0 && fraction < 1)) throw new ValueError(`The held-out fraction must be in (0, 1), got ${fraction}.`);
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i]!;
    if (!Number.isInteger(c) || c < 0) throw new ValueError(`Label ${c} of image ${i} is not a class index.`);
    let list = byClass.get(c);
    if (!list) byClass.set(c, (list = []));
    list.push(i);
  }
  const train: number[] = [];
  const heldOut: number[] = [];
  for (const [c, idx] of byClass) {
    const perm = permutation(idx.length, new HostRng(mixSeed(seed, c)));
    const k = Math.round(fraction * idx.length);
    perm.forEach((p, j) => (j < k ? heldOut : train).push(idx[p]!));
  }
  const sorted = (a: number[]) => Uint32Array.from(a.sort((x, y) => x - y));
  return { train: sorted(train), heldOut: sorted(heldOut) };
}
