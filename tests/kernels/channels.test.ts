import { describe, expect, test } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { expectClose } from '../helpers/expect-close.ts';
import { checkGradients } from '../helpers/gradcheck.ts';
import { randn, f32 } from '../helpers/random.ts';
import { addChannelBias, channelBiasBackward, concatChannels, splitChannelsBackward, type ChannelBiasShape, type ConcatShape } from '../../src/kernels/channels.ts';
import { addChannelBiasRef, channelBiasBackwardRef, concatChannelsRef, splitChannelsRef } from '../reference/channels.ts';
import { ShapeError, ValueError } from '../../src/gpu/errors.ts';
import type { Dispatch } from '../../src/gpu/kernel.ts';

const ctx = useGpu();
const run = (ds: Dispatch[]) => ctx.gpu.recorder().run(ds).submit();
const f64 = (a: Float32Array) => Float64Array.from(a);

describe('channel references', () => {
  test('channel bias backward matches finite differences', () => {
    const s = { n: 2, c: 3, hw: 5 };
    checkGradients(
      ([x, b]) => addChannelBiasRef(x!, b!, s),
      (_, dy) => [dy, channelBiasBackwardRef(dy, s)],
      [randn(30, 1), randn(6, 2)],
      { names: ['x', 'bias'] },
    );
  });
  test('split is the backward of concat (finite differences)', () => {
    const s = { n: 2, ca: 3, cb: 2, hw: 4 };
    checkGradients(
      ([a, b]) => concatChannelsRef(a!, b!, s),
      (_, d) => {
        const r = splitChannelsRef(d, s);
        return [r.da, r.db];
      },
      [randn(24, 3), randn(16, 4)],
      { names: ['a', 'b'] },
    );
  });
});

// Batch 1, odd spatial sizes, 1x1 planes, channel counts that are not multiples of 4.
const biasShapes: ChannelBiasShape[] = [
  { n: 1, c: 3, hw: 35 },
  { n: 3, c: 5, hw: 9 },
  { n: 2, c: 7, hw: 1 },
  { n: 2, c: 6, hw: 1025 },
];
const concatShapes: ConcatShape[] = [
  { n: 1, ca: 3, cb: 5, hw: 7 },
  { n: 2, ca: 6, cb: 1, hw: 25 },
  { n: 3, ca: 1, cb: 1, hw: 1 },
];

describe('channel kernels on the GPU against the float64 references', () => {
  // Pure data movement and one add per element: exact in float32 except the hw-long sums of dbias.
  for (const s of biasShapes)
    test(`channel bias forward (out of place, in place) and backward ${s.n}x${s.c}x${s.hw}`, async () => {
      const { gpu } = ctx;
      const size = s.n * s.c * s.hw;
      const x32 = f32(randn(size, 1));
      const b32 = f32(randn(s.n * s.c, 2));
      const dy32 = f32(randn(size, 3));
      const x = gpu.upload(x32);
      const bias = gpu.upload(b32);
      const y = gpu.tensor([s.n, s.c, s.hw]);
      const inPlace = gpu.upload(x32);
      const dy = gpu.upload(dy32);
      const dbias = gpu.tensor([s.n, s.c]);
      run([...(await addChannelBias(gpu, x, bias, y, s)), ...(await addChannelBias(gpu, inPlace, bias, inPlace, s)), ...(await channelBiasBackward(gpu, dy, dbias, s))]);
      const ref = addChannelBiasRef(f64(x32), f64(b32), s);
      expectClose(await gpu.read(y), ref, { atol: 1e-30, rtol: 1e-7, label: 'y' });
      expectClose(await gpu.read(inPlace), ref, { atol: 1e-30, rtol: 1e-7, label: 'y in place' });
      expect(await gpu.read(x), 'x untouched').toEqual(x32);
      // Sums of up to 1025 standard normals: float32 error ~ sqrt(hw) * 6e-8 * |partial sums|.
      expectClose(await gpu.read(dbias), channelBiasBackwardRef(f64(dy32), s), { atol: 2e-5, rtol: 1e-5, label: 'dbias' });
    });

  for (const s of concatShapes)
    test(`concat and split (overwrite, accumulate) ${s.n}x(${s.ca}+${s.cb})x${s.hw}`, async () => {
      const { gpu } = ctx;
      const na = s.n * s.ca * s.hw;
      const nb = s.n * s.cb * s.hw;
      const a32 = f32(randn(na, 4));
      const b32 = f32(randn(nb, 5));
      const d32 = f32(randn(na + nb, 6));
      const pa = f32(randn(na, 7));
      const pb = f32(randn(nb, 8));
      const out = gpu.tensor([na + nb]);
      const dout = gpu.upload(d32);
      const [da, db] = [gpu.tensor([na]), gpu.tensor([nb])];
      const [daAcc, dbAcc] = [gpu.upload(pa), gpu.upload(pb)];
      run([
        ...(await concatChannels(gpu, gpu.upload(a32), gpu.upload(b32), out, s)),
        ...(await splitChannelsBackward(gpu, dout, da, db, s)),
        ...(await splitChannelsBackward(gpu, dout, daAcc, dbAcc, s, { accumulate: true })),
      ]);
      expect(Array.from(await gpu.read(out)), 'concat').toEqual(Array.from(concatChannelsRef(f64(a32), f64(b32), s)));
      const ref = splitChannelsRef(f64(d32), s);
      expect(Array.from(await gpu.read(da)), 'da').toEqual(Array.from(ref.da));
      expect(Array.from(await gpu.read(db)), 'db').toEqual(Array.from(ref.db));
      expectClose(await gpu.read(daAcc), ref.da.map((v, i) => v + pa[i]!), { atol: 1e-6, rtol: 1e-6, label: 'da accumulated' });
      expectClose(await gpu.read(dbAcc), ref.db.map((v, i) => v + pb[i]!), { atol: 1e-6, rtol: 1e-6, label: 'db accumulated' });
    });

  test('bad shapes get typed errors', async () => {
    const { gpu } = ctx;
    const t = (n: number) => gpu.tensor([n]);
    await expect(addChannelBias(gpu, t(12), t(3), t(12), { n: 1, c: 4, hw: 3 })).rejects.toThrow(ShapeError);
    await expect(addChannelBias(gpu, t(12), t(4), t(11), { n: 1, c: 4, hw: 3 })).rejects.toThrow(ShapeError);
    const big = t(24);
    await expect(addChannelBias(gpu, big.view(0, [12]), t(4), big.view(4, [12]), { n: 1, c: 4, hw: 3 })).rejects.toThrow(ShapeError);
    await expect(channelBiasBackward(gpu, t(12), t(4), { n: 1, c: 4, hw: 0 })).rejects.toThrow(ValueError);
    await expect(concatChannels(gpu, t(6), t(4), t(9), { n: 1, ca: 3, cb: 2, hw: 2 })).rejects.toThrow(ShapeError);
    await expect(splitChannelsBackward(gpu, t(10), t(6), t(5), { n: 1, ca: 3, cb: 2, hw: 2 })).rejects.toThrow(ShapeError);
  });
});
