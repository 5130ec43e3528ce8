// The test side of the kernel-usage record (src/gpu/kernel-usage.ts): at the end of a test file the
// harness writes each device's report (Node's, and the Chromium page's) under .vitest/kernel-usage/,
// tagged with the run (SOFTDIFF_RUN_ID, set once per vitest invocation in vite.config.ts) and the test
// file; tests/gpu/kernel-usage.test.ts reads every report of its run after all other files finished.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { KernelUsageReport } from '../../src/gpu/kernel-usage.ts';

const root = resolve(import.meta.dirname, '../..');
export const USAGE_DIR = join(root, '.vitest/kernel-usage');

export interface UsageRecord {
  run: string;
  file: string;
  runtime: 'node' | 'browser';
  adapter: string;
  report: KernelUsageReport;
}

let count = 0;

/** Store one device's report for this run (nothing outside a vitest run that set the run id). */
export function writeUsage(file: string | undefined, runtime: UsageRecord['runtime'], adapter: string, report: KernelUsageReport): void {
  const run = process.env.SOFTDIFF_RUN_ID;
  if (!run) return;
  mkdirSync(USAGE_DIR, { recursive: true });
  const record: UsageRecord = { run, file: file ? relative(root, file) : 'unknown', runtime, adapter, report };
  writeFileSync(join(USAGE_DIR, `${run}-${process.pid}-${count++}.json`), JSON.stringify(record));
}

/** Every report of the current run; reports of earlier runs are deleted. */
export function readUsage(): UsageRecord[] {
  const run = process.env.SOFTDIFF_RUN_ID;
  let names: string[] = [];
  try {
    names = readdirSync(USAGE_DIR);
  } catch {
    return [];
  }
  const out: UsageRecord[] = [];
  for (const n of names) {
    if (n.startsWith(`${run}-`)) out.push(JSON.parse(readFileSync(join(USAGE_DIR, n), 'utf8')) as UsageRecord);
    else rmSync(join(USAGE_DIR, n), { force: true });
  }
  return out;
}
