import { describe, expect, test } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { expectClose } from '../helpers/expect-close.ts';
import { randn, f32 } from '../helpers/random.ts';
import { AdamW, decayMask, type AdamWOptions } from '../../src/kernels/adamw.ts';
import { FlatLayout } from '../../src/gpu/flat-layout.ts';
import { ShapeError, ValueError } from '../../src/gpu/errors.ts';
import { adamwStepRef, type AdamWRefOptions, type AdamWRefState } from '../reference/adamw.ts';

const ctx = useGpu();

function smallLayout(): FlatLayout {
  const l = new FlatLayout();
  l.add('conv.weight', [4, 3, 3, 3]);
  l.add('conv.bias', [4]);
  l.add('norm.weight', [4]);
  l.add('lin.weight', [7, 5]);
  l.add('lin.bias', [7]);
  return l;
}

/** Random values on the layout's tensors, zero in the alignment padding. */
function onLayout(layout: FlatLayout, seed: number, scale: number): Float64Array {
  const out = new Float64Array(layout.size);
  const r = randn(layout.size, seed, scale);
  for (const e of layout.entries.values()) {
    const n = e.shape.reduce((a, b) => a * b, 1);
    out.set(r.subarray(e.offset, e.offset + n), e.offset);
  }
  return out;
}

const bit = (mask: Uint32Array) => (i: number) => ((mask[i >>> 5]! >>> (i & 31)) & 1) === 1;

// After several f32 steps m, v, p and ema differ from float64 by rounding only (the update m/sqrt(v) is O(1)
// per step, so lr * 1e-4 relative errors, e.g. from an imprecise pow() in the bias correction, fail this).
const TOL = { atol: 5e-7, rtol: 5e-6 };

async function compareSteps(opts: AdamWOptions, steps: number, gradScale: number, expectClipped: boolean | null) {
  const { gpu } = ctx;
  const layout = smallLayout();
  const p0 = onLayout(layout, 1, 1);
  const params = gpu.upload(f32(p0));
  const grads = gpu.tensor([layout.size]);
  const opt = await AdamW.create(gpu, layout, params, grads, opts);
  const ro: AdamWRefOptions = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, clipNorm: 0, warmupSteps: 0, emaDecay: 0.999, ...opts } as AdamWRefOptions;
  const ref: AdamWRefState = { p: p0.slice(), m: new Float64Array(layout.size), v: new Float64Array(layout.size), ema: p0.slice(), step: 0 };
  const decays = bit(decayMask(layout, opts.decay));
  for (let s = 0; s < steps; s++) {
    const g = onLayout(layout, 100 + s, gradScale);
    gpu.write(grads, f32(g));
    const rec = gpu.recorder('adamw');
    opt.record(rec);
    rec.submit();
    const r = adamwStepRef(ref, f32(g), ro, decays);
    const st = await opt.readState();
    expect(st.step).toBe(s + 1);
    expect(st.gradNorm).toBeCloseTo(r.norm, 4);
    expect(st.clip).toBeCloseTo(r.clip, 6);
    expect(st.lr).toBeCloseTo(r.lr, 9);
    expect(st.bc1 / (1 - ro.beta1 ** (s + 1))).toBeCloseTo(1, 6);
    expect(st.bc2 / (1 - ro.beta2 ** (s + 1))).toBeCloseTo(1, 6);
    if (expectClipped !== null) expect(r.clip < 1).toBe(expectClipped);
  }
  expect(opt.stepCount).toBe(steps);
  expectClose(await gpu.read(opt.m), ref.m, { ...TOL, label: 'm' });
  expectClose(await gpu.read(opt.v), ref.v, { ...TOL, label: 'v' });
  expectClose(await gpu.read(params), ref.p, { ...TOL, label: 'params' });
  expectClose(await gpu.read(opt.ema), ref.ema, { ...TOL, label: 'ema' });
  return { opt, params, layout };
}

describe('AdamW against a float64 reference', () => {
  test('clipping active, warmup, weight decay on weights only, EMA', () =>
    compareSteps({ lr: 1e-2, weightDecay: 0.1, clipNorm: 1, warmupSteps: 3, emaDecay: 0.9 }, 5, 1, true));
  test('clipping inactive (norm below the bound), no warmup', () =>
    compareSteps({ lr: 3e-3, weightDecay: 0.05, clipNorm: 1e3, emaDecay: 0.5 }, 4, 0.1, false));
  test('clipping off, decay applied to everything, betas changed', () =>
    compareSteps({ lr: 1e-3, beta1: 0.8, beta2: 0.95, weightDecay: 0.2, decay: true, emaDecay: 0.99 }, 4, 2, false));

  test('default decay mask skips biases and norm parameters', () => {
    const layout = smallLayout();
    const has = bit(decayMask(layout, undefined));
    const at = (name: string) => layout.entries.get(name)!.offset;
    expect(has(at('conv.weight'))).toBe(true);
    expect(has(at('conv.weight') + 107)).toBe(true);
    expect(has(at('conv.bias'))).toBe(false);
    expect(has(at('norm.weight'))).toBe(false);
    expect(has(at('lin.weight') + 34)).toBe(true);
    expect(has(at('lin.bias'))).toBe(false);
    const named = bit(decayMask(layout, (name) => name.startsWith('lin.')));
    expect(named(at('lin.bias'))).toBe(true);
    expect(named(at('conv.weight'))).toBe(false);
  });

  test('setLearningRate and setStep take effect on the next step', async () => {
    const { gpu } = ctx;
    const layout = smallLayout();
    const params = gpu.upload(f32(onLayout(layout, 1, 1)));
    const grads = gpu.upload(f32(onLayout(layout, 2, 1)));
    const opt = await AdamW.create(gpu, layout, params, grads, { lr: 1e-3, warmupSteps: 10 });
    opt.setStep(20);
    opt.setLearningRate(5e-4);
    const rec = gpu.recorder();
    opt.record(rec);
    rec.submit();
    const st = await opt.readState();
    expect(st.step).toBe(21);
    expect(st.lr).toBeCloseTo(5e-4, 10); // past warmup
    expect(opt.stepCount).toBe(21);
    expect(() => opt.setLearningRate(NaN)).toThrow(ValueError);
    // resetEma copies the parameters as they are now.
    opt.resetEma();
    expect(Array.from(await gpu.read(opt.ema))).toEqual(Array.from(await gpu.read(params)));
  });

  test('a non-finite gradient skips the step and changes nothing', async () => {
    const { gpu } = ctx;
    const layout = smallLayout();
    const p0 = f32(onLayout(layout, 1, 1));
    const params = gpu.upload(p0);
    const g = f32(onLayout(layout, 2, 1));
    g[5] = Infinity;
    const grads = gpu.tensor([layout.size]);
    gpu.device.queue.writeBuffer(grads.buffer, 0, g); // gpu.write refuses non-finite data
    const opt = await AdamW.create(gpu, layout, params, grads, { lr: 1e-2, clipNorm: 1 });
    const rec = gpu.recorder();
    opt.record(rec);
    rec.submit();
    const st = await opt.readState();
    expect(st.step).toBe(0);
    expect(st.skipped).toBe(1);
    expect(Array.from(await gpu.read(params))).toEqual(Array.from(p0));
    expect(Array.from(await gpu.read(opt.m)).every((x) => x === 0)).toBe(true);
  });

  test('bad sizes and options are refused', async () => {
    const { gpu } = ctx;
    const layout = smallLayout();
    const t = gpu.tensor([layout.size]);
    await expect(AdamW.create(gpu, layout, gpu.tensor([layout.size - 1]), t, { lr: 1e-3 })).rejects.toThrow(ShapeError);
    await expect(AdamW.create(gpu, layout, t, gpu.tensor([3]), { lr: 1e-3 })).rejects.toThrow(ShapeError);
    await expect(AdamW.create(gpu, layout, t, gpu.tensor([layout.size]), { lr: 1e-3, beta2: 1 })).rejects.toThrow(ValueError);
    await expect(AdamW.create(gpu, layout, t, gpu.tensor([layout.size]), { lr: 1e-3, warmupSteps: 1.5 })).rejects.toThrow(ValueError);
  });

  test('more than 65535 * 256 elements: the update grid folds and the norm covers every element', async () => {
    const { gpu } = ctx;
    const n = 65535 * 256 + 1000;
    const layout = new FlatLayout();
    layout.add('big.weight', [8, n / 8]); // 2-D: weight decay applies
    // Gradient 1 on every element except a marker of 100 in the last one: the norm (and so the clip
    // factor) is wrong unless the partial sums reach the tail beyond the first 65535 workgroups.
    const g = new Float32Array(layout.size);
    g.fill(1, 0, n);
    g[n - 1] = 100;
    const params = gpu.tensor([layout.size]);
    const p0 = new Float32Array(layout.size).fill(0.5, 0, n);
    gpu.write(params, p0);
    const grads = gpu.upload(g);
    const opts = { lr: 0.01, weightDecay: 0.1, clipNorm: 2, emaDecay: 0.9 };
    const opt = await AdamW.create(gpu, layout, params, grads, opts);
    const rec = gpu.recorder();
    opt.record(rec);
    rec.submit();
    const norm = Math.sqrt(n - 1 + 100 * 100);
    const st = await opt.readState();
    expect(st.gradNorm / norm).toBeCloseTo(1, 5);
    // First Adam step: m/sqrt(v) after bias correction is sign(g) = 1 (up to eps/|g clip|).
    const clip = 2 / (norm + 1e-6);
    const expected = (gi: number) => {
      const c = gi * clip;
      return 0.5 * (1 - 0.01 * 0.1) - (0.01 * c) / (Math.abs(c) + 1e-8);
    };
    const p = await gpu.read(params);
    const e = await gpu.read(opt.ema);
    for (const i of [0, 12345, 65535 * 256 - 1, 65535 * 256, n - 2, n - 1]) {
      expect(p[i]).toBeCloseTo(expected(g[i]!), 6);
      expect(e[i]).toBeCloseTo(0.9 * 0.5 + 0.1 * expected(g[i]!), 6);
    }
    expect(p[n]).toBe(0); // padding stays zero
    for (const b of [params, grads, opt.m, opt.v, opt.ema]) gpu.release(b);
  });
});
