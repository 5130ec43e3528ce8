#!/usr/bin/env node
// `npm run bench:browser -- <name|all> [--key=value ...] [--chrome=PATH] [--chrome-flag=--some-flag ...]`
// Runs the benchmarks in headless Chromium with WebGPU and prints the same JSON lines as Node.
// --chrome picks another browser binary, --chrome-flag adds a flag (repeatable), e.g. on a machine
// with a real GPU: --chrome-flag=--enable-features=Vulkan --chrome-flag=--ignore-gpu-blocklist.
import { resolve } from 'node:path';
import { openPage } from './chromium.mjs';

const argv = process.argv.slice(2);
const names = argv.filter((a) => !a.startsWith('--'));
const opts = {};
const extraArgs = [];
let chrome;
for (const a of argv.filter((x) => x.startsWith('--'))) {
  const eq = a.indexOf('=');
  const k = eq < 0 ? a.slice(2) : a.slice(2, eq);
  const v = eq < 0 ? 'true' : a.slice(eq + 1);
  if (k === 'chrome') chrome = v;
  else if (k === 'chrome-flag') extraArgs.push(v);
  else opts[k] = v;
}
const root = resolve(import.meta.dirname, '..');
// A benchmark call may plan (autotune) for many minutes on SwiftShader: allow an hour per call.
const s = await openPage({ root, path: '/bench/index.html', chrome, extraArgs, protocolTimeout: 3_600_000 });
let rc = 0;
try {
  await s.page.waitForFunction(() => typeof window.softdiffBench === 'function', { timeout: 60_000 });
  const known = await s.page.evaluate(() => window.softdiffBenchNames());
  if (!names.length) {
    console.error(`usage: npm run bench:browser -- <${known.join('|')}|all> [--key=value ...] [--chrome=PATH] [--chrome-flag=FLAG]`);
    rc = 2;
  }
  const run = names.includes('all') ? known : names;
  for (const name of run) {
    const results = await s.page.evaluate((n, o) => window.softdiffBench(n, o), name, opts);
    for (const r of results) console.log(JSON.stringify(r));
  }
} catch (e) {
  console.error(String(e?.message ?? e), s.errors.length ? `\npage errors: ${s.errors.join('\n')}` : '');
  rc = 1;
} finally {
  await s.close();
}
process.exit(rc);
