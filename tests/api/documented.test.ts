// Every option a user of the one-call API can pass has TSDoc (what editors show on hover, and what
// `npm run docs` renders): each property of these interfaces is preceded by a /** ... */ comment.
import { describe, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');

/** Property names of `export interface name` in `file` that have no doc comment right above them. */
export function undocumented(source: string, name: string): string[] {
  const lines = source.split('\n');
  const start = lines.findIndex((l) => new RegExp(`^export interface ${name}\\b`).test(l));
  if (start < 0) throw new Error(`interface ${name} not found`);
  const missing: string[] = [];
  let depth = 0;
  for (let i = start; i < lines.length; i++) {
    const line = lines[i]!;
    const prop = depth === 1 ? /^\s+(?:readonly\s+)?([A-Za-z_$][\w$]*)\??\s*:/.exec(line) : null;
    if (prop && !/\*\/\s*$/.test(lines[i - 1]!)) missing.push(prop[1]!);
    depth += (line.match(/{/g) ?? []).length - (line.match(/}/g) ?? []).length;
    if (i > start && depth === 0) return missing;
  }
  throw new Error(`interface ${name} does not end`);
}

const OPTION_INTERFACES: [string, string[]][] = [
  ['src/api/sampling.ts', ['SampleOptions', 'Samples', 'SamplePlan']],
  ['src/api/soft-diffusion.ts', ['LoadOptions', 'ModelInfo']],
  ['src/api/training.ts', ['TrainOptions', 'TrainRunOptions', 'TrainRunResult']],
  ['src/api/data.ts', ['ImageListData', 'SyntheticData']],
  ['src/api/pictures.ts', ['PictureOptions', 'RgbaPicture']],
  ['src/io/grid.ts', ['GridOptions']],
  ['src/train/options.ts', ['TrainerOptions']],
  ['src/nn/config.ts', ['UNetConfig']],
  ['src/gpu/adapter.ts', ['GpuOptions']],
];

describe('the API documents every option', () => {
  test.each(OPTION_INTERFACES)('%s', (file, names) => {
    const source = readFileSync(resolve(root, file), 'utf8');
    for (const name of names) expect(undocumented(source, name), `${file}: ${name}`).toEqual([]);
  });

  test('the check finds a missing comment (it can fail)', () => {
    const src = 'export interface X {\n  /** ok */\n  a: number;\n  b?: string;\n  /** nested */\n  c: { d: number };\n}\n';
    expect(undocumented(src, 'X')).toEqual(['b']);
  });
});
