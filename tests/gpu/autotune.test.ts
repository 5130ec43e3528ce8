// The autotune (src/gpu/autotune.ts): it times candidates on stand-ins, so planning never writes into
// the caller's tensors (a backward pass with `accumulate` timed on the real gradient would add into it
// once per timing run); its choices are remembered per device and can be exported and re-imported.
import { describe, expect, test } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { randn, f32 } from '../helpers/random.ts';
import { conv2dBackwardInput, conv2dForward, type Conv2dShape } from '../../src/kernels/conv2d.ts';
import { matmul } from '../../src/kernels/matmul.ts';
import { pickVariant } from '../../src/gpu/autotune.ts';
import type { Tensor } from '../../src/gpu/tensor.ts';
import { createNodeGpu } from '../../src/node/device.ts';

const ctx = useGpu();

describe('autotune', () => {
  test('timing the candidates leaves every caller tensor untouched (accumulate included)', async () => {
    const { gpu } = ctx;
    gpu.variants.clear();
    const s: Conv2dShape = { n: 2, cin: 4, h: 6, w: 6, cout: 5, k: 3, stride: 1, pad: 1 };
    const dy = gpu.upload(f32(randn(2 * 5 * 36, 1)), [2, 5, 6, 6]);
    const w = gpu.upload(f32(randn(5 * 4 * 9, 2)), [5, 4, 3, 3]);
    const dx0 = f32(randn(2 * 4 * 36, 3));
    const dx = gpu.upload(dx0, [2, 4, 6, 6]);
    const x = gpu.upload(f32(randn(2 * 4 * 36, 4)), [2, 4, 6, 6]);
    const y0 = f32(randn(2 * 5 * 36, 5));
    const y = gpu.upload(y0, [2, 5, 6, 6]);
    await conv2dBackwardInput(gpu, dy, w, dx, s, { accumulate: true });
    await conv2dForward(gpu, x, w, null, y, s);
    await gpu.done();
    // Both were timed (there are at least two candidates for a 3x3 stride-1 shape on every adapter) ...
    expect(Object.keys(gpu.variants.export('conv2d.')).length).toBe(2);
    // ... and neither output changed during planning.
    expect(Array.from(await gpu.read(dx))).toEqual(Array.from(dx0));
    expect(Array.from(await gpu.read(y))).toEqual(Array.from(y0));
    for (const t of [dy, w, dx, x, y]) gpu.release(t);
  });

  test('stand-ins keep one operand passed under two roles one tensor', async () => {
    const { gpu } = ctx;
    const a = gpu.tensor([4]);
    const seen: Tensor[][] = [];
    const build = async (_: unknown, t: { p: Tensor; q: Tensor }) => (seen.push([t.p, t.q]), []);
    await pickVariant(gpu, 'test:stand-ins', [{ name: 'one', build }, { name: 'two', build }], { p: a, q: a });
    expect(seen.length).toBe(3); // two timed on stand-ins, the winner built on the real operands
    expect(seen[0]![0]).toBe(seen[0]![1]);
    expect(seen[0]![0]).not.toBe(a);
    expect(seen[2]![0]).toBe(a);
    gpu.release(a);
  });

  test('choices export by prefix and re-import into another device, where they are used without timing', async () => {
    const { gpu } = ctx;
    const a = gpu.upload(f32(randn(64 * 64, 6)), [64, 64]);
    const c = gpu.tensor([64, 64]);
    await matmul(gpu, a, a, c);
    const saved = gpu.variants.export('matmul:');
    expect(Object.keys(saved).length).toBeGreaterThan(0);
    expect(Object.keys(saved).every((k) => k.startsWith('matmul:'))).toBe(true);
    const other = await createNodeGpu();
    expect(other.variants.size).toBe(0);
    other.variants.import(saved);
    let timed = 0;
    const key = Object.keys(saved)[0]!;
    const build = async () => (timed++, []);
    const choice = await pickVariant(other, key, [{ name: saved[key]!, build }, { name: 'x', build }], {});
    expect(choice.name).toBe(saved[key]);
    expect(choice.timings).toEqual({});
    expect(timed).toBe(1);
    other.destroy();
    for (const t of [a, c]) gpu.release(t);
  });
});
