// One engine Gpu per test file, on Dawn (lavapipe on a CPU-only machine). Call inside describe/top level:
//   const ctx = useGpu();  ... ctx.gpu in tests. At the end it records which kernels ran (kernel-usage.ts).
import { afterAll, beforeAll, expect } from 'vitest';
import { writeUsage } from './kernel-usage.ts';
import { createNodeGpu, releaseNodeGpu } from '../../src/node/device.ts';
import type { Gpu } from '../../src/gpu/gpu.ts';

export function useGpu(): { gpu: Gpu } {
  const ctx = {} as { gpu: Gpu };
  beforeAll(async () => {
    ctx.gpu = await createNodeGpu();
  });
  afterAll(async () => {
    if (ctx.gpu) {
      await ctx.gpu.done();
      writeUsage(expect.getState().testPath, 'node', ctx.gpu.adapter.key, ctx.gpu.usage.report());
      ctx.gpu.destroy();
    }
    releaseNodeGpu();
  });
  return ctx;
}
