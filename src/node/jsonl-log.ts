// A JSON-lines log (one JSON object per line, appended): the loss curve of a training run, readable
// while the run goes on and by any tool (jq, pandas, the demo's plot). Each record is written with
// one write() call, so a crash leaves at most the last line incomplete; readJsonl skips such a line.
import { closeSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { EngineError } from '../gpu/errors.ts';

export class JsonlLog {
  private fd: number | null;
  constructor(readonly path: string) {
    try {
      mkdirSync(dirname(path), { recursive: true });
      this.fd = openSync(path, 'a');
    } catch (e) {
      throw new EngineError(`Cannot open the log ${path}: ${(e as Error).message}`, 'Check that the folder is writable.');
    }
  }
  append(record: Record<string, unknown>): void {
    if (this.fd === null) throw new EngineError(`The log ${this.path} is closed.`);
    writeSync(this.fd, `${JSON.stringify(record)}\n`);
  }
  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

/** Every complete record of a JSON-lines file (an unterminated or unparsable last line is skipped). */
export function readJsonl(path: string): Record<string, unknown>[] {
  const lines = readFileSync(path, 'utf8').split('\n');
  const out: Record<string, unknown>[] = [];
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch (e) {
      if (i < lines.length - 1 && lines.slice(i + 1).some((l) => l.trim())) throw new EngineError(`${path}: line ${i + 1} is not JSON (${(e as Error).message}).`);
    }
  });
  return out;
}
