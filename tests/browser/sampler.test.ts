import { describe, expect, test } from 'vitest';
import { useBrowser } from '../helpers/browser.ts';
import { useGpu } from '../helpers/gpu.ts';
import { expectClose } from '../helpers/expect-close.ts';
import { randn } from '../helpers/random.ts';
import { momentumSample, rngNormals, type MomentumArgs } from './cases/sampler.ts';
import { philoxNormals } from '../reference/rng.ts';

const browser = useBrowser();
const node = useGpu();

describe('same seed, same numbers in Chromium and Node', () => {
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

  test('a short momentum-sampler run with the exact Gaussian denoiser', async () => {
    const dims: [number, number, number, number] = [2, 3, 8, 8];
    const args: MomentumArgs = {
      dims,
      variance: Array.from({ length: 3 * 64 }, (_, i) => 0.05 / (1 + ((Math.floor(i / 8) % 8) ** 2 + (i % 8) ** 2) / 4)),
      x1: Array.from(randn(2 * 3 * 64, 9, 0.1)),
      seed: 42,
      steps: 6,
    };
    const inBrowser = await browser.run<number[]>('momentumSample', args);
    const inNode = await momentumSample(node.gpu, args);
    expect(inBrowser.length).toBe(inNode.length);
    // float32 DCTs over 6 steps on two adapters: differences ~1e-6 on values ~0.2
    expectClose(inBrowser, inNode, { atol: 5e-5, rtol: 1e-4, label: 'momentum sampler Chromium vs Node' });
    const other = await momentumSample(node.gpu, { ...args, seed: 43 });
    expect(Math.max(...other.map((v, i) => Math.abs(v - inNode[i]!)))).toBeGreaterThan(1e-3);
  });
});
