import { describe, expect, test } from 'vitest';
import { mkdtempSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Progress, defaultProgressMode, formatDuration } from '../../src/node/progress.ts';
import { JsonlLog, readJsonl } from '../../src/node/jsonl-log.ts';
import { EngineError } from '../../src/gpu/errors.ts';

function sink(isTTY = false) {
  const chunks: string[] = [];
  const s = new Writable({ write(c, _e, cb) { chunks.push(String(c)); cb(); } }) as Writable & { isTTY?: boolean };
  s.isTTY = isTTY;
  return { s, text: () => chunks.join('') };
}

describe('progress', () => {
  test('plain lines every interval with it/s and ETA, and a last line on stop', () => {
    let t = 0;
    const out = sink();
    const p = new Progress({ total: 100, label: 'train', stream: out.s, intervalSeconds: 10, now: () => t });
    expect(p.mode).toBe('lines');
    t = 5000;
    p.update(10, { loss: 0.012345 });
    expect(out.text()).toBe(''); // before the first interval
    t = 10000;
    p.update(20);
    expect(out.text()).toBe('train: 20/100 (20.0%) 2.00 it/s ETA 40s loss=0.01235\n');
    t = 12000;
    p.increment(4);
    p.stop();
    p.stop();
    expect(out.text().split('\n')[1]).toBe('train: 24/100 (24.0%) 2.00 it/s ETA 38s loss=0.01235');
    expect(out.text().split('\n').length).toBe(3);
  });

  test('mode: a bar only on a TTY outside CI; off prints nothing', () => {
    const saved = process.env.CI;
    try {
      delete process.env.CI;
      expect(defaultProgressMode({ isTTY: true })).toBe('bar');
      expect(defaultProgressMode({ isTTY: false })).toBe('lines');
      process.env.CI = 'true';
      expect(defaultProgressMode({ isTTY: true })).toBe('lines');
    } finally {
      if (saved === undefined) delete process.env.CI;
      else process.env.CI = saved;
    }
    const out = sink();
    const p = new Progress({ total: 3, stream: out.s, mode: 'off' });
    p.update(3);
    p.stop();
    expect(out.text()).toBe('');
  });

  test('the bar (forced) shows value/total and it/s', () => {
    const out = sink(true);
    let t = 0;
    const p = new Progress({ total: 10, label: 'sample', stream: out.s, mode: 'bar', now: () => t });
    t = 1000;
    p.update(5, { loss: 1 });
    p.stop();
    expect(out.text()).toMatch(/sample \[.*\] 5\/10 \| 5\.00 it\/s/);
  });

  test('durations', () => {
    expect([formatDuration(5), formatDuration(125), formatDuration(7322), formatDuration(Infinity)]).toEqual(['5s', '2m05s', '2h02m', '?']);
  });
});

describe('JSON-lines log', () => {
  test('appends records that read back; a torn last line is skipped, a bad middle line is an error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'softdiff-log-'));
    const path = join(dir, 'sub', 'loss.jsonl');
    const log = new JsonlLog(path);
    log.append({ step: 1, loss: 0.5 });
    log.append({ step: 2, loss: 0.25, lr: 1e-4 });
    log.close();
    expect(() => log.append({ step: 3 })).toThrow(EngineError);
    const again = new JsonlLog(path); // appends, does not truncate
    again.append({ step: 3, loss: 0.125 });
    again.close();
    expect(readJsonl(path)).toEqual([{ step: 1, loss: 0.5 }, { step: 2, loss: 0.25, lr: 1e-4 }, { step: 3, loss: 0.125 }]);
    appendFileSync(path, '{"step": 4, "lo');
    expect(readJsonl(path).length).toBe(3);
    appendFileSync(path, '\n{"step": 5}\n');
    expect(() => readJsonl(path)).toThrow(/line 4 is not JSON/);
  });
});
