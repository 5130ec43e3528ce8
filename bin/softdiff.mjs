#!/usr/bin/env node
// Entry of `npx softdiff`: runs the built CLI (dist/cli.js; `npm run build` makes it).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
if (!existsSync(cli)) {
  console.error('softdiff: dist/cli.js is missing; run `npm run build` first.');
  process.exit(1);
}
const { main } = await import(cli);
main(process.argv.slice(2)).catch((e) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
