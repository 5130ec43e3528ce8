// The stratified held-out split: 20% of each MNIST class, fixed by its seed, disjoint and complete.
import { describe, expect, test } from 'vitest';
import { loadMnist } from '../../src/node/datasets.ts';
import { stratifiedSplit } from '../../src/eval/split.ts';
import { ValueError } from '../../src/gpu/errors.ts';

describe('stratified split', () => {
  const data = loadMnist();

  test('MNIST: round(20%) of each class held out, 2,000 in all; disjoint, complete, sorted', () => {
    const { train, heldOut } = stratifiedSplit(data.labels);
    expect(heldOut.length).toBe(2000);
    expect(train.length).toBe(8000);
    const counts = new Array(10).fill(0);
    const held = new Array(10).fill(0);
    for (const l of data.labels) counts[l]++;
    for (const i of heldOut) held[data.labels[i]!]++;
    expect(held).toEqual(counts.map((c) => Math.round(0.2 * c)));
    expect(held).toEqual([200, 225, 198, 206, 196, 173, 203, 214, 189, 196]);
    const all = new Set([...train, ...heldOut]);
    expect(all.size).toBe(10_000);
    for (const a of [train, heldOut]) for (let i = 1; i < a.length; i++) expect(a[i]! > a[i - 1]!).toBe(true);
  });

  test('the same seed gives the same split; another seed another one', () => {
    const a = stratifiedSplit(data.labels, 0.2, 0);
    expect(Array.from(stratifiedSplit(data.labels, 0.2, 0).heldOut)).toEqual(Array.from(a.heldOut));
    const b = stratifiedSplit(data.labels, 0.2, 1);
    expect(Array.from(b.heldOut)).not.toEqual(Array.from(a.heldOut));
    expect(b.heldOut.length).toBe(2000);
  });

  test('bad fractions and labels are refused', () => {
    expect(() => stratifiedSplit([0, 1], 0)).toThrow(ValueError);
    expect(() => stratifiedSplit([0, 1], 1)).toThrow(ValueError);
    expect(() => stratifiedSplit([0, -1], 0.5)).toThrow(/Label -1 of image 1/);
  });
});
