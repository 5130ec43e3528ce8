// Every bench/*.bench.ts, keyed by its `bench.name`.
import type { Bench } from './types.ts';

const modules = import.meta.glob('./*.bench.ts', { eager: true }) as Record<string, { bench: Bench }>;
export const benches: Record<string, Bench> = {};
for (const m of Object.values(modules)) benches[m.bench.name] = m.bench;
