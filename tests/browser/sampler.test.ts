import { describe, expect, test } from 'vitest';
import { useBrowser } from '../helpers/browser.ts';
import { useGpu } from '../helpers/gpu.ts';
import { expectClose } from '../helpers/expect-close.ts';
import { randn } from '../helpers/random.ts';
import { MOMENTUM_SCHEDULES, momentumSample, rngNormals, type MomentumArgs } from './cases/sampler.ts';
import { sampleRef, type RefSetup } from '../reference/sampler.ts';
import { philoxNormals } from '../reference/rng.ts';

const browser = useBrowser();
const node = useGpu();

describe('the RNG and a sampler in Chromium against float64 (and Node)', () => {
  test('RNG normals', async () => {
    const args = { n: 4099, seed: 1234, step: 17, stream: 2 };
    const inBrowser = await browser.run<number[]>('rngNormals', args);
    const inNode = await rngNormals(node.gpu, args);
    // The Philox integers are identical; only Box-Muller's log/sqrt/sin/cos rounding differs. WGSL
    // allows sin/cos an absolute error of 2^-11 on [-pi, pi], times r <= 5.9: 2.9e-3 at worst
    // (SwiftShader measured 6.3e-4 at |z| = 3.3). The typical difference must stay far smaller.
    expectClose(inBrowser, inNode, { atol: 3e-3, rtol: 0, label: 'Chromium vs Node' });
    expectClose(inBrowser, philoxNormals(args.n, args.seed, args.step, args.stream), { atol: 3e-3, rtol: 0, label: 'Chromium vs float64' });
    const meanAbs = inBrowser.reduce((s, v, i) => s + Math.abs(v - inNode[i]!), 0) / args.n;
    expect(meanAbs).toBeLessThan(1e-4);
  });

  test('a short momentum-sampler run with the exact Gaussian denoiser matches the float64 sampler', async () => {
    const dims: [number, number, number, number] = [2, 3, 8, 8];
    const args: MomentumArgs = {
      dims,
      variance: Array.from({ length: 3 * 64 }, (_, i) => 0.05 / (1 + ((Math.floor(i / 8) % 8) ** 2 + (i % 8) ** 2) / 4)),
      x1: Array.from(randn(2 * 3 * 64, 9, 0.1)),
      seed: 42,
      steps: 6,
    };
    const inBrowser = await browser.run<number[]>('momentumSample', args);
    // The float64 sampler driven by the Philox reference's noise, with the same schedules as the case.
    const { blur, noise } = MOMENTUM_SCHEDULES(dims[2]);
    const setup: RefSetup = { dims, variance: Float64Array.from(args.variance), blur: (t) => blur.at(t), sigma: (t) => noise.at(t) };
    const ref = sampleRef(setup, 'momentum', args.steps, Float64Array.from(args.x1), args.seed).x;
    expect(inBrowser.length).toBe(ref.length);
    // float32 DCTs over 6 steps, plus the adapter's Box-Muller rounding on noise scaled by <= 0.1
    // (see the RNG test): the Node run of the same comparison (tests/diffusion/samplers.test.ts)
    // allows 2e-5 + 1e-4 relative; SwiftShader's coarser sin/cos gave 4.1e-5 at most here.
    expectClose(inBrowser, ref, { atol: 2e-4, rtol: 1e-4, label: 'momentum sampler in Chromium vs float64' });
    // and Node's lavapipe agrees with both
    const inNode = await momentumSample(node.gpu, args);
    expectClose(inNode, ref, { atol: 2e-5, rtol: 1e-4, label: 'momentum sampler in Node vs float64' });
    const other = await momentumSample(node.gpu, { ...args, seed: 43 });
    expect(Math.max(...other.map((v, i) => Math.abs(v - inNode[i]!)))).toBeGreaterThan(1e-3);
  });
});
