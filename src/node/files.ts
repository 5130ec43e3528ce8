// File-system plumbing shared by the commands: Node's error codes (ENOENT, EROFS, ...) turned into
// sentences a user can act on, and reading a whole file with an upper bound on its size that is
// checked before the bytes are allocated.
import { open } from 'node:fs/promises';
import { EngineError, ValueError } from '../gpu/errors.ts';
import { checkHeaderLength } from '../io/safetensors.ts';
import { MAX_CHECKPOINT_BYTES } from '../base/limits.ts';

/** What an fs error means for `path`, in words (falls back to Node's message). */
export function describeFsError(e: unknown, path: string): string {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  switch (code) {
    case 'ENOENT':
      return `${path} does not exist`;
    case 'ENOTDIR':
      return `a part of the path ${path} is a file, not a folder`;
    case 'EISDIR':
      return `${path} is a folder, not a file`;
    case 'EACCES':
    case 'EPERM':
      return `permission to ${path} is denied`;
    case 'EROFS':
      return `${path} is on a read-only file system`;
    case 'ENOSPC':
      return `the disk holding ${path} is full`;
    case 'EDQUOT':
      return `the disk quota for ${path} is used up`;
    case 'EEXIST':
      return `${path} already exists`;
    case 'ENAMETOOLONG':
      return `the path ${path} is too long`;
    case 'EMFILE':
    case 'ENFILE':
      return `too many files are open (while opening ${path})`;
    default:
      return `${path}: ${(e as Error)?.message ?? String(e)}`;
  }
}

/** An EngineError for a failed file operation: "Cannot <action>: <reason>." plus a hint. */
export function fsError(e: unknown, action: string, path: string, hint?: string): EngineError {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  const fix =
    hint ??
    (code === 'ENOENT' || code === 'ENOTDIR' ? 'Check the path.'
    : code === 'EACCES' || code === 'EPERM' || code === 'EROFS' ? 'Choose a writable location or change the permissions.'
    : code === 'ENOSPC' || code === 'EDQUOT' ? 'Free some space or choose another disk.'
    : '');
  return new EngineError(`Cannot ${action}: ${describeFsError(e, path)}.`, fix);
}

/**
 * The whole file, refusing (before reading) one larger than `maxBytes`. `what` names the file's role
 * in messages ("checkpoint", "--blur-schedule file"). `check` may refuse the file from its first 8
 * bytes (and its size) before the rest is read.
 */
export async function readFileBounded(path: string, maxBytes: number, what: string, hint = 'Check the path.', check?: (prefix: Uint8Array, size: number) => void): Promise<Uint8Array> {
  let fh;
  try {
    fh = await open(path, 'r');
    const { size } = await fh.stat();
    if (size > maxBytes) throw new ValueError(`The ${what} ${path} has ${size} bytes, more than the ${maxBytes} softdiff reads.`, `It is not a file softdiff wrote or expects; ${hint[0]!.toLowerCase()}${hint.slice(1)}`);
    const fill = async (into: Uint8Array, from: number, to: number) => {
      let at = from;
      while (at < to) {
        const { bytesRead } = await fh!.read(into, at, to - at, at);
        if (bytesRead === 0) break;
        at += bytesRead;
      }
      return at;
    };
    if (check) {
      // Refuse from the prefix before the file's size is allocated or the rest is read.
      const prefix = new Uint8Array(8);
      check(prefix.subarray(0, await fill(prefix, 0, Math.min(8, size))), size);
    }
    const bytes = new Uint8Array(size);
    const at = await fill(bytes, 0, size);
    return at === size ? bytes : bytes.subarray(0, at);
  } catch (e) {
    if (e instanceof EngineError) throw e;
    throw fsError(e, `read the ${what}`, path, hint);
  } finally {
    await fh?.close().catch(() => {});
  }
}

/**
 * A safetensors file (a checkpoint), whole. Its first 8 bytes are checked before the rest is read, so
 * a file whose header claims more than the bound is refused without reading it.
 */
export function readSafetensorsFile(path: string, what = 'checkpoint'): Promise<Uint8Array> {
  return readFileBounded(path, MAX_CHECKPOINT_BYTES, what, 'Check the path.', (prefix, size) => void checkHeaderLength(prefix, size, path));
}
