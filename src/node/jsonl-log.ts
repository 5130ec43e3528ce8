// A JSON-lines log (one JSON object per line, appended): the loss curve of a training run, readable
// while the run goes on and by any tool (jq, pandas, the demo's plot). Each record is written with
// one write() call, so a crash leaves at most the last line incomplete; readJsonl skips such a line.
import { closeSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { EngineError } from '../gpu/errors.ts';
import { fsError } from './files.ts';

export class JsonlLog {
  private fd: number | null = null;
  private closed = false;
  /** The file is created at the first record, so a run that fails before logging leaves no empty log. */
  constructor(readonly path: string) {}
  append(record: Record<string, unknown>): void {
    if (this.closed) throw new EngineError(`The log ${this.path} is closed.`);
    try {
      if (this.fd === null) {
        mkdirSync(dirname(this.path), { recursive: true });
        this.fd = openSync(this.path, 'a');
      }
      writeSync(this.fd, `${JSON.stringify(record)}\n`);
    } catch (e) {
      throw fsError(e, 'write the log', this.path, 'Check that the folder is writable and the disk has space.');
    }
  }
  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    this.closed = true;
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
