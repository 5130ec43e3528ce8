// One config for the library build (core + Node entry + CLI), the demos and the test projects.
import { defineConfig } from 'vitest/config';
import { resolve } from 'node:path';

const root = import.meta.dirname;

export default defineConfig({
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2023',
    minify: false,
    sourcemap: true,
    lib: {
      entry: {
        index: resolve(root, 'src/index.ts'),
        node: resolve(root, 'src/node/index.ts'),
        cli: resolve(root, 'src/cli/main.ts'),
      },
      formats: ['es'],
    },
    rolldownOptions: {
      // Dawn and Node built-ins stay imports; the core entry never references them.
      external: ['webgpu', /^node:/, 'pngjs', 'jpeg-js', 'commander', 'cli-progress', 'mnist', 'emoji-datasource-google'],
    },
  },
  test: {
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // The kernel-usage reports of one run carry its id (tests/helpers/kernel-usage.ts); scripts/test.sh
    // sets it for both of its vitest invocations.
    env: { XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp', SOFTDIFF_RUN_ID: process.env.SOFTDIFF_RUN_ID ?? `${Date.now()}-${process.pid}` },
    // tests/after-all/ checks what the whole run did (which kernels were dispatched), so scripts/test.sh
    // runs it in a second invocation (SOFTDIFF_AFTER_ALL=1) once the node and browser projects are done.
    projects:
      process.env.SOFTDIFF_AFTER_ALL === '1'
        ? [{ extends: true, test: { name: 'after-all', include: ['tests/after-all/**/*.test.ts'] } }]
        : [
            { extends: true, test: { name: 'node', include: ['tests/**/*.test.ts'], exclude: ['tests/browser/**', 'tests/after-all/**'] } },
            { extends: true, test: { name: 'browser', include: ['tests/browser/**/*.test.ts'] } },
          ],
  },
});
