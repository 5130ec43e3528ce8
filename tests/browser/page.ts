// The browser side of the browser tests: creates the engine on navigator.gpu (SwiftShader in headless
// Chromium) and exposes every case registered in tests/browser/cases/*.ts as window.softdiffCases.
// Cases compute on the GPU and return plain data; the Node side compares it with float64 references.
import { Gpu } from '../../src/gpu/gpu.ts';
import type { BrowserCase } from './cases/types.ts';
import type { KernelUsageReport } from '../../src/gpu/kernel-usage.ts';

const modules = import.meta.glob('./cases/*.ts', { eager: true }) as Record<string, { cases?: Record<string, BrowserCase> }>;
const cases: Record<string, BrowserCase> = {};
for (const m of Object.values(modules)) Object.assign(cases, m.cases ?? {});

declare global {
  interface Window {
    softdiffReady: Promise<{ adapter: string; software: boolean }>;
    softdiffRun: (name: string, args: unknown) => Promise<unknown>;
    softdiffUsage: () => Promise<KernelUsageReport>;
  }
}

let gpuPromise: Promise<Gpu> | null = null;
const gpu = () => (gpuPromise ??= Gpu.create(navigator.gpu, { runtime: 'browser' }));

window.softdiffReady = gpu().then((g) => {
  document.getElementById('status')!.textContent = `ready: ${g.adapter.key}`;
  return { adapter: g.adapter.key, software: g.adapter.software };
});
window.softdiffUsage = async () => (await gpu()).usage.report();
window.softdiffRun = async (name, args) => {
  const c = cases[name];
  if (!c) throw new Error(`no browser case ${name}; known: ${Object.keys(cases).join(', ')}`);
  return c(await gpu(), args);
};
