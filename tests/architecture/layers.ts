// The layers of src/ (docs/architecture.md draws them) and the checker the layering test runs: a file
// may import from its own folder or from a folder of a LOWER rank, never from one of the same or a
// higher rank. Folders of one rank (kernels, data, io) are siblings that do not know each other.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/** src/<folder> -> rank. A new folder must be placed here (the test says so). */
export const LAYERS: Record<string, number> = {
  base: 0, // host-side definitions every layer may use: the seeded host RNG
  gpu: 1, // device, scopes and ownership, tensors, kernel cache, recorder, autotune, errors
  kernels: 2, // one TS file (or folder) per op family: validates shapes, builds dispatches
  data: 2, // data sets and the batch streamer
  io: 2, // safetensors, checkpoint metadata, image grids
  nn: 3, // modules with explicit forward/backward; the U-Net
  diffusion: 4, // corruptions, schedules, losses, GPU RNG, samplers, prior, level scheduler
  sample: 5, // sampling runs from trained weights
  train: 6, // the trainer: step builder, state/restore, loop
  eval: 6, // sample quality: feature classifier, metrics, evaluator (a sibling of train)
  api: 7, // the one-call API (SoftDiffusion): checkpoint -> samples, data -> trainer
  node: 7, // Node only: Dawn device, files, progress
  cli: 8, // the `softdiff` command
};

/** Files at the top of src/ (the package entry) may import any layer but these. */
export const ROOT_FORBIDDEN = ['node', 'cli'];

export interface Violation {
  file: string;
  imports: string;
  why: string;
}

/** Relative import specifiers of a TypeScript source (static, re-export and dynamic imports). */
export function importsOf(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const out: string[] = [];
  for (const m of code.matchAll(/(?:^|\s)(?:import|export)\s[^'";]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s*['"]([^'"]+)['"]/gm)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (spec?.startsWith('.')) out.push(spec);
  }
  return out;
}

/** The src/ folder of a path relative to the repository (null for files at src/'s top or outside src/). */
function folderOf(rel: string): string | null {
  const parts = rel.split('/');
  return parts[0] === 'src' && parts.length > 2 ? parts[1]! : null;
}

/** Layering violations among `files` (repository-relative path -> source text). */
export function layeringViolations(files: Map<string, string>, layers = LAYERS): Violation[] {
  const out: Violation[] = [];
  for (const [file, text] of files) {
    const from = folderOf(file);
    for (const spec of importsOf(text)) {
      const target = relative('.', join(dirname(file), spec)).replaceAll('\\', '/');
      const to = folderOf(target);
      if (!target.startsWith('src/') || to === null || to === from) continue;
      if (!(to in layers)) {
        out.push({ file, imports: target, why: `src/${to}/ has no layer: add it to LAYERS in tests/architecture/layers.ts and to docs/architecture.md` });
        continue;
      }
      if (from === null) {
        if (file.startsWith('src/') && ROOT_FORBIDDEN.includes(to)) out.push({ file, imports: target, why: `the package entry must not import src/${to}/` });
        if (file.startsWith('demos/') && ROOT_FORBIDDEN.includes(to)) out.push({ file, imports: target, why: `the browser demo must not import src/${to}/` });
        continue;
      }
      if (!(from in layers)) {
        out.push({ file, imports: target, why: `src/${from}/ has no layer: add it to LAYERS in tests/architecture/layers.ts and to docs/architecture.md` });
        continue;
      }
      if (layers[to]! >= layers[from]!)
        out.push({ file, imports: target, why: `src/${from}/ (layer ${layers[from]}) may only import lower layers; src/${to}/ is layer ${layers[to]}` });
    }
  }
  return out;
}

/** Every .ts file under `dirs` of the repository at `root`, by repository-relative path. */
export function readSources(root: string, dirs: string[]): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts')) files.set(relative(root, p).replaceAll('\\', '/'), readFileSync(p, 'utf8'));
    }
  };
  for (const d of dirs) walk(resolve(root, d));
  return files;
}
