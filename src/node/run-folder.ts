// The folder a training run writes into (checkpoint.safetensors, loss.jsonl, options.json, samples/),
// guarded so that nothing a user trained is lost:
//   - a lock file (.softdiff.lock: pid, host, start time, command line) makes a second run into the
//     same folder refuse, naming the first; the lock of a process that no longer runs is taken over;
//   - a folder that already holds a checkpoint is refused unless the run resumes that very checkpoint
//     or `force` says to replace it;
//   - temporary files of an atomic write that a killed process left behind are removed (the lock
//     guarantees that no other writer is using them);
//   - on resume the loss log is cut back to the checkpoint's step, so resumed steps are not repeated;
//   - a folder this run created and that holds nothing useful after a failure is removed again.
import { hostname } from 'node:os';
import { open, readFile, readdir, realpath, rename, rm, stat, unlink, mkdir } from 'node:fs/promises';
import { createReadStream, createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { EngineError } from '../gpu/errors.ts';
import { fsError } from './files.ts';

export const CHECKPOINT_FILE = 'checkpoint.safetensors';
export const LOSS_LOG_FILE = 'loss.jsonl';
export const OPTIONS_FILE = 'options.json';
export const SAMPLES_DIR = 'samples';
export const LOCK_FILE = '.softdiff.lock';

/** Temporary files of writeFileAtomic: `.<name>.<pid>.<random>.tmp`. */
const TEMP_FILE = /^\..+\.\d+\.[a-z0-9]+\.tmp$/;

export interface LockInfo {
  pid: number;
  host: string;
  started: string;
  command: string;
}

export interface RunFolderOptions {
  /** The checkpoint this run resumes (it may live in this folder). */
  resume?: string;
  /** Replace a run already in the folder (its checkpoint, log, options and previews are removed). */
  force?: boolean;
  /** The command line, recorded in the lock so that a second run can name this one. */
  command?: string;
  /** The flag that names the folder, for messages (default '--out'). */
  flag?: string;
}

/** The folder holds another run's checkpoint: the caller reports it as a usage error. */
export class RunFolderExistsError extends EngineError {}

/** Another live process holds the folder's lock. */
export class RunFolderLockedError extends EngineError {}

export class RunFolder {
  /** What opening did, for the user: a stale lock taken over, leftovers removed. */
  readonly notes: string[] = [];
  private released = false;

  private constructor(
    readonly dir: string,
    /** This run created the folder (so it may remove it again when the run leaves nothing). */
    readonly created: boolean,
  ) {}

  get checkpoint(): string {
    return join(this.dir, CHECKPOINT_FILE);
  }
  get log(): string {
    return join(this.dir, LOSS_LOG_FILE);
  }
  get options(): string {
    return join(this.dir, OPTIONS_FILE);
  }
  get samples(): string {
    return join(this.dir, SAMPLES_DIR);
  }
  get lock(): string {
    return join(this.dir, LOCK_FILE);
  }

  /** Create (if needed), lock and check the folder; see the file comment. */
  static async open(dir: string, opts: RunFolderOptions = {}): Promise<RunFolder> {
    const flag = opts.flag ?? '--out';
    let existed = true;
    try {
      const s = await stat(dir);
      if (!s.isDirectory()) throw new EngineError(`The output folder ${dir} (${flag}) is a file, not a folder.`, `Pass a folder path with ${flag}.`);
    } catch (e) {
      if (e instanceof EngineError) throw e;
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw fsError(e, `use the output folder (${flag})`, dir, `Choose another folder with ${flag}.`);
      existed = false;
    }
    try {
      await mkdir(join(dir, SAMPLES_DIR), { recursive: true });
    } catch (e) {
      throw fsError(e, `create the output folder (${flag})`, dir, `Choose a writable folder with ${flag}.`);
    }
    const folder = new RunFolder(dir, !existed);
    try {
      await folder.takeLock(opts.command ?? process.argv.slice(1).join(' '), flag);
    } catch (e) {
      if (folder.created) await rm(dir, { recursive: true, force: true }).catch(() => {});
      throw e;
    }
    try {
      await folder.checkExistingRun(opts, flag);
      await folder.removeLeftovers();
    } catch (e) {
      await folder.release(true);
      throw e;
    }
    return folder;
  }

  /**
   * Cut the loss log back to the records with step <= `step` (a resumed run re-does the steps after
   * its checkpoint). Streams the file through a temporary copy; returns the number of records removed.
   */
  async trimLog(step: number): Promise<number> {
    const log = this.log;
    try {
      await stat(log);
    } catch {
      return 0;
    }
    const tmp = join(this.dir, `.${LOSS_LOG_FILE}.${process.pid}.trim.tmp`);
    let removed = 0;
    try {
      const out = createWriteStream(tmp, { flags: 'wx' });
      const lines = createInterface({ input: createReadStream(log, 'utf8'), crlfDelay: Infinity });
      for await (const line of lines) {
        if (!line.trim()) continue;
        let s: unknown;
        try {
          s = (JSON.parse(line) as { step?: unknown }).step;
        } catch {
          removed++; // an unterminated last line of a killed run
          continue;
        }
        if (typeof s === 'number' && s > step) {
          removed++;
          continue;
        }
        if (!out.write(`${line}\n`)) await new Promise<void>((r) => out.once('drain', () => r()));
      }
      await new Promise<void>((res, rej) => out.end((e?: Error | null) => (e ? rej(e) : res())));
      if (removed > 0) await rename(tmp, log);
      else await unlink(tmp);
    } catch (e) {
      await unlink(tmp).catch(() => {});
      throw fsError(e, 'update the loss log', log);
    }
    return removed;
  }

  /**
   * Unlock. After a failed run, a folder this run created that holds no checkpoint, no preview and
   * no loss record is removed, so a failure does not leave an empty --out behind.
   */
  async release(failed: boolean): Promise<void> {
    if (this.released) return;
    this.released = true;
    await unlink(this.lock).catch(() => {});
    if (failed && this.created && !(await this.holdsResults())) await rm(this.dir, { recursive: true, force: true }).catch(() => {});
  }

  private async holdsResults(): Promise<boolean> {
    const size = async (p: string) => (await stat(p).catch(() => null))?.size ?? 0;
    if ((await size(this.checkpoint)) > 0 || (await size(this.log)) > 0) return true;
    const samples = await readdir(this.samples).catch(() => [] as string[]);
    return samples.length > 0;
  }

  private async takeLock(command: string, flag: string): Promise<void> {
    const info: LockInfo = { pid: process.pid, host: hostname(), started: new Date().toISOString(), command };
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fh = await open(this.lock, 'wx');
        await fh.writeFile(`${JSON.stringify(info)}\n`);
        await fh.close();
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw fsError(e, `write into the output folder (${flag})`, this.dir, `Choose a writable folder with ${flag}.`);
      }
      const holder = await readLock(this.lock);
      if (holder && holder.host === info.host && !processAlive(holder.pid)) {
        await unlink(this.lock).catch(() => {});
        this.notes.push(`took over the lock of an earlier run (pid ${holder.pid}, started ${holder.started}) that no longer runs`);
        continue;
      }
      if (!holder) {
        // Unreadable or empty: a process killed between creating and writing it, or a foreign file.
        throw new RunFolderLockedError(`The output folder ${this.dir} is locked (${this.lock} exists but says nothing about its run).`, `If no softdiff run is writing there, delete ${this.lock}; or use another ${flag}.`);
      }
      throw new RunFolderLockedError(
        `Another softdiff run is writing into ${this.dir}: pid ${holder.pid} on ${holder.host}, started ${holder.started} (${holder.command}).`,
        `Wait for it to finish or stop it, or use another ${flag}. If that run is gone (another machine), delete ${this.lock}.`,
      );
    }
    throw new RunFolderLockedError(`Could not lock ${this.dir}: another run keeps taking the lock.`, `Use another ${flag}.`);
  }

  private async checkExistingRun(opts: RunFolderOptions, flag: string): Promise<void> {
    const ckpt = this.checkpoint;
    const exists = await stat(ckpt).then(() => true, () => false);
    const resumeHere = !!opts.resume && (await sameFile(dirname(opts.resume), this.dir));
    const resumingIt = resumeHere && exists && (await sameFile(opts.resume!, ckpt));
    if (exists && !resumingIt && !opts.force)
      throw new RunFolderExistsError(
        `${this.dir} already holds a trained run (${ckpt}); it would be overwritten.`,
        `Continue it with --resume ${ckpt}, replace it with --force, or train into another ${flag}.`,
      );
    // Resuming in the run's own folder: its log and previews continue (the log is cut back to the step).
    if (resumeHere) return;
    // A new run starts from clean files: an earlier run's log, options and previews would mix with its own.
    const old = [LOSS_LOG_FILE, OPTIONS_FILE, ...(opts.force ? [CHECKPOINT_FILE] : [])].map((f) => join(this.dir, f));
    const previews = (await readdir(this.samples).catch(() => [] as string[])).filter((f) => /^step-\d+\.png$|^latest\.png$/.test(f)).map((f) => join(this.samples, f));
    let removed = 0;
    for (const p of [...old, ...previews]) {
      try {
        await unlink(p);
        removed++;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw fsError(e, 'replace the earlier run', p, `Choose another ${flag}.`);
      }
    }
    if (removed) this.notes.push(`removed ${removed} file${removed === 1 ? '' : 's'} of an earlier run in ${this.dir}${opts.force ? ' (--force)' : ' (it had no checkpoint)'}`);
  }

  private async removeLeftovers(): Promise<void> {
    let n = 0;
    for (const d of [this.dir, this.samples])
      for (const f of await readdir(d).catch(() => [] as string[]))
        if (TEMP_FILE.test(f)) {
          await unlink(join(d, f)).catch(() => {});
          n++;
        }
    if (n) this.notes.push(`removed ${n} temporary file${n === 1 ? '' : 's'} left by an interrupted write`);
  }
}

async function readLock(path: string): Promise<LockInfo | null> {
  try {
    const v = JSON.parse(await readFile(path, 'utf8')) as Partial<LockInfo>;
    if (typeof v.pid !== 'number' || !Number.isInteger(v.pid) || v.pid <= 0 || typeof v.host !== 'string') return null;
    return { pid: v.pid, host: v.host, started: String(v.started ?? '?'), command: String(v.command ?? '?') };
  } catch {
    return null;
  }
}

/** Whether a process with this pid exists on this machine (EPERM: it exists but belongs to another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function sameFile(a: string, b: string): Promise<boolean> {
  try {
    return (await realpath(a)) === (await realpath(b));
  } catch {
    return false;
  }
}
