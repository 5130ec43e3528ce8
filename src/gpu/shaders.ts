// Every shaders/*.wgsl file, as text, keyed by its stem ("matmul" for shaders/matmul.wgsl).
// Vite inlines them at build time, so the core bundle carries its kernels and needs no file access.
import { ShaderError } from './errors.ts';

const files = import.meta.glob('../../shaders/*.wgsl', { query: '?raw', import: 'default', eager: true }) as Record<
  string,
  string
>;

const byStem = new Map<string, string>();
for (const [path, text] of Object.entries(files)) byStem.set(path.replace(/^.*\//, '').replace(/\.wgsl$/, ''), text);

export function shaderSource(stem: string): string {
  return expandIncludes(stem, new Set());
}

/** A line `#include <stem>` is replaced by that file's text (once per shader), so that shared WGSL
 *  functions (e.g. the counter-based RNG) are written once and fused into the kernels that need them. */
const INCLUDE = /^[ \t]*#include[ \t]+([A-Za-z_][A-Za-z0-9_]*)[ \t]*$/gm;

function expandIncludes(stem: string, seen: Set<string>): string {
  const src = byStem.get(stem);
  if (src === undefined) throw new ShaderError(`No shader named ${stem}; known: ${[...byStem.keys()].sort().join(', ')}`);
  seen.add(stem);
  return src.replace(INCLUDE, (_, name: string) => (seen.has(name) ? '' : expandIncludes(name, seen)));
}

/** The shared files `stem` pulls in with #include, directly or through another include. */
export function shaderIncludes(stem: string): string[] {
  const seen = new Set<string>();
  expandIncludes(stem, seen);
  seen.delete(stem);
  return [...seen].sort();
}

export function shaderNames(): string[] {
  return [...byStem.keys()].sort();
}
