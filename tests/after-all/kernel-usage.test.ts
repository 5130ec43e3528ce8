// What the whole run did, from the kernel-usage reports every test file left (tests/helpers/
// kernel-usage.ts; src/gpu/kernel-usage.ts records them): every entry point of every shader was
// dispatched at least once (in Node or in Chromium), every shared WGSL file was compiled into a
// kernel, and every kernel variant was dispatched, inside the whole U-Net too (tests/nn/unet.test.ts).
// A test that only names a shader no longer counts; a new shader, entry point or variant that no test
// runs fails here. This project runs after the node and browser projects (vite.config.ts), so it
// needs the whole suite: `npm test`.
import { beforeAll, describe, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { shaderNames } from '../../src/gpu/shaders.ts';
import { CONV2D_VARIANTS } from '../../src/kernels/conv2d.ts';
import { MATMUL_VARIANTS } from '../../src/kernels/matmul.ts';
import { ATTENTION_VARIANTS } from '../../src/kernels/attention.ts';
import { GROUPNORM_VARIANTS } from '../../src/kernels/groupnorm.ts';
import { readUsage, type UsageRecord } from '../helpers/kernel-usage.ts';

let records: UsageRecord[] = [];
let dispatched = new Set<string>();
let includedSomewhere = new Set<string>();
const dispatchedIn = (rs: UsageRecord[]) => new Set(rs.flatMap((r) => r.report.dispatched));
beforeAll(() => {
  records = readUsage();
  dispatched = dispatchedIn(records);
  includedSomewhere = new Set(records.flatMap((r) => Object.values(r.report.modules).flat()));
});

/** The entry points of a shader file (functions marked @compute). */
function entryPoints(stem: string): string[] {
  const src = readFileSync(resolve(import.meta.dirname, '../../shaders', `${stem}.wgsl`), 'utf8');
  return [...src.matchAll(/@compute[^\n]*\n(?:\s*@[^\n]*\n)*\s*fn\s+(\w+)/g)].map((m) => m[1]!);
}

/** The kernel ids that prove a variant ran (kernel ids: "shader:entry[FLAGS]", kernel-usage.ts). */
const VARIANT_KERNELS: Record<string, Record<string, RegExp>> = {
  conv2d: { direct: /^conv2d_direct:/, tiled: /^conv2d_tiled:/, gemm: /^conv2d_gemm:im2col/, winograd: /^conv2d_winograd:/ },
  matmul: { tiled: /^matmul_tiled:/, reg8x8: /^matmul_regblock:matmul_regblock\[[^\]]*BLOCK8/, reg4x4: /^matmul_regblock:matmul_regblock(\[(?![^\]]*BLOCK8)[^\]]*\])?$/ },
  attention: { rows: /^attention:attn_forward/, lanes: /^attention_lanes:attn_forward/ },
  groupnorm: { serial: /^groupnorm:gn_stats_serial/, tree: /^groupnorm:gn_stats_tree/ },
};
const VARIANT_LISTS: Record<string, readonly string[]> = { conv2d: CONV2D_VARIANTS, matmul: MATMUL_VARIANTS, attention: ATTENTION_VARIANTS, groupnorm: GROUPNORM_VARIANTS };

describe('kernels the run dispatched', () => {
  test('every test file with a device left a report (run the whole suite with npm test)', () => {
    expect(records.filter((r) => r.runtime === 'node').length, 'Node reports of this run').toBeGreaterThan(20);
    expect(records.filter((r) => r.runtime === 'browser').length, 'Chromium reports of this run').toBeGreaterThan(3);
  });

  test('every entry point of every shader was dispatched', () => {
    const missing: string[] = [];
    for (const stem of shaderNames())
      for (const entry of entryPoints(stem)) {
        const prefix = `${stem}:${entry}`;
        if (![...dispatched].some((id) => id === prefix || id.startsWith(`${prefix}[`))) missing.push(prefix);
      }
    expect(missing, 'entry points no test dispatched').toEqual([]);
  });

  test('every shared WGSL file (no entry points) was compiled into a kernel', () => {
    const shared = shaderNames().filter((s) => entryPoints(s).length === 0);
    expect(shared.length).toBeGreaterThan(3);
    expect(shared.filter((s) => !includedSomewhere.has(s)), 'shared files no compiled kernel included').toEqual([]);
  });

  test('every kernel variant was dispatched, and each inside the whole U-Net', () => {
    const network = dispatchedIn(records.filter((r) => r.file === 'tests/nn/unet.test.ts'));
    for (const [op, names] of Object.entries(VARIANT_LISTS)) {
      expect(Object.keys(VARIANT_KERNELS[op]!).sort(), `signatures for every ${op} variant`).toEqual([...names].sort());
      for (const name of names) {
        const sig = VARIANT_KERNELS[op]![name]!;
        expect([...dispatched].some((id) => sig.test(id)), `${op} variant ${name} dispatched`).toBe(true);
        expect([...network].some((id) => sig.test(id)), `${op} variant ${name} dispatched in the U-Net test`).toBe(true);
      }
    }
  });
});
