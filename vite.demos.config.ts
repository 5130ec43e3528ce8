// The demo app (demos/index.html) and the embedding example (demos/embed/index.html):
//   npx vite --config vite.demos.config.ts                 dev server on http://127.0.0.1:5173/
//   npx vite build --config vite.demos.config.ts           static site in dist-demos/
//   npx vite preview --config vite.demos.config.ts         serve that build
// The training worker is bundled as an ES module worker (it imports the engine and its shaders).
import { defineConfig } from 'vite';
import { resolve } from 'node:path';

const repo = import.meta.dirname;

export default defineConfig({
  root: resolve(repo, 'demos'),
  base: './',
  // WebGPU needs a secure context: localhost / 127.0.0.1 qualify, a LAN address over http does not.
  server: { host: '127.0.0.1', fs: { allow: [repo] } },
  preview: { host: '127.0.0.1' },
  worker: { format: 'es' },
  build: {
    outDir: resolve(repo, 'dist-demos'),
    emptyOutDir: true,
    target: 'es2023',
    sourcemap: true,
    rolldownOptions: {
      input: {
        main: resolve(repo, 'demos/index.html'),
        embed: resolve(repo, 'demos/embed/index.html'),
        lab: resolve(repo, 'demos/lab/index.html'),
      },
    },
  },
});
