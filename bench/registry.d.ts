import type { Bench } from './types.ts';
export declare const benches: Record<string, Bench>;
