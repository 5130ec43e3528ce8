// Imports point down (tests/architecture/layers.ts has the layers): a file in src/<a>/ imports only
// from src/<a>/ or from a folder of a lower layer, the package entry and the browser demo never import
// the Node runtime or the CLI, and every folder of src/ has a layer. The checker is tested on made-up
// files first, so that this test is known to fail on an upward import.
import { describe, expect, test } from 'vitest';
import { resolve } from 'node:path';
import { importsOf, layeringViolations, LAYERS, readSources } from './layers.ts';
import { readdirSync, statSync } from 'node:fs';

const root = resolve(import.meta.dirname, '../..');

describe('the layering checker', () => {
  test('finds static, type-only, re-export and dynamic imports, not commented ones', () => {
    const src = [
      "import { a } from '../gpu/gpu.ts';",
      "import type { B } from './b.ts';",
      "export { c } from '../kernels/c.ts';",
      "// import { d } from '../train/d.ts';",
      "const e = await import('../cli/e.ts');",
      "import {\n  f,\n  g,\n} from '../nn/f.ts';",
      "import 'vitest';",
    ].join('\n');
    expect(importsOf(src)).toEqual(['../gpu/gpu.ts', './b.ts', '../kernels/c.ts', '../cli/e.ts', '../nn/f.ts']);
  });

  test('an upward, a sideways and an unplaced import are violations; downward and same-folder ones are not', () => {
    const files = new Map([
      ['src/nn/unet.ts', "import { x } from '../diffusion/types.ts';\nimport { y } from '../kernels/conv2d.ts';\nimport { z } from './plan.ts';"],
      ['src/kernels/conv2d/direct.ts', "import { m } from '../matmul.ts';\nimport { d } from '../../data/dataset.ts';"],
      ['src/lab/toy.ts', "import { g } from '../gpu/gpu.ts';"],
      ['src/index.ts', "export * from './node/index.ts';"],
      ['demos/worker.ts', "import { t } from '../src/train/trainer.ts';"],
    ]);
    const v = layeringViolations(files);
    expect(v.map((x) => `${x.file} -> ${x.imports}`)).toEqual([
      'src/nn/unet.ts -> src/diffusion/types.ts',
      'src/kernels/conv2d/direct.ts -> src/data/dataset.ts',
      'src/lab/toy.ts -> src/gpu/gpu.ts',
      'src/index.ts -> src/node/index.ts',
    ]);
    expect(v[2]!.why).toMatch(/src\/lab\/ has no layer/);
  });
});

describe('the code', () => {
  test('every folder of src/ has a layer', () => {
    const folders = readdirSync(resolve(root, 'src')).filter((d) => statSync(resolve(root, 'src', d)).isDirectory());
    expect(folders.filter((d) => !(d in LAYERS)), 'folders of src/ missing from LAYERS').toEqual([]);
  });

  test('imports point down: no file in src/ or demos/ imports a layer at or above its own', () => {
    const files = readSources(root, ['src', 'demos']);
    expect(files.size).toBeGreaterThan(50);
    const v = layeringViolations(files).map((x) => `${x.file} imports ${x.imports}: ${x.why}`);
    expect(v).toEqual([]);
  });
});
