#!/usr/bin/env node
// The "Measured" table of docs/score-matching.md: every lab objective trained on every named density
// (`softdiff lab`, 2000 steps, defaults otherwise), then the final J_ESM(p) of each run (the distance
// to the true score) as a markdown table, with the zero model's F(p)/2 as the first row.
//
//   node scripts/lab-table.mjs [--out runs/lab-table] [--run]
//
// --run trains the runs whose <out>/<density>-<objective>/objectives.json is missing (50 runs, each
// 15 s to 3 min on lavapipe; one at a time, under nice). Without it the table is made from the
// runs already there; a missing run is a '-' cell.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const DENSITIES = ['rings', 'grid', 'spiral', 'moons', 'gaussian'];
/** [run name, table label, softdiff lab flags]. */
const OBJECTIVES = [
  ['esm', 'esm', ['--objective', 'esm']],
  ['esm-smoothed', 'esm-smoothed', ['--objective', 'esm-smoothed']],
  ['esm-parzen', 'esm-parzen', ['--objective', 'esm-parzen']],
  ['ism', 'ism', ['--objective', 'ism']],
  ['ssm', 'ssm (1 Gaussian projection)', ['--objective', 'ssm']],
  ['ssm-rademacher', 'ssm (1 Rademacher projection)', ['--objective', 'ssm', '--projection', 'rademacher']],
  ['ssm-vr', 'ssm-vr (1 Gaussian projection)', ['--objective', 'ssm-vr']],
  ['dsm', 'dsm', ['--objective', 'dsm']],
  ['ncsn', 'ncsn (at sigma 0.05)', ['--objective', 'ncsn']],
  ['dae', 'dae (tied autoencoder)', ['--objective', 'dae']],
];
const RUN_FLAGS = ['--steps', '2000', '--eval-every', '250', '--chains', '512', '--langevin-steps', '200', '--size', '192', '--progress', 'off'];

const args = process.argv.slice(2);
const at = args.indexOf('--out');
const out = resolve(at >= 0 ? args[at + 1] : 'runs/lab-table');
const root = resolve(import.meta.dirname, '..');

const reportOf = (d, o) => {
  const f = join(out, `${d}-${o}`, 'objectives.json');
  return existsSync(f) ? JSON.parse(readFileSync(f, 'utf8')) : null;
};

if (args.includes('--run')) {
  for (const d of DENSITIES)
    for (const [o, , flags] of OBJECTIVES) {
      if (reportOf(d, o)) continue;
      const dir = join(out, `${d}-${o}`);
      const t0 = Date.now();
      const r = spawnSync('nice', ['-n', '10', 'node', 'scripts/run-ts.mjs', 'src/cli/main.ts', 'lab', '--density', d, ...flags, ...RUN_FLAGS, '--out', dir], { cwd: root, encoding: 'utf8' });
      const tail = ((r.status === 0 ? r.stdout : r.stderr) ?? '').trim().split('\n').pop();
      process.stderr.write(`${d} ${o}: rc ${r.status}, ${((Date.now() - t0) / 1000).toFixed(0)} s: ${tail}\n`);
    }
}

const fmt = (v) => (v === undefined || v === null ? '-' : Math.abs(v) >= 0.001 ? v.toPrecision(3) : v.toExponential(1).replace(/e([+-])(\d)$/, 'e$10$2'));
const lines = [`| objective | ${DENSITIES.join(' | ')} |`, `|---${'|---'.repeat(DENSITIES.length)}|`];
lines.push(`| zero model (F(p)/2) | ${DENSITIES.map((d) => fmt(OBJECTIVES.map(([o]) => reportOf(d, o)).find(Boolean)?.constants.cIsm)).join(' | ')} |`);
for (const [o, label] of OBJECTIVES) lines.push(`| ${label} | ${DENSITIES.map((d) => fmt(reportOf(d, o)?.final.esm)).join(' | ')} |`);
// Every evaluation point of every run: J_ESM(p) - (J_ISM + F(p)/2) and J_ESM(q_sigma) - (J_DSM + C_DSM)
// in standard errors of the paired per-point differences (zero in expectation).
let z = 0;
let points = 0;
for (const d of DENSITIES)
  for (const [o] of OBJECTIVES) {
    const r = reportOf(d, o);
    for (const p of r?.curve ?? []) {
      points++;
      z = Math.max(z, Math.abs(p.esm - p.ism - r.constants.cIsm) / p.seIsmPair, Math.abs(p.esmSmoothed - p.dsm - r.constants.cDsm) / p.seDsmPair);
    }
  }
console.log(lines.join('\n'));
console.log(`\n${points} evaluation points in ${out}; largest |pair - constant|: ${z.toFixed(2)} standard errors`);
