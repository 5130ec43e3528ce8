// The shared WGSL (shaders/grid.wgsl, workgroup_reduce.wgsl, levels.wgsl) is written once: no kernel
// re-implements the grid1d index or a workgroup tree reduction, and the WGSL levels layout is the
// TypeScript one (src/kernels/levels.ts). Every include named in a shader exists.
import { describe, expect, test } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { LEVEL_COLUMN, LEVEL_STRIDE } from '../../src/kernels/levels.ts';
import { shaderNames, shaderSource } from '../../src/gpu/shaders.ts';

const dir = resolve(import.meta.dirname, '../../shaders');
const files = readdirSync(dir).filter((f) => f.endsWith('.wgsl'));
const text = (f: string) => readFileSync(resolve(dir, f), 'utf8').replace(/\/\/.*$/gm, '');

describe('shared WGSL', () => {
  test('the levels layout in WGSL equals the TypeScript one', () => {
    const wgsl = text('levels.wgsl');
    const constant = (name: string) => Number(new RegExp(`const ${name}: u32 = (\\d+)u;`).exec(wgsl)?.[1]);
    expect(constant('LEVEL_STRIDE')).toBe(LEVEL_STRIDE);
    expect({ t: constant('LEVEL_T'), level: constant('LEVEL_C'), sigma: constant('LEVEL_SIGMA'), weight: constant('LEVEL_WEIGHT') }).toEqual(LEVEL_COLUMN);
  });

  test('no kernel writes the grid1d index, a tree reduction or a levels offset by hand', () => {
    const own = (f: string, re: RegExp) => files.filter((g) => g !== f && re.test(text(g)));
    expect(own('grid.wgsl', /gid\.x \+ gid\.y \* nwg\.x|wid\.x \+ wid\.y \* nwg\.x/), 'hand-written grid1d index').toEqual([]);
    expect(own('workgroup_reduce.wgsl', /for \(var \w+ = WG \/ 2u/), 'hand-written workgroup tree reduction').toEqual([]);
    expect(own('levels.wgsl', /levels\w*\[[^\]]*\* 4u/), 'hand-written levels offset').toEqual([]);
  });

  test('every #include names a shader file, and expands', () => {
    for (const f of files) {
      for (const m of readFileSync(resolve(dir, f), 'utf8').matchAll(/^\s*#include\s+(\w+)\s*$/gm)) expect(shaderNames(), `${f} includes ${m[1]}`).toContain(m[1]);
      expect(shaderSource(f.replace(/\.wgsl$/, ''))).not.toMatch(/^\s*#include/m);
    }
  });
});
