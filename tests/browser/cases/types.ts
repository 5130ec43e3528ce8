import type { Gpu } from '../../../src/gpu/gpu.ts';
/** A browser case: runs on the page's Gpu and returns JSON-serialisable data (numbers, arrays). */
export type BrowserCase = (gpu: Gpu, args: any) => Promise<unknown>;
