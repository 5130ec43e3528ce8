import type { Gpu } from '../src/gpu/gpu.ts';
export interface BenchResult {
    /** Benchmark family, e.g. "matmul", "conv", "unet", "sampler". */
    bench: string;
    /** Adapter key (lavapipe, swiftshader, a GPU's description) and the runtime. */
    adapter?: string;
    runtime?: 'node' | 'browser';
    /** What was measured: dimensions, batch, channels... */
    shape: Record<string, number | string>;
    variant?: string;
    /** Milliseconds per run (median). */
    ms: number;
    gflops?: number;
    /** Bytes moved or allocated, where meaningful. */
    bytes?: number;
    [extra: string]: unknown;
}
/** Options from the command line: `npm run bench -- matmul --n=512` gives { n: '512' }. */
export type BenchOptions = Record<string, string>;
export interface Bench {
    name: string;
    description: string;
    run(gpu: Gpu, opts: BenchOptions, emit: (r: BenchResult) => void): Promise<void>;
}
