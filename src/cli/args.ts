// Argument parsers for the commands: each says what it accepts, so that a wrong value ends with a
// message such as "--steps: expected a positive integer, got 'ten'" and exit code 2 (usage error).
import { InvalidArgumentError, type Command } from 'commander';

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`expected a positive integer, got '${value}'.`);
  return n;
}

export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n)) throw new InvalidArgumentError(`expected a non-negative integer, got '${value}'.`);
  return n;
}

/**
 * A parser for an integer in [min, max]; `why` says what the upper bound protects (src/limits.ts), so
 * that "--size 100000" reads "expected an integer in [1, 512] (the largest image size), got '100000'".
 */
export function intIn(min: number, max: number, why = ''): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`expected an integer in [${min}, ${max}]${why ? ` (${why})` : ''}, got '${value}'.`);
    return n;
  };
}

export function seedValue(value: string): number {
  const n = nonNegativeInt(value);
  if (n > 0xffffffff) throw new InvalidArgumentError(`expected an integer in [0, 4294967295], got '${value}'.`);
  return n;
}

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (!value.trim() || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a positive number, got '${value}'.`);
  return n;
}

export function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (!value.trim() || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`expected a non-negative number, got '${value}'.`);
  return n;
}

/** A parser for a number in [min, max]; `why` says what the upper bound is (src/limits.ts). */
export function numberIn(min: number, max: number, why = ''): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!value.trim() || !Number.isFinite(n) || n < min || n > max) throw new InvalidArgumentError(`expected a number in [${min}, ${max}]${why ? ` (${why})` : ''}, got '${value}'.`);
    return n;
  };
}

export function unitInterval(value: string): number {
  const n = Number(value);
  if (!value.trim() || !(n >= 0 && n <= 1)) throw new InvalidArgumentError(`expected a number in [0, 1], got '${value}'.`);
  return n;
}

/** A JSON object (e.g. U-Net config overrides). */
export function jsonObject(value: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(value);
  } catch {
    throw new InvalidArgumentError(`expected a JSON object such as '{"baseChannels": 8}', got '${value}'.`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new InvalidArgumentError(`expected a JSON object, got '${value}'.`);
  return v as Record<string, unknown>;
}

/** Where a command writes its messages (process streams by default; tests capture them). */
export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  /** The command line main() was given (recorded in a run folder's lock). */
  argv?: readonly string[];
  /** Stream for the progress bar (default process.stderr). */
  progress?: NodeJS.WritableStream & { isTTY?: boolean };
}

export const processIo: CliIo = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
};

/**
 * End the command with a usage error (exit code 2): a combination of flags, or a flag's value, that
 * cannot work, said with what to do instead (e.g. an --out that already holds a trained run).
 */
export function usageError(cmd: Command, message: string): never {
  cmd.error(`error: ${message}`, { exitCode: 2, code: 'softdiff.usage' });
  throw new Error('unreachable'); // cmd.error throws under exitOverride
}
