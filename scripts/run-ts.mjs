#!/usr/bin/env node
// Runs a TypeScript entry (bench/node.ts, src/cli/main.ts...) straight from the sources through Vite's
// SSR module loader, so `?raw` shader imports and import.meta.glob work without a build step and
// without touching dist/. Usage: node scripts/run-ts.mjs <entry.ts> [args...]; the entry's `main(argv)`
// export is called if present.
import { createServer } from 'vite';
import { resolve } from 'node:path';

const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  console.error('usage: node scripts/run-ts.mjs <entry.ts> [args...]');
  process.exit(2);
}
const root = resolve(import.meta.dirname, '..');
const server = await createServer({
  root,
  configFile: false,
  logLevel: 'error',
  server: { middlewareMode: true, hmr: false, ws: false },
  appType: 'custom',
  optimizeDeps: { noDiscovery: true, include: [] },
});
let rc = 0;
try {
  const mod = await server.ssrLoadModule(resolve(root, entry));
  if (typeof mod.main === 'function') await mod.main(args);
} catch (e) {
  console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
  rc = 1;
} finally {
  await server.close();
}
process.exit(process.exitCode ?? rc);
